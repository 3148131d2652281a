// Evaluates the CloudFormation intrinsic functions that a local runtime can know the
// answer to (parameters, pseudo parameters, names and ARNs of resources it stands in
// for), so a template is read the way CloudFormation would read it.
import type { CfnTemplate, CfnValue } from "./cfn-template.ts";

export interface IntrinsicContext {
  template: CfnTemplate;
  /** Parameter values after defaults and overrides. */
  parameters: Record<string, string>;
  region: string;
  accountId: string;
  stackName: string;
  /** What `!Ref LogicalId` stands for, per resource (a table's name, a function's name...). */
  refs: Record<string, string>;
  /** What `!GetAtt LogicalId.Attribute` stands for, keyed "LogicalId.Attribute". */
  attributes: Record<string, string>;
}

export class UnresolvableIntrinsicError extends Error {
  override name = "UnresolvableIntrinsicError";
}

/** Marks a value that `!Ref AWS::NoValue` removed, so its containing key is dropped. */
const noValue = Symbol("AWS::NoValue");

export function pseudoParameter(name: string, context: IntrinsicContext): string | undefined {
  switch (name) {
    case "AWS::Region":
      return context.region;
    case "AWS::AccountId":
      return context.accountId;
    case "AWS::StackName":
      return context.stackName;
    case "AWS::StackId":
      return `arn:aws:cloudformation:${context.region}:${context.accountId}:stack/${context.stackName}/00000000-0000-0000-0000-000000000000`;
    case "AWS::Partition":
      return "aws";
    case "AWS::URLSuffix":
      return "amazonaws.com";
    case "AWS::NotificationARNs":
      return "";
    default:
      return undefined;
  }
}

function resolveRef(name: string, context: IntrinsicContext): string | string[] {
  const pseudo = pseudoParameter(name, context);
  if (pseudo !== undefined) return pseudo;
  if (name in context.parameters) {
    const value = context.parameters[name] as string;
    // A list parameter's Ref is a list, as CloudFormation gives it to !Join and !Select.
    const type = context.template.Parameters?.[name]?.Type ?? "";
    return type === "CommaDelimitedList" || type.startsWith("List<") ? value.split(",") : value;
  }
  if (name in context.refs) return context.refs[name] as string;
  if (name in context.template.Resources) return name;
  throw new UnresolvableIntrinsicError(`!Ref ${name}: no such parameter or resource`);
}

function resolveGetAtt(logicalId: string, attribute: string, context: IntrinsicContext): string {
  const known = context.attributes[`${logicalId}.${attribute}`];
  if (known !== undefined) return known;
  throw new UnresolvableIntrinsicError(
    `!GetAtt ${logicalId}.${attribute} has no local value (only ${Object.keys(context.attributes).join(", ") || "none"})`,
  );
}

function substitute(text: string, variables: Record<string, unknown>, context: IntrinsicContext) {
  // ${!Literal} is CloudFormation's escape for a literal "${Literal}".
  return text.replace(/\$\{([^}]*)\}/g, (_whole, inner: string) => {
    if (inner.startsWith("!")) return `\${${inner.slice(1)}}`;
    const name = inner.trim();
    if (name in variables) return String(variables[name]);
    const dot = name.indexOf(".");
    if (dot > 0 && !name.startsWith("AWS::")) {
      return resolveGetAtt(name.slice(0, dot), name.slice(dot + 1), context);
    }
    return String(resolveRef(name, context));
  });
}

function evaluateCondition(name: string, context: IntrinsicContext): boolean {
  const conditions = (context.template as { Conditions?: Record<string, CfnValue> }).Conditions;
  if (!conditions || !(name in conditions)) {
    throw new UnresolvableIntrinsicError(`condition ${name} is not defined`);
  }
  return Boolean(evaluate(conditions[name], context));
}

function asList(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new UnresolvableIntrinsicError(`${what} expects a list`);
  return value;
}

