// Reads a CloudFormation / SAM template with its short-form intrinsic tags
// (!Ref, !Sub, !GetAtt, ...) kept as the long-form objects CloudFormation itself sees.
import { readFileSync } from "node:fs";
import { parse, type Tags } from "yaml";

export type CfnValue = unknown;

export interface CfnResource {
  Type: string;
  Properties?: Record<string, CfnValue>;
  Metadata?: Record<string, CfnValue>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export interface CfnTemplate {
  Parameters?: Record<string, { Type: string; Default?: string; Description?: string }>;
  Globals?: Record<string, Record<string, CfnValue>>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, CfnValue>;
}

const intrinsicNames = [
  "Ref",
  "Sub",
  "GetAtt",
  "Join",
  "Select",
  "Split",
  "If",
  "Equals",
  "Not",
  "And",
  "Or",
  "FindInMap",
  "Base64",
  "Cidr",
  "GetAZs",
  "ImportValue",
  "Condition",
] as const;

function longFormName(name: string): string {
  return name === "Ref" || name === "Condition" ? name : `Fn::${name}`;
}

// One tag per node kind, so `!Sub "x"` and `!Sub [x, {...}]` both parse.
const intrinsicTags: Tags = intrinsicNames.flatMap((name) =>
  (["scalar", "seq", "map"] as const).map((nodeKind) => ({
    tag: `!${name}`,
    collection: nodeKind === "scalar" ? undefined : nodeKind,
    resolve(value: unknown) {
      const plain =
        value && typeof value === "object" && "toJSON" in value
          ? (value as { toJSON(): unknown }).toJSON()
          : value;
      // !GetAtt Resource.Attribute is the short form of ["Resource", "Attribute"].
      if (name === "GetAtt" && typeof plain === "string") {
        const dot = plain.indexOf(".");
        return { [longFormName(name)]: [plain.slice(0, dot), plain.slice(dot + 1)] };
      }
      return { [longFormName(name)]: plain };
    },
  })),
) as Tags;

export function parseCfnTemplate(text: string): CfnTemplate {
  const template = parse(text, { customTags: intrinsicTags }) as CfnTemplate;
  if (!template || typeof template !== "object" || !template.Resources) {
    throw new Error("not a CloudFormation template: it has no Resources section");
  }
  return template;
}

export function loadCfnTemplate(path: string): CfnTemplate {
  return parseCfnTemplate(readFileSync(path, "utf8"));
}
