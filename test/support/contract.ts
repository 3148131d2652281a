// openapi.yaml, read at test time, for every suite: its JSON schemas become ajv 2020
// validators of answers (contractViolations) and fast-check arbitraries of valid requests.
// Nothing here restates a shape of the contract.
import { readFileSync } from "node:fs";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import fc from "fast-check";
import { parse } from "yaml";
import type { OperationId } from "../../generated/operations.ts";

export const openapiPath = new URL("../../openapi.yaml", import.meta.url).pathname;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonSchema = { [key: string]: Json };

export type { OperationId } from "../../generated/operations.ts";

export interface ContractParameter {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  schema: JsonSchema;
}

export interface ContractResponse {
  /** Media type → schema (empty for answers without a body). */
  content: Record<string, JsonSchema>;
  headers: Record<string, { required: boolean; schema: JsonSchema }>;
}

export interface ContractOperation {
  operationId: OperationId;
  method: string;
  /** The path template, e.g. /todos/{id}. */
  path: string;
  parameters: ContractParameter[];
  /** The application/json request body schema, when the operation takes a body. */
  body: JsonSchema | undefined;
  responses: Record<string, ContractResponse>;
}

export interface ApiResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

const contractId = "https://contract.test/openapi.json";
const document = parse(readFileSync(openapiPath, "utf8")) as {
  paths: Record<string, Record<string, Json>>;
  components: Record<string, Record<string, Json>>;
};

/** Follows $ref (local to openapi.yaml) until the value is not a reference. */
export function resolve<T = JsonSchema>(value: Json | undefined): T {
  let current = value;
  for (let hops = 0; hops < 20; hops++) {
    const ref = (current as { $ref?: unknown } | null)?.$ref;
    if (typeof ref !== "string") return current as T;
    current = pointer(ref);
  }
  throw new Error("$ref chain too long");
}

function pointer(ref: string): Json {
  if (!ref.startsWith("#/")) throw new Error(`only local refs are supported: ${ref}`);
  let node: Json = document as unknown as Json;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    node = (node as Record<string, Json>)[key] as Json;
    if (node === undefined) throw new Error(`unresolvable $ref ${ref}`);
  }
  return node;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
export const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
// The whole components section as one schema resource: local $refs resolve inside it.
ajv.addSchema({ $id: contractId, components: document.components } as object);

const validators = new Map<string, ValidateFunction>();
/** An ajv 2020 validator for a schema of the contract (inline or by $ref). */
export function validatorFor(schema: JsonSchema): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(rebase(schema) as object);
    validators.set(key, validate);
  }
  return validate;
}

function rebase(value: Json): Json {
  if (Array.isArray(value)) return value.map(rebase);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        key === "$ref" && typeof inner === "string" && inner.startsWith("#/")
          ? `${contractId}${inner}`
          : rebase(inner),
      ]),
    );
  }
  return value;
}

export const schemaOf = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

export const operations: ContractOperation[] = Object.entries(document.paths).flatMap(
  ([path, item]) => {
    const shared = ((item.parameters ?? []) as Json[]).map((p) => resolve<Json>(p));
    return ["get", "post", "put", "delete", "patch"]
      .filter((method) => item[method])
      .map((method) => {
        const op = item[method] as Record<string, Json>;
        const parameters = [...shared, ...((op.parameters ?? []) as Json[]).map((p) => resolve(p))]
          .map((p) => p as Record<string, Json>)
          .map((p) => ({
            name: p.name as string,
            in: p.in as ContractParameter["in"],
            required: p.required === true,
            schema: p.schema as JsonSchema,
          }));
        const requestBody = resolve<Record<string, Json> | undefined>(op.requestBody);
        const content = requestBody?.content as Record<string, { schema: JsonSchema }> | undefined;
        const responses = Object.fromEntries(
          Object.entries(op.responses as Record<string, Json>).map(([status, raw]) => {
            const response = resolve<Record<string, Json>>(raw);
            const media = (response.content ?? {}) as Record<string, { schema: JsonSchema }>;
            const headers = Object.fromEntries(
              Object.entries((response.headers ?? {}) as Record<string, Json>).map(
                ([name, header]) => {
                  const resolved = resolve<{ required?: boolean; schema: JsonSchema }>(header);
                  return [
                    name.toLowerCase(),
                    { required: resolved.required === true, schema: resolved.schema },
                  ];
                },
              ),
            );
            return [
              status,
              {
                content: Object.fromEntries(
                  Object.entries(media).map(([type, value]) => [type, value.schema]),
                ),
                headers,
              } satisfies ContractResponse,
            ];
          }),
        );
        return {
          operationId: op.operationId as OperationId,
          method: method.toUpperCase(),
          path,
          parameters,
          body: content?.["application/json"]?.schema,
          responses,
        };
      });
  },
);

export function operation(operationId: OperationId): ContractOperation {
  const found = operations.find((op) => op.operationId === operationId);
  if (!found) throw new Error(`openapi.yaml has no operation ${operationId}`);
  return found;
}

export function parameter(operationId: OperationId, name: string): ContractParameter {
  const found = operation(operationId).parameters.find((p) => p.name === name);
  if (!found) throw new Error(`${operationId} has no parameter ${name}`);
  return found;
}

/**
 * What is wrong with an answer, measured against the contract: its status must be one the
 * operation documents, its Content-Type and body those of that response, its documented
 * headers present and valid. Empty when the answer is as the contract says.
 */