function resolveFunction(name: string, argument: CfnValue, context: IntrinsicContext): unknown {
  switch (name) {
    case "Ref":
      return argument === "AWS::NoValue" ? noValue : resolveRef(String(argument), context);
    case "Fn::GetAtt": {
      const [logicalId, attribute] =
        typeof argument === "string"
          ? [argument.slice(0, argument.indexOf(".")), argument.slice(argument.indexOf(".") + 1)]
          : asList(evaluate(argument, context), "Fn::GetAtt").map(String);
      return resolveGetAtt(String(logicalId), String(attribute), context);
    }
    case "Fn::Sub": {
      if (typeof argument === "string") return substitute(argument, {}, context);
      const [text, variables] = asList(argument, "Fn::Sub");
      const resolved = evaluate(variables ?? {}, context) as Record<string, unknown>;
      return substitute(String(text), resolved, context);
    }
    case "Fn::Join": {
      const [delimiter, items] = asList(argument, "Fn::Join");
      return asList(evaluate(items, context), "Fn::Join").map(String).join(String(delimiter));
    }
    case "Fn::Select": {
      const [index, items] = asList(evaluate(argument, context), "Fn::Select");
      return asList(items, "Fn::Select")[Number(index)];
    }
    case "Fn::Split": {
      const [delimiter, text] = asList(evaluate(argument, context), "Fn::Split");
      return String(text).split(String(delimiter));
    }
    case "Fn::Base64":
      return Buffer.from(String(evaluate(argument, context))).toString("base64");
    case "Fn::If": {
      const [condition, whenTrue, whenFalse] = asList(argument, "Fn::If");
      return evaluate(
        evaluateCondition(String(condition), context) ? whenTrue : whenFalse,
        context,
      );
    }
    case "Fn::Equals": {
      const [left, right] = asList(evaluate(argument, context), "Fn::Equals");
      return String(left) === String(right);
    }
    case "Fn::Not":
      return !asList(evaluate(argument, context), "Fn::Not")[0];
    case "Fn::And":
      return asList(evaluate(argument, context), "Fn::And").every(Boolean);
    case "Fn::Or":
      return asList(evaluate(argument, context), "Fn::Or").some(Boolean);
    case "Condition":
      return evaluateCondition(String(argument), context);
    case "Fn::FindInMap": {
      const [map, first, second] = asList(evaluate(argument, context), "Fn::FindInMap");
      type Mappings = Record<string, Record<string, Record<string, unknown>>>;
      const mappings = (context.template as { Mappings?: Mappings }).Mappings;
      const found = mappings?.[String(map)]?.[String(first)]?.[String(second)];
      if (found === undefined) {
        throw new UnresolvableIntrinsicError(`!FindInMap [${map}, ${first}, ${second}] not found`);
      }
      return found;
    }
    default:
      throw new UnresolvableIntrinsicError(`${name} cannot be evaluated locally`);
  }
}

function intrinsicName(value: object): string | undefined {
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const [key] = keys as [string];
  return key === "Ref" || key === "Condition" || key.startsWith("Fn::") ? key : undefined;
}

/**
 * Returns the value with every intrinsic function evaluated; undefined when the whole value is
 * `!Ref AWS::NoValue` (a property written `!If [Cond, x, !Ref AWS::NoValue]` is then absent).
 * Throws UnresolvableIntrinsicError for what only a real deployment could know.
 */
export function resolveIntrinsics(value: CfnValue, context: IntrinsicContext): unknown {
  const resolved = evaluate(value, context);
  return resolved === noValue ? undefined : resolved;
}

/**
 * resolveIntrinsics for one reader of the template: what cannot be resolved becomes that
 * reader's own error, saying where in the template it stands.
 */
export function intrinsicsResolver(
  context: IntrinsicContext,
  errorAt: (message: string) => Error,
): (value: CfnValue, where: string) => unknown {
  return (value, where) => {
    try {
      return resolveIntrinsics(value, context);
    } catch (error) {
      if (error instanceof UnresolvableIntrinsicError) throw errorAt(`${where}: ${error.message}`);
      throw error;
    }
  };
}

function evaluate(value: CfnValue, context: IntrinsicContext): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => evaluate(item, context)).filter((item) => item !== noValue);
  }
  if (value === null || typeof value !== "object") return value;
  const name = intrinsicName(value);
  if (name) return resolveFunction(name, (value as Record<string, CfnValue>)[name], context);
  const resolved: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const itemValue = evaluate(item, context);
    if (itemValue !== noValue) resolved[key] = itemValue;
  }
  return resolved;
}
