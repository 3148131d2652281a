// Each operation's request is checked by the validators that `npm run generate` precompiled
// from openapi.yaml: parameters (path, query, headers, coerced from strings to their declared
// types) and the JSON body (never coerced). @middy/validator runs the combined check.

import type { ErrorObject, ValidateFunction } from "ajv";
import type { APIGatewayProxyEvent } from "aws-lambda";
import type { OperationRoute } from "../../generated/operations.ts";
import * as bodyValidators from "../../generated/validators/bodies.js";
import * as parameterValidators from "../../generated/validators/parameters.js";

export interface FieldProblem {
  /** JSON pointer into the request: /body/title, /query/limit, /path/id, /header/if-match. */
  pointer: string;
  detail: string;
}

/** A validate function as @middy/validator expects it; `errors` holds FieldProblems. */
export type EventValidator = ((event: APIGatewayProxyEvent) => boolean) & {
  errors?: FieldProblem[] | null;
};

// Only the canonical spelling of an integer becomes a number; "1e400", "0x10" and " 5" stay
// strings and fail the contract's `type: integer`.
const canonicalInteger = /^-?(0|[1-9][0-9]{0,14})$/;

function parseIntegers(query: Record<string, unknown>, names: readonly string[]) {
  for (const name of names) {
    const value = query[name];
    if (typeof value === "string" && canonicalInteger.test(value)) query[name] = Number(value);
  }
}

export function requestValidatorFor({
  operationId,
  integerQueryParameters,
  queryDefaults,
}: OperationRoute): EventValidator {
  const validateParameters = (parameterValidators as Record<string, ValidateFunction>)[operationId];
  const validateBody = (bodyValidators as Record<string, ValidateFunction | undefined>)[
    operationId
  ];
  if (!validateParameters) throw new Error(`no generated validator for ${operationId}`);

  const validate: EventValidator = (event) => {
    const parameters = {
      path: { ...event.pathParameters },
      query: { ...event.queryStringParameters },
      header: { ...event.headers },
    };
    parseIntegers(parameters.query, integerQueryParameters);
    const errors: ErrorObject[] = [];
    if (!validateParameters(parameters)) errors.push(...(validateParameters.errors ?? []));
    if (validateBody && !validateBody(event.body)) {
      for (const error of validateBody.errors ?? []) {
        errors.push({ ...error, instancePath: `/body${error.instancePath}` });
      }
    }
    if (validateBody) errors.push(...unpairedSurrogates(event.body));
    if (errors.length) {
      validate.errors = describeProblems(errors);
      return false;
    }
    validate.errors = null;
    // The handlers read the parsed values (limit as a number, not "20"), with the contract's
    // defaults for what the request left out.
    event.pathParameters = parameters.path as APIGatewayProxyEvent["pathParameters"];
    event.queryStringParameters = {
      ...queryDefaults,
      ...parameters.query,
    } as APIGatewayProxyEvent["queryStringParameters"];
    return true;
  };
  return validate;
}

// JSON lets "\ud800" through, and a string holding half a surrogate pair cannot be stored as
// UTF-8 without changing it. The contract says so in words: regex engines (Schemathesis' among
// them) cannot express it as a pattern.
function unpairedSurrogates(body: unknown): ErrorObject[] {
  // The contract's bodies are flat objects of strings (anything nested is already refused as
  // an unknown field), so only their own top-level strings need the check: no walk, however
  // deep a hostile body nests.
  if (!body || typeof body !== "object" || Array.isArray(body)) return [];
  return Object.entries(body)
    .filter(([, value]) => typeof value === "string" && !value.isWellFormed())
    .map(([key]) => ({
      instancePath: `/body/${escapePointerToken(key)}`,
      schemaPath: "#/wellFormed",
      keyword: "wellFormed",
      params: {},
      message: "must not contain unpaired surrogates",
    }));
}

// Messages for the contract's patterns, which ajv can only quote, by the field they check
// (the last token of the pointer: /body/title, /path/id, /header/idempotency-key...).
const patternDetails: Record<string, string> = {
  title: "must contain a character other than white space, and no control characters",
  description: "must not contain control characters other than tab and line breaks",
  id: "must be a todo id (a lower-case UUIDv7)",
  nextToken: "must be the nextToken of an earlier page",
  "idempotency-key": "must be 1 to 255 visible ASCII characters",
};

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

const escapePointerToken = (token: string) => token.replaceAll("~", "~0").replaceAll("/", "~1");

function detailOf(error: ErrorObject): { pointer: string; detail: string } {
  const { instancePath, keyword, params } = error;
  switch (keyword) {
    case "required":
      return {
        pointer: `${instancePath}/${escapePointerToken(params.missingProperty)}`,
        detail: "is required",
      };
    case "additionalProperties":
      return {
        pointer: `${instancePath}/${escapePointerToken(params.additionalProperty)}`,
        detail:
          instancePath === "/query" ? "is not a known query parameter" : "is not a known field",
      };
    case "minProperties":
      return { pointer: instancePath, detail: "must have at least one field" };
    case "enum":
      return {
        pointer: instancePath,
        detail: `must be one of: ${(params.allowedValues as string[]).join(", ")}`,
      };
    case "type":
      return {
        pointer: instancePath,
        detail:
          params.type === "object" ? "must be a JSON object" : `must be ${article(params.type)}`,
      };
    // The validators carry no messages of their own (npm run generate leaves them out, which
    // keeps the bundle small): every keyword the contract uses is worded here.
    case "minLength":
      return {
        pointer: instancePath,
        detail: `must have at least ${count(params.limit, "character")}`,
      };
    case "maxLength":
      return {
        pointer: instancePath,
        detail: `must have at most ${count(params.limit, "character")}`,
      };
    case "minimum":
      return { pointer: instancePath, detail: `must be at least ${params.limit}` };
    case "maximum":
      return { pointer: instancePath, detail: `must be at most ${params.limit}` };
    case "format":
      return { pointer: instancePath, detail: `must be a valid ${params.format}` };
    case "pattern":
      return {
        pointer: instancePath,
        detail: patternDetails[instancePath.split("/").at(-1) ?? ""] ?? "has an invalid format",
      };
    default:
      return { pointer: instancePath, detail: error.message ?? "is not valid" };
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** One problem per field and fact, in the client's words; oneOf [string, null] reads as such. */
export function describeProblems(errors: ErrorObject[]): FieldProblem[] {
  const nullableFields = new Set(
    errors
      .filter((e) => e.keyword === "type" && e.params.type === "null")
      .map((e) => e.instancePath),
  );
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (error.keyword === "oneOf") continue;
    if (error.keyword === "type" && error.params.type === "null") continue;
    let problem = detailOf(error);
    if (error.keyword === "type" && nullableFields.has(error.instancePath)) {
      problem = {
        pointer: error.instancePath,
        detail: `must be ${article(error.params.type)} or null`,
      };
    }
    const key = `${problem.pointer}\n${problem.detail}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}
