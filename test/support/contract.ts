// Checks an answer against openapi.yaml: its status is documented for the operation, its
// Content-Type is the documented one, required headers are there, and the body matches the
// schema. Compiled at test time from the contract itself, so the tests never copy a shape.
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import type { OperationId } from "../../generated/operations.ts";

type Json = Record<string, unknown>;

const spec = parse(readFileSync(new URL("../../openapi.yaml", import.meta.url), "utf8")) as Json;
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);
ajv.addSchema({ $id: "openapi.json", ...(spec as object) });

function resolve<T>(node: T): T {
  let current: unknown = node;
  while (current && typeof current === "object" && "$ref" in current) {
    const path = String((current as { $ref: string }).$ref)
      .replace(/^#\//, "")
      .split("/");
    current = path.reduce<unknown>((value, key) => (value as Json)[key], spec);
  }
  return current as T;
}

// Schemas taken out of the document point into it by the document's $id.
const compiled = new Map<unknown, ReturnType<typeof ajv.compile>>();
function validatorFor(schema: Json) {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(
      JSON.parse(JSON.stringify(schema), (key, value) =>
        key === "$ref" && typeof value === "string" && value.startsWith("#/")
          ? `openapi.json${value}`
          : value,
      ),
    );
    compiled.set(schema, validate);
  }
  return validate;
}

const operationsById = new Map<string, Json>();
for (const pathItem of Object.values(spec.paths as Record<string, Json>)) {
  for (const operation of Object.values(pathItem)) {
    if (operation && typeof operation === "object" && "operationId" in operation) {
      operationsById.set((operation as { operationId: string }).operationId, operation as Json);
    }
  }
}

export interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string | number | boolean | undefined>;
  body?: string;
}

/** Every way the answer departs from the contract; empty when it conforms. */
export function contractViolations(operationId: OperationId, answer: HttpAnswer): string[] {
  const operation = operationsById.get(operationId);
  if (!operation) return [`unknown operation ${operationId}`];
  const responses = operation.responses as Record<string, Json>;
  const documented = responses[String(answer.statusCode)];
  if (!documented) return [`status ${answer.statusCode} is not documented for ${operationId}`];
  const response = resolve(documented);
  const headers = Object.fromEntries(
    Object.entries(answer.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const violations: string[] = [];
  for (const [name, header] of Object.entries((response.headers ?? {}) as Record<string, Json>)) {
    const definition = resolve(header);
    const value = headers[name.toLowerCase()];
    if (value === undefined) {
      if (definition.required) violations.push(`header ${name} is missing`);
      continue;
    }
    const schema = definition.schema as Json;
    const typed = schema.type === "integer" ? Number(value) : value;
    const validate = validatorFor(schema);
    if (!validate(typed)) violations.push(`header ${name}: ${ajv.errorsText(validate.errors)}`);
  }
  const content = response.content as Record<string, { schema: Json }> | undefined;
  if (!content) {
    if (answer.body) violations.push(`status ${answer.statusCode} documents no body, got one`);
    return violations;
  }
  const contentType =
    String(headers["content-type"] ?? "")
      .split(";")[0]
      ?.trim() ?? "";
  const media = content[contentType];
  if (!media) return [...violations, `content type ${contentType} is not documented`];
  let body: unknown;
  try {
    body = JSON.parse(answer.body ?? "");
  } catch {
    return [...violations, "body is not JSON"];
  }
  const validate = validatorFor(media.schema);
  if (!validate(body)) {
    violations.push(`body: ${ajv.errorsText(validate.errors, { separator: "; " })}`);
  }
  return violations;
}