export function contractViolations(operationId: OperationId, response: ApiResponse): string[] {
  const documented = operation(operationId).responses[String(response.status)];
  if (!documented) {
    return [`status ${response.status} is not documented for ${operationId}`];
  }
  const problems: string[] = [];
  const mediaTypes = Object.keys(documented.content);
  if (mediaTypes.length === 0) {
    if (response.body !== "") problems.push(`a ${response.status} must have no body`);
  } else {
    const contentType = (response.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
    const schema = documented.content[contentType];
    if (!schema) {
      problems.push(`Content-Type ${contentType || "(none)"} is not one of ${mediaTypes}`);
    } else {
      let body: unknown;
      try {
        body = JSON.parse(response.body);
      } catch {
        problems.push("the body is not JSON");
      }
      const validate = validatorFor(schema);
      if (body !== undefined && !validate(body)) {
        problems.push(`body: ${ajv.errorsText(validate.errors)}`);
      }
      if (contentType === "application/problem+json" && (body as { status?: unknown })?.status) {
        if ((body as { status: unknown }).status !== response.status) {
          problems.push("the problem's status differs from the HTTP status");
        }
      }
    }
  }
  for (const [name, header] of Object.entries(documented.headers)) {
    const value = response.headers[name];
    if (value === undefined) {
      if (header.required) problems.push(`header ${name} is missing`);
      continue;
    }
    const resolved = resolve(header.schema);
    const typed = resolved.type === "integer" && /^-?\d+$/.test(value) ? Number(value) : value;
    const validate = validatorFor(header.schema);
    if (!validate(typed)) problems.push(`header ${name}: ${ajv.errorsText(validate.errors)}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// JSON schema → fast-check arbitrary. Covers the keywords the contract uses ($ref, oneOf,
// enum, type string/integer/null/object/array with their bounds, pattern, required,
// additionalProperties: false, minProperties); every value is checked by the schema's own
// validator, so a generator bug shows as a filtered value, never as a false valid request.
// ---------------------------------------------------------------------------------------

/** Code points, as JSON Schema counts string length. */
export const lengthOf = (value: string) => [...value].length;

export function arbitraryFor(schema: JsonSchema): fc.Arbitrary<unknown> {
  const validate = validatorFor(schema);
  return rawArbitrary(schema).filter((value) => validate(value));
}

function rawArbitrary(schemaOrRef: JsonSchema): fc.Arbitrary<unknown> {
  const schema = resolve(schemaOrRef);
  if (Array.isArray(schema.oneOf)) {
    return fc.oneof(...schema.oneOf.map((branch) => rawArbitrary(branch as JsonSchema)));
  }
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case "null":
      return fc.constant(null);
    case "integer":
      return fc.integer({
        min: typeof schema.minimum === "number" ? schema.minimum : -(2 ** 31),
        max: typeof schema.maximum === "number" ? schema.maximum : 2 ** 31,
      });
    case "string":
      return stringArbitrary(schema);
    case "array":
      return fc.array(rawArbitrary(schema.items as JsonSchema), {
        maxLength: typeof schema.maxItems === "number" ? Math.min(schema.maxItems, 10) : 10,
      });
    case "object":
      return objectArbitrary(schema);
    default:
      throw new Error(`no arbitrary for schema ${JSON.stringify(schema)}`);
  }
}

function stringArbitrary(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = typeof schema.minLength === "number" ? schema.minLength : 0;
  const maxLength = typeof schema.maxLength === "number" ? schema.maxLength : 300;
  const bounds = { minLength, maxLength };
  const candidates: fc.Arbitrary<string>[] = [
    // Any Unicode (astral planes, combining marks, odd spaces); the filter keeps what fits.
    fc.string({ ...bounds, unit: "grapheme" }),
    fc.string({ ...bounds, unit: "binary" }),
    // Right at the upper bound.
    fc.string({ minLength: Math.max(minLength, maxLength - 3), maxLength, unit: "grapheme" }),
  ];
  if (typeof schema.pattern === "string") {
    const regex = new RegExp(schema.pattern, "u");
    candidates.unshift(fc.stringMatching(regex, { maxLength }));
    const first = fc.stringMatching(regex, { maxLength });
    // Pad a matching string with more of the same until it is near the upper bound.
    candidates.push(
      fc
        .array(first, { minLength: 1, maxLength: 40 })
        .map((parts) => [...parts.join("")].slice(0, maxLength).join("")),
    );
  }
  return fc.oneof(...candidates).filter((value) => {
    const length = lengthOf(value);
    // Requests travel as UTF-8, which cannot carry an unpaired surrogate (and the contract's
    // descriptions refuse them apart from the patterns).
    return length >= minLength && length <= maxLength && value.isWellFormed();
  });
}

function objectArbitrary(schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = (schema.required ?? []) as string[];
  const record = fc.record(
    Object.fromEntries(
      Object.entries(properties).map(([name, property]) => [name, rawArbitrary(property)]),
    ),
    { requiredKeys: required },
  );
  const minProperties = typeof schema.minProperties === "number" ? schema.minProperties : 0;
  return record.filter((value) => Object.keys(value).length >= minProperties);
}

/** The properties an object schema declares (for mutations that add unknown ones). */
export function propertyNames(schema: JsonSchema): string[] {
  return Object.keys((resolve(schema).properties ?? {}) as object);
}

/** The resolved schema of one property of an object schema. */
export function propertySchema(schema: JsonSchema, name: string): JsonSchema {
  const property = ((resolve(schema).properties ?? {}) as Record<string, JsonSchema>)[name];
  if (!property) throw new Error(`no property ${name}`);
  return property;
}
