// Invalid requests made by mutating valid ones (themselves generated from openapi.yaml).
// Each mutation has a class (for the figures) and, where the contract says exactly which
// answer it deserves, that status; otherwise any 4xx the operation documents will do.
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import {
  arbitraryFor,
  lengthOf,
  type OperationId,
  operation,
  parameter,
  propertyNames,
  validatorFor,
} from "../../support/contract.ts";
import type { ApiRequest } from "./api.ts";

export interface InvalidRequest {
  inputClass: string;
  operationId: OperationId;
  request: ApiRequest;
  /** The only statuses acceptable for this mutation, when the contract pins them down. */
  expected?: number[];
}

/** Todos that exist while the invalid requests run: paths name them, and they must not change. */
export interface Existing {
  ids: string[];
  /** A real nextToken of a listing (no status filter), to tamper with. */
  nextToken: string;
}

type BodyOperation = "createTodo" | "updateTodo";
const bodySchema = (operationId: BodyOperation) => operation(operationId).body ?? {};
const validBody = {
  createTodo: arbitraryFor(bodySchema("createTodo")) as fc.Arbitrary<Record<string, unknown>>,
  updateTodo: arbitraryFor(bodySchema("updateTodo")) as fc.Arbitrary<Record<string, unknown>>,
};
const bodyIsValid = {
  createTodo: validatorFor(bodySchema("createTodo")),
  updateTodo: validatorFor(bodySchema("updateTodo")),
};
const todoIdValid = validatorFor(parameter("getTodo", "id").schema);
const idempotencyKey = arbitraryFor(parameter("createTodo", "Idempotency-Key").schema);
const idempotencyKeyValid = validatorFor(parameter("createTodo", "Idempotency-Key").schema);

const json = { "Content-Type": "application/json" };

/** Odd values of every JSON type. */
const anyJson = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string(),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);

// White space and invisible characters the Title pattern counts as blank.
const blankCharacters = [
  " ",
  "\t",
  "\n",
  "\r",
  "\u00a0",
  "\u1680",
  "\u2000",
  "\u2001",
  "\u2005",
  "\u200a",
  "\u2028",
  "\u2029",
  "\u202f",
  "\u205f",
  "\u3000",
  "\ufeff",
];
const controlCharacter = fc
  .oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f }))
  .map((code) => String.fromCharCode(code));
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

function insertAt(text: string, insert: string, fraction: number): string {
  const at = Math.floor(fraction * (text.length + 1));
  return text.slice(0, at) + insert + text.slice(at);
}

const bodyOperation = fc.constantFrom<BodyOperation>("createTodo", "updateTodo");

/** A body request for an operation: POST /todos or PUT /todos/{an existing id}. */
function bodyRequest(
  operationId: BodyOperation,
  existing: Existing,
  idIndex: number,
  body: string,
  headers: Record<string, string> = json,
): ApiRequest {
  const id = existing.ids[idIndex % existing.ids.length];
  return operationId === "createTodo"
    ? { method: "POST", path: "/todos", headers, body }
    : { method: "PUT", path: `/todos/${id}`, headers, body };
}

/** Mutations of a valid JSON body, kept only when the contract's own schema refuses them. */
function bodyMutation(
  inputClass: string,
  mutate: (body: Record<string, unknown>, operationId: BodyOperation) => fc.Arbitrary<unknown>,
  existing: Existing,
  options: { checkInvalid?: boolean; expected?: number[] } = {},
): fc.Arbitrary<InvalidRequest> {
  return bodyOperation
    .chain((operationId) =>
      fc.tuple(
        fc.constant(operationId),
        validBody[operationId].chain((body) => mutate(body, operationId)),
        fc.nat(),
      ),
    )
    .filter(
      ([operationId, body]) => options.checkInvalid === false || !bodyIsValid[operationId](body),
    )
    .map(([operationId, body, idIndex]) => ({
      inputClass,
      operationId,
      request: bodyRequest(operationId, existing, idIndex, JSON.stringify(body)),
      ...(options.expected ? { expected: options.expected } : {}),
    }));
}

/** A field of the operation's body (title, description, status). */
const fieldOf = (operationId: BodyOperation) =>
  fc.constantFrom(...propertyNames(bodySchema(operationId)));

function rawBodyMutation(
  inputClass: string,
  raw: fc.Arbitrary<{ body: string; headers?: Record<string, string>; base64?: boolean }>,
  existing: Existing,
  expected?: number[],
): fc.Arbitrary<InvalidRequest> {
  return fc
    .tuple(bodyOperation, raw, fc.nat())
    .map(([operationId, { body, headers, base64 }, i]) => ({
      inputClass,
      operationId,
      request: {
        ...bodyRequest(operationId, existing, i, body, headers ?? json),
        ...(base64 ? { isBase64Encoded: true } : {}),
      },
      ...(expected ? { expected } : {}),
    }));
}

const validJsonText = bodyOperation.chain((op) => validBody[op]).map((b) => JSON.stringify(b));

/** Every class of invalid request, each as its own arbitrary (the figures count them apart). */
export function invalidRequestClasses(existing: Existing): fc.Arbitrary<InvalidRequest>[] {
  const anyExistingId = fc.constantFrom(...existing.ids);
  return [
    bodyMutation(
      "body: wrong type of a field",
      (body, op) =>
        fc.tuple(fieldOf(op), anyJson).map(([field, value]) => ({ ...body, [field]: value })),
      existing,
      { expected: [400] },
    ),
    bodyMutation(
      "body: missing field / empty object",
      (body, op) =>
        op === "createTodo"
          ? fc.constant(Object.fromEntries(Object.entries(body).filter(([k]) => k !== "title")))
          : fc.constant({}),
      existing,
      { expected: [400] },
    ),
    bodyMutation(
      "body: unknown field",
      (body, op) =>
        fc
          .tuple(
            fc.oneof(
              fc.string({ minLength: 1, maxLength: 20 }),
              fc.constantFrom(
                "id",
                "created_at",
                "updated_at",
                "version",
                "owner",
                "statusId",
                "priority",
              ),
            ),
            fc.jsonValue({ maxDepth: 2 }),
          )
          .filter(([name]) => !propertyNames(bodySchema(op)).includes(name) && name !== "__proto__")
          .map(([name, value]) => ({ ...body, [name]: value })),
      existing,
      { expected: [400] },
    ),
    bodyMutation(
      "body: too long title or description",
      (body, op) =>
        fc
          .tuple(
            fc.constantFrom("title", "description"),
            fc.integer({ min: 1, max: 600 }),
            fc.constantFrom("x", "é", "😀", "字", "a\u0301"),
          )
          .map(([field, extra, unit]) => {
            const limit = field === "title" ? 200 : 2000;
            const text = unit.repeat(Math.ceil((limit + extra) / lengthOf(unit)));
            return {
              ...(op === "createTodo" ? body : {}),
              title: body.title ?? "t",
              [field]: text,
            };
          }),
      existing,
      { expected: [400] },
    ),
    bodyMutation(
      "body: blank title",
      (body) =>
        fc
          .array(fc.constantFrom(...blankCharacters), { minLength: 0, maxLength: 30 })
          .map((chars) => ({ ...body, title: chars.join("") })),
      existing,
      { expected: [400] },
    ),
    bodyMutation(
      "body: control characters",
      (body) =>
        fc
          .tuple(
            fc.constantFrom("title", "description"),
            controlCharacter,
            fc.double({ min: 0, max: 1, noNaN: true }),
          )
          .map(([field, control, at]) => {
            const text = typeof body[field] === "string" ? (body[field] as string) : "text";
            return { ...body, title: body.title ?? "title", [field]: insertAt(text, control, at) };
          }),
      existing,
      { expected: [400] },
    ),
    bodyMutation(
      "body: lone surrogates",
      (body) =>
        fc
          .tuple(
            fc.constantFrom("title", "description"),
            loneSurrogate,
            fc.double({ min: 0, max: 1, noNaN: true }),
          )
          .map(([field, surrogate, at]) => {
            const text = typeof body[field] === "string" ? (body[field] as string) : "text";
            return {
              ...body,
              title: body.title ?? "title",
              [field]: insertAt(text, surrogate, at),
            };
          }),
      existing,
      // The contract refuses unpaired surrogates in its descriptions, not its patterns.
      { expected: [400], checkInvalid: false },
    ),
    bodyMutation(
      "body: enum out of range",
      (body) =>
        fc
          .oneof(fc.string(), fc.constantFrom("PENDING", "Done", "done ", "archived", ""))
          .map((status) => ({ ...body, status })),
      existing,
      { expected: [400] },
    ),
    bodyMutation(
      "body: array or scalar instead of object",
      (body) =>
        fc.oneof(
          fc.constant([body]),
          fc.constant(Object.values(body)),
          fc.integer(),
          fc.string(),
          fc.boolean(),
          fc.constant(null),
          fc.constant([]),
        ),
      existing,
      { expected: [400] },
    ),
    bodyMutation(
      "body: several mutations at once",
      (body, op) =>
        fc
          .tuple(
            fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), anyJson, {
              minKeys: 1,
              maxKeys: 3,
            }),
            fc.subarray(propertyNames(bodySchema(op))),
            anyJson,
          )
          .map(([extra, removed, value]) => {
            const mutated: Record<string, unknown> = { ...body, ...extra };
            for (const name of removed) mutated[name] = value;
            return mutated;
          }),
      existing,
      { expected: [400] },
    ),
    rawBodyMutation(
      "body: __proto__ and constructor keys",
      fc
        .tuple(
          validJsonText,
          fc.constantFrom(
            '"__proto__":{"status":"done","polluted":true}',
            '"constructor":{"prototype":{"polluted":true}}',
            '"__proto__":null',
            '"__proto__":[]',
            '"nested":{"__proto__":{"polluted":true}}',
            '"prototype":{"polluted":true}',
            '"constructor":"x"',
          ),
          fc.boolean(),
        )
        .map(([valid, key, first]) => ({
          body: first
            ? `{${key},${valid.slice(1)}`
            : `${valid.slice(0, -1)}${valid.length > 2 ? "," : ""}${key}}`,
        })),
      existing,
      [400],
    ),
    rawBodyMutation(
      "body: deep nesting",
      fc
        .tuple(
          // Any depth, and often the deepest that still fits in 16 KB.
          fc.oneof(fc.integer({ min: 50, max: 6000 }), fc.constantFrom(2000, 2600, 4000, 6000)),
          fc.constantFrom("array", "object", "title", "unknown"),
        )
        .map(([depth, shape]) => {
          const nested =
            shape === "object"
              ? `${'{"a":'.repeat(Math.min(depth, 2600))}1${"}".repeat(Math.min(depth, 2600))}`
              : `${"[".repeat(depth)}${"]".repeat(depth)}`;
          if (shape === "array" || shape === "object") return { body: nested };
          return {
            body: shape === "title" ? `{"title":${nested}}` : `{"title":"t","x":${nested}}`,
          };
        }),
      existing,
      [400],
    ),
    rawBodyMutation(
      "body: over 16 KB",
      fc
        .tuple(
          fc.integer({ min: 16 * 1024 + 1, max: 200 * 1024 }),
          fc.constantFrom("json", "junk", "multibyte"),
        )
        .map(([bytes, kind]) => {
          if (kind === "junk") return { body: "x".repeat(bytes) };
          if (kind === "multibyte")
            return { body: `{"title":"${"€".repeat(Math.ceil(bytes / 3))}"}` };
          return { body: `{"title":"t","description":"${"d".repeat(bytes)}"}` };
        }),
      existing,
      [413],
    ),
    rawBodyMutation(
      "body: not JSON",
      fc
        .oneof(
          validJsonText.map((text) => text.slice(0, -1)),
          validJsonText.map((text) => `${text}}`),
          validJsonText.map((text) => `${text} trailing`),
          validJsonText.map((text) => text.replaceAll('"', "'")),
          validJsonText.map((text) => `\ufeff${text}`),
          validJsonText.map((text) => `/* c */${text}`),
          fc.constantFrom(
            "",
            " ",
            "\n",
            "{",
            "}",
            "NaN",
            "undefined",
            "{title:1}",
            '{"title":"a",}',
            "\u0000",
          ),
          fc.string({ maxLength: 40 }).filter((text) => {
            try {
              JSON.parse(text);
              return false;
            } catch {
              return true;
            }
          }),
        )
        .map((body) => ({ body })),
      existing,
      [400],
    ),
    rawBodyMutation(
      "headers: odd content types",
      fc
        .tuple(
          validJsonText,
          fc.constantFrom(
            "text/plain",
            "application/xml",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/octet-stream",
            "text/json",
            "application/jsonx",
            "json",
            "*/*",
            "",
            "application/x-amz-json-1.0",
          ),
        )
        .map(([body, type]) => ({
          body,
          headers: (type ? { "Content-Type": type } : {}) as Record<string, string>,
        })),
      existing,
      [415],
    ),
    rawBodyMutation(
      "body: odd encodings",
      fc.oneof(
        validJsonText.map((text) => ({
          body: gzipSync(text).toString("base64"),
          headers: { ...json, "Content-Encoding": "gzip" },
          base64: true,
        })),
        validJsonText.map((text) => ({
          body: Buffer.from(text, "utf16le").toString("base64"),
          base64: true,
        })),
        fc.constantFrom("!!!not base64!!!", "////", "AAAA").map((body) => ({ body, base64: true })),
        validJsonText.map((text) => ({ body: Buffer.from(text).toString("base64") })),
      ),
      existing,
      [400, 415],
    ),
    fc
      .tuple(
        fc.constantFrom<OperationId>("getTodo", "updateTodo", "deleteTodo"),
        fc.oneof(
          fc.string({ minLength: 1, maxLength: 60 }),
          fc.uuid({ version: 4 }),
          fc.uuid({ version: 7 }).map((id) => id.toUpperCase()),
          fc.uuid({ version: 7 }).map((id) => `${id}0`),
          fc.uuid({ version: 7 }).map((id) => ` ${id}`),
          fc.uuid({ version: 7 }).map((id) => id.replaceAll("-", "")),
          fc.constantFrom(
            "..",
            ".",
            "%00",
            "null",
            "undefined",
            "0",
            "-1",
            "' OR '1'='1",
            "a".repeat(2000),
            "__proto__",
            "constructor",
          ),
        ),
        fc.nat(),
      )
      .filter(([, id]) => !todoIdValid(id))
      .chain(([operationId, id]) =>
        validBody.updateTodo.map((patch) => junkIdRequest(operationId, id, patch)),
      ),
    fc
      .tuple(
        fc.constantFrom<OperationId>("getTodo", "updateTodo", "deleteTodo"),
        fc.uuid({ version: 7 }),
        validBody.updateTodo,
      )
      .filter(([, id]) => !existing.ids.includes(id))
      .map(([operationId, id, patch]) => ({
        ...junkIdRequest(operationId, id, patch),
        inputClass: "path: unknown id",
        expected: [404],
      })),
    fc
      .oneof(
        fc.record({
          limit: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 101 })).map(String),
        }),
        fc.record({
          limit: fc.constantFrom(
            "1.5",
            "abc",
            "",
            "ten",
            "1e400",
            "-0.5",
            "true",
            "[]",
            "9".repeat(40),
          ),
        }),
        fc.record({ status: fc.string().filter((s) => s !== "pending" && s !== "done") }),
        fc.record({
          nextToken: fc.oneof(
            fc.string({ minLength: 1, maxLength: 80 }),
            fc.base64String({ minLength: 4, maxLength: 64 }).map((b) => `${b}.${b}`),
            fc
              .nat({ max: existing.nextToken.length - 1 })
              .map((i) => flipCharacter(existing.nextToken, i)),
            fc.constant(
              `${Buffer.from(JSON.stringify({ v: 1, id: "01a2206b-2b6d-7413-819f-25bdd864216e" })).toString("base64url")}.forged`,
            ),
            fc.constant("a".repeat(1025)),
          ),
        }),
        // A token is bound to its status filter: reusing it with another filter is refused.
        fc
          .constantFrom("pending", "done")
          .map((status) => ({ nextToken: existing.nextToken, status })),
      )
      .map((query) => ({
        inputClass: "query: junk limit, status or nextToken",
        operationId: "listTodos" as const,
        request: { method: "GET", path: "/todos", query },
        expected: [400],
      })),
    fc
      .tuple(
        fc.constantFrom<OperationId>("updateTodo", "deleteTodo", "getTodo"),
        anyExistingId,
        fc.oneof(
          fc.string({ minLength: 201, maxLength: 400 }).map((value) => ({ value, tooLong: true })),
          fc
            .oneof(
              fc.constantFrom('W/"1"', "1", '"0"', '"999999999"', '"abc"', '""', '"1', "W/*", ","),
              fc.string({ maxLength: 40 }),
            )
            .filter((value) => value.trim() !== "*" && !/"[1-9]/.test(value))
            .map((value) => ({ value, tooLong: false })),
        ),
        validBody.updateTodo,
      )
      .map(([operationId, id, { value, tooLong }, patch]) => {
        const header = operationId === "getTodo" ? "If-None-Match" : "If-Match";
        const request = junkIdRequest(operationId, id, patch).request;
        return {
          inputClass: "headers: junk If-Match / If-None-Match",
          operationId,
          request: { ...request, headers: { ...request.headers, [header]: value } },
          // A tag that names no version can never hold: 412 (or 400 when it breaks the schema).
          expected: tooLong ? [400] : operationId === "getTodo" ? [200] : [412],
        };
      })
      .filter(({ operationId, expected }) => !(operationId === "getTodo" && expected[0] === 200)),
    fc
      .tuple(
        validBody.createTodo,
        fc.oneof(
          fc.constant(""),
          fc.string({ minLength: 256, maxLength: 300, unit: "grapheme-ascii" }),
          idempotencyKey.chain((key) =>
            fc
              .constantFrom(" ", "é", "\u0000", "\t", "😀", "\u007f")
              .map((bad) => `${key as string}${bad}`),
          ),
        ),
      )
      .filter(([, key]) => !idempotencyKeyValid(key))
      .map(([body, key]) => ({
        inputClass: "headers: junk Idempotency-Key",
        operationId: "createTodo" as const,
        request: {
          method: "POST",
          path: "/todos",
          headers: { ...json, "Idempotency-Key": key },
          body: JSON.stringify(body),
        },
        expected: [400],
      })),
  ];
}

function flipCharacter(token: string, index: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
  const current = token[index] ?? "A";
  const replacement = alphabet[(alphabet.indexOf(current) + 7) % alphabet.length] ?? "A";
  return token.slice(0, index) + replacement + token.slice(index + 1);
}

function junkIdRequest(
  operationId: OperationId,
  id: string,
  patch: Record<string, unknown>,
): InvalidRequest {
  const path = `/todos/${encodeURIComponent(id)}`;
  const request: ApiRequest =
    operationId === "updateTodo"
      ? { method: "PUT", path, headers: json, body: JSON.stringify(patch) }
      : { method: operationId === "getTodo" ? "GET" : "DELETE", path, headers: {} };
  return { inputClass: "path: junk id", operationId, request, expected: [400] };
}
