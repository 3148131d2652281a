// The API as a client sees it: the Lambda called with API Gateway v1 events, a real DynamoDB
// (dynalite) behind it, and every answer checked against openapi.yaml.
import type { AddressInfo, Socket } from "node:net";
import { createServer } from "node:net";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OperationId } from "../../generated/operations.ts";
import { newStoredTodo, type TodoCreate } from "../../src/todos/todo.ts";
import { fingerprintOf } from "../../src/todos/todo-service.ts";
import { type Answer, asApiResponse, buildTestApp, type TestApp } from "../support/app.ts";
import { operations as contractOperations, contractViolations } from "../support/contract.ts";
import { startDynalite, type TestDynamoDb } from "../support/dynalite.ts";
import type { EventInput } from "../support/lambda-events.ts";
import { defaultTestUser } from "../support/sign-in.ts";

let db: TestDynamoDb;
let app: TestApp;

beforeAll(async () => {
  db = await startDynalite();
  app = buildTestApp({
    endpoint: db.endpoint,
    tableName: await db.createTable(),
    idempotency: { inFlightWaitMs: 200 },
  });
});
afterAll(async () => {
  app?.documentClient.destroy();
  await db?.stop();
});

/** Calls the API and checks the answer against the contract for that operation. */
async function call(operationId: OperationId, input: EventInput): Promise<Answer> {
  const answer = await app.call({
    ...input,
    resource: input.path.startsWith("/todos/") ? "/todos/{id}" : "/todos",
  });
  expect(
    contractViolations(operationId, asApiResponse(answer)),
    `${input.method} ${input.path} → ${answer.statusCode} ${answer.body}`,
  ).toEqual([]);
  return answer;
}

const create = (body: unknown, headers: Record<string, string> = {}) =>
  call("createTodo", { method: "POST", path: "/todos", body, headers });

async function createTodo(body: Record<string, unknown> = { title: "A todo" }) {
  const answer = await create(body);
  expect(answer.statusCode).toBe(201);
  return answer;
}

const missingId = "0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b";

describe("POST /todos", () => {
  it("creates a todo with defaults and answers 201 with Location and ETag", async () => {
    const answer = await createTodo({ title: "Buy milk" });
    expect(answer.json).toMatchObject({ title: "Buy milk", description: null, status: "pending" });
    expect(answer.json.created_at).toBe(answer.json.updated_at);
    expect(answer.headers.Location).toBe(`/todos/${answer.json.id}`);
    expect(answer.headers.ETag).toBe('"1"');
    const read = await call("getTodo", { method: "GET", path: `/todos/${answer.json.id}` });
    expect(read.json).toEqual(answer.json);
  });

  it("keeps every field it is given", async () => {
    const answer = await createTodo({
      title: "Report",
      description: "Two pages\nby Friday",
      status: "done",
    });
    expect(answer.json).toMatchObject({
      title: "Report",
      description: "Two pages\nby Friday",
      status: "done",
    });
  });

  it("gives ids that sort by creation time", async () => {
    const first = await createTodo();
    const second = await createTodo();
    expect(second.json.id > first.json.id).toBe(true);
  });

  it("accepts a title of exactly 200 characters and refuses 201", async () => {
    expect((await create({ title: "x".repeat(200) })).statusCode).toBe(201);
    const answer = await create({ title: "x".repeat(201) });
    expect(answer.statusCode).toBe(400);
    expect(answer.json.errors).toEqual([
      { pointer: "/body/title", detail: "must have at most 200 characters" },
    ]);
  });

  it.each([
    ["a blank title", { title: "   " }, "/body/title"],
    ["an empty title", { title: "" }, "/body/title"],
    ["a title with a control character", { title: "a\u0000b" }, "/body/title"],
    ["a title with an unpaired surrogate", { title: "a\ud800b" }, "/body/title"],
    [
      "a description with an unpaired surrogate",
      { title: "a", description: "\udc00" },
      "/body/description",
    ],
    ["a missing title", { description: "x" }, "/body/title"],
    ["a title that is a number", { title: 5 }, "/body/title"],
    ["an unknown status", { title: "a", status: "started" }, "/body/status"],
    [
      "a description over 2,000 characters",
      { title: "a", description: "d".repeat(2001) },
      "/body/description",
    ],
    ["a description that is a number", { title: "a", description: 7 }, "/body/description"],
    ["an unknown field", { title: "a", priority: 1 }, "/body/priority"],
    ["a read-only id", { title: "a", id: missingId }, "/body/id"],
    [
      "a read-only timestamp",
      { title: "a", created_at: "2026-01-01T00:00:00.000Z" },
      "/body/created_at",
    ],
    ["an array instead of an object", [{ title: "a" }], "/body"],
    ["a string instead of an object", "just text", "/body"],
    ["null instead of an object", null, "/body"],
  ])("refuses %s with 400 and a pointer to it", async (_, body, pointer) => {
    const answer = await create(typeof body === "string" ? JSON.stringify(body) : body, {
      "Content-Type": "application/json",
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.headers["Content-Type"]).toBe("application/problem+json");
    expect(answer.json.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
  });

  it("lists every problem of a request at once", async () => {
    const answer = await create({ title: " ", status: "x", extra: true });
    expect(answer.statusCode).toBe(400);
    expect(answer.json.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual([
      "/body/extra",
      "/body/status",
      "/body/title",
    ]);
  });

  it("answers malformed JSON with 400", async () => {
    const answer = await create('{"title": "a"', { "Content-Type": "application/json" });
    expect(answer.statusCode).toBe(400);
    expect(answer.json.errors).toEqual([{ pointer: "/body", detail: "is not valid JSON" }]);
  });

  it("answers a missing body with 400", async () => {
    const answer = await app.call({
      method: "POST",
      path: "/todos",
      headers: { "Content-Type": "application/json" },
    });
    expect(answer.statusCode).toBe(400);
  });

  it("refuses a __proto__ key with 400", async () => {
    const answer = await create('{"title": "a", "__proto__": {"admin": true}}', {
      "Content-Type": "application/json",
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json.errors[0].pointer).toBe("/body");
  });

  it.each([
    ['{"title": "a", "__proto__": {"admin": true}}', 'must not contain the key "__proto__"'],
    ['{"title": "a", "constructor": {"prototype": {}}}', 'must not contain the key "constructor"'],
    ['{"title": "constructor"', "is not valid JSON"],
    ["constructor", "is not valid JSON"],
  ])("tells a forbidden key in %s from a body that is not JSON", async (body, detail) => {
    const answer = await create(body, { "Content-Type": "application/json" });
    expect(answer.statusCode).toBe(400);
    expect(answer.json.errors).toEqual([{ pointer: "/body", detail }]);
  });

  it.each([["text/plain"], ["application/x-www-form-urlencoded"], [undefined]])(
    "answers content type %s with 415",
    async (contentType) => {
      const answer = await create(
        '{"title": "a"}',
        contentType ? { "Content-Type": contentType } : {},
      );
      expect(answer.statusCode).toBe(415);
    },
  );

  it("reads the content type whatever the case of the header name", async () => {
    const answer = await create('{"title": "a"}', {
      "CONTENT-TYPE": "application/json; charset=utf-8",
    });
    expect(answer.statusCode).toBe(201);
  });

  it("answers a body over 16 KB with 413 and stores nothing", async () => {
    const before = (await app.scanTable()).length;
    const answer = await create({ title: "a", description: "é".repeat(9000) });
    expect(answer.statusCode).toBe(413);
    expect((await app.scanTable()).length).toBe(before);
  });
});

describe("POST /todos with an Idempotency-Key", () => {
  it("answers a retry with the first answer and creates nothing more", async () => {
    const key = `retry-${Date.now()}`;
    const first = await create({ title: "Once" }, { "Idempotency-Key": key });
    const again = await create({ title: "Once" }, { "Idempotency-Key": key });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.json).toEqual(first.json);
    expect(again.headers.ETag).toBe(first.headers.ETag);
    const todos = (await app.scanTable()).filter((item) => item.title === "Once");
    expect(todos).toHaveLength(1);
  });

  it("treats a body that means the same todo as the same request", async () => {
    const key = `same-${Date.now()}`;
    const first = await create({ title: "Same" }, { "Idempotency-Key": key });
    const again = await create(
      { title: "Same", status: "pending", description: null },
      { "Idempotency-Key": key },
    );
    expect(again.json.id).toBe(first.json.id);
  });

  it("answers 422 for the same key with another body", async () => {
    const key = `reuse-${Date.now()}`;
    await create({ title: "First" }, { "Idempotency-Key": key });
    const answer = await create({ title: "Second" }, { "Idempotency-Key": key });
    expect(answer.statusCode).toBe(422);
    expect(answer.json.type).toBe("/problems/idempotency-key-reused");
  });

  it("answers 409 while the first request is still in flight, and creates nothing", async () => {
    const key = `inflight-${Date.now()}`;
    // The state a first request leaves between claiming its key and writing its todo.
    await putIdempotencyRecord(
      key,
      { title: "Slow" },
      { state: "in_progress", claimedAt: Date.now() },
    );
    const answer = await create({ title: "Slow" }, { "Idempotency-Key": key });
    expect(answer.statusCode).toBe(409);
    expect(answer.json.type).toBe("/problems/idempotency-key-in-use");
    expect((await app.scanTable()).filter((item) => item.title === "Slow")).toHaveLength(0);
  });

  it("takes over a claim whose request is over without having written its todo", async () => {
    const key = `abandoned-${Date.now()}`;
    const abandoned = await putIdempotencyRecord(
      key,
      { title: "Abandoned" },
      {
        state: "in_progress",
        claimedAt: Date.now() - 20_000,
        leaseExpiresAt: Date.now() - 5_000,
      },
    );
    const answer = await create({ title: "Abandoned" }, { "Idempotency-Key": key });
    expect(answer.statusCode).toBe(201);
    expect(answer.json.id).not.toBe(abandoned.id);
    const again = await create({ title: "Abandoned" }, { "Idempotency-Key": key });
    expect(again.json.id).toBe(answer.json.id);
    expect((await app.scanTable()).filter((item) => item.title === "Abandoned")).toHaveLength(1);
  });

  it("replays the todo of a claim whose request wrote it but died before saying so", async () => {
    const key = `died-${Date.now()}`;
    const written = await putIdempotencyRecord(
      key,
      { title: "Died" },
      {
        state: "in_progress",
        claimedAt: Date.now() - 20_000,
        leaseExpiresAt: Date.now() - 5_000,
      },
    );
    await app.documentClient.send(
      new PutCommand({
        TableName: app.tableName,
        Item: {
          owner: defaultTestUser.sub,
          statusId: `pending#${written.id}`,
          ...written,
          description: undefined,
        },
      }),
    );
    const answer = await create({ title: "Died" }, { "Idempotency-Key": key });
    expect(answer.statusCode).toBe(201);
    expect(answer.json.id).toBe(written.id);
    expect(answer.headers["Idempotent-Replayed"]).toBe("true");
  });

  it("creates afresh once the key has expired", async () => {
    const key = `expired-${Date.now()}`;
    const old = await putIdempotencyRecord(
      key,
      { title: "Old" },
      {
        state: "completed",
        claimedAt: Date.now() - 25 * 3600_000,
        expiresAt: Math.floor(Date.now() / 1000) - 3600,
      },
    );
    const answer = await create({ title: "Old" }, { "Idempotency-Key": key });
    expect(answer.statusCode).toBe(201);
    expect(answer.json.id).not.toBe(old.id);
    expect(answer.headers["Idempotent-Replayed"]).toBeUndefined();
  });

  it("refuses a key that is not visible ASCII", async () => {
    const answer = await create({ title: "a" }, { "Idempotency-Key": "clé" });
    expect(answer.statusCode).toBe(400);
    expect(answer.json.errors[0].pointer).toBe("/header/idempotency-key");
  });
});

/** Writes an idempotency record as the store keeps it, for states a test cannot reach by timing. */
async function putIdempotencyRecord(
  key: string,
  body: TodoCreate,
  fields: Record<string, unknown>,
) {
  const todo = newStoredTodo(body, new Date());
  await app.documentClient.send(
    new PutCommand({
      TableName: app.tableName,
      Item: {
        owner: `idempotency#${defaultTestUser.sub}`,
        id: key,
        fingerprint: fingerprintOf(body),
        todo,
        leaseExpiresAt: Date.now() + 10_000,
        expiresAt: Math.floor(Date.now() / 1000) + 3600,
        ...fields,
      },
    }),
  );
  return todo;
}

describe("GET /todos/{id}", () => {
  it("answers 200 with the ETag, and 304 when If-None-Match names it", async () => {
    const { json: todo } = await createTodo();
    const read = await call("getTodo", { method: "GET", path: `/todos/${todo.id}` });
    expect(read.statusCode).toBe(200);
    expect(read.headers.ETag).toBe('"1"');
    for (const tag of ['"1"', 'W/"1"', '"7", "1"', "*"]) {
      const cached = await call("getTodo", {
        method: "GET",
        path: `/todos/${todo.id}`,
        headers: { "If-None-Match": tag },
      });
      expect(cached.statusCode, tag).toBe(304);
      expect(cached.body).toBe("");
    }
    const stale = await call("getTodo", {
      method: "GET",
      path: `/todos/${todo.id}`,
      headers: { "If-None-Match": '"2"' },
    });
    expect(stale.statusCode).toBe(200);
  });

  it("answers 404 for an unknown id", async () => {
    const answer = await call("getTodo", { method: "GET", path: `/todos/${missingId}` });
    expect(answer.statusCode).toBe(404);
    expect(answer.json).toMatchObject({ type: "about:blank", title: "Not Found", status: 404 });
  });

  it.each([
    ["not-a-uuid"],
    ["0193A1B2-C3D4-7E5F-8A6B-7C8D9E0F1A2B"],
    ["00000000-0000-4000-8000-000000000000"],
  ])("answers 400 for the malformed id %s", async (id) => {
    const answer = await call("getTodo", { method: "GET", path: `/todos/${id}` });
    expect(answer.statusCode).toBe(400);
    expect(answer.json.errors[0].pointer).toBe("/path/id");
  });
});

describe("PUT /todos/{id}", () => {
  it("changes only the fields it is given and bumps the ETag", async () => {
    const { json: todo } = await createTodo({ title: "Old", description: "keep me" });
    const answer = await call("updateTodo", {
      method: "PUT",
      path: `/todos/${todo.id}`,
      body: { status: "done" },
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.json).toMatchObject({
      id: todo.id,
      title: "Old",
      description: "keep me",
      status: "done",
    });
    expect(answer.json.created_at).toBe(todo.created_at);
    expect(answer.json.updated_at >= todo.updated_at).toBe(true);
    expect(answer.headers.ETag).toBe('"2"');
    const read = await call("getTodo", { method: "GET", path: `/todos/${todo.id}` });
    expect(read.json).toEqual(answer.json);
  });

  it("clears the description with null", async () => {
    const { json: todo } = await createTodo({ title: "T", description: "gone soon" });
    const answer = await call("updateTodo", {
      method: "PUT",
      path: `/todos/${todo.id}`,
      body: { description: null },
    });
    expect(answer.json.description).toBeNull();
  });

  it("answers {} with 400", async () => {
    const { json: todo } = await createTodo();
    const answer = await call("updateTodo", { method: "PUT", path: `/todos/${todo.id}`, body: {} });
    expect(answer.statusCode).toBe(400);
    expect(answer.json.errors).toEqual([
      { pointer: "/body", detail: "must have at least one field" },
    ]);
  });

  it("refuses read-only and unknown fields", async () => {
    const { json: todo } = await createTodo();
    const answer = await call("updateTodo", {
      method: "PUT",
      path: `/todos/${todo.id}`,
      body: { title: "x", id: missingId, updated_at: "2026-01-01T00:00:00.000Z" },
    });
    expect(answer.statusCode).toBe(400);
  });

  it("answers 404 for an unknown id and creates nothing", async () => {
    const before = await app.scanTable();
    const answer = await call("updateTodo", {
      method: "PUT",
      path: `/todos/${missingId}`,
      body: { title: "ghost" },
    });
    expect(answer.statusCode).toBe(404);
    expect(await app.scanTable()).toEqual(before);
  });

  it("honours If-Match: current or * → 200, stale → 412 and nothing changes", async () => {
    const { json: todo } = await createTodo({ title: "v1" });
    const path = `/todos/${todo.id}`;
    const stale = await call("updateTodo", {
      method: "PUT",
      path,
      body: { title: "x" },
      headers: { "If-Match": '"9"' },
    });
    expect(stale.statusCode).toBe(412);
    expect(stale.headers.ETag).toBe('"1"');
    const weak = await call("updateTodo", {
      method: "PUT",
      path,
      body: { title: "x" },
      headers: { "If-Match": 'W/"1"' },
    });
    expect(weak.statusCode).toBe(412);
    expect((await call("getTodo", { method: "GET", path })).json.title).toBe("v1");
    const current = await call("updateTodo", {
      method: "PUT",
      path,
      body: { title: "v2" },
      headers: { "If-Match": '"1"' },
    });
    expect(current.statusCode).toBe(200);
    const any = await call("updateTodo", {
      method: "PUT",
      path,
      body: { title: "v3" },
      headers: { "If-Match": "*" },
    });
    expect(any.headers.ETag).toBe('"3"');
  });

  it("answers 404, not 412, for If-Match on an unknown id", async () => {
    const answer = await call("updateTodo", {
      method: "PUT",
      path: `/todos/${missingId}`,
      body: { title: "x" },
      headers: { "If-Match": '"1"' },
    });
    expect(answer.statusCode).toBe(404);
  });

  it("answers a body over 16 KB with 413", async () => {
    const { json: todo } = await createTodo();
    const answer = await call("updateTodo", {
      method: "PUT",
      path: `/todos/${todo.id}`,
      body: { description: "x".repeat(17_000) },
    });
    expect(answer.statusCode).toBe(413);
  });

  it("answers a non-JSON body with 415", async () => {
    const { json: todo } = await createTodo();
    const answer = await call("updateTodo", {
      method: "PUT",
      path: `/todos/${todo.id}`,
      body: "title=x",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(answer.statusCode).toBe(415);
  });
});

describe("DELETE /todos/{id}", () => {
  it("answers 204, then 404", async () => {
    const { json: todo } = await createTodo();
    expect(
      (await call("deleteTodo", { method: "DELETE", path: `/todos/${todo.id}` })).statusCode,
    ).toBe(204);
    expect((await call("getTodo", { method: "GET", path: `/todos/${todo.id}` })).statusCode).toBe(
      404,
    );
    expect(
      (await call("deleteTodo", { method: "DELETE", path: `/todos/${todo.id}` })).statusCode,
    ).toBe(404);
  });

  it("answers 404 for an unknown id and creates nothing", async () => {
    const before = await app.scanTable();
    expect(
      (await call("deleteTodo", { method: "DELETE", path: `/todos/${missingId}` })).statusCode,
    ).toBe(404);
    expect(await app.scanTable()).toEqual(before);
  });

  it("answers a malformed id with 400", async () => {
    const answer = await call("deleteTodo", { method: "DELETE", path: "/todos/nope" });
    expect(answer.statusCode).toBe(400);
  });

  it("answers 412 for a stale If-Match and keeps the todo", async () => {
    const { json: todo } = await createTodo();
    const answer = await call("deleteTodo", {
      method: "DELETE",
      path: `/todos/${todo.id}`,
      headers: { "If-Match": '"2"' },
    });
    expect(answer.statusCode).toBe(412);
    // A weak tag never matches If-Match (RFC 9110 strong comparison).
    const weak = await call("deleteTodo", {
      method: "DELETE",
      path: `/todos/${todo.id}`,
      headers: { "If-Match": 'W/"1"' },
    });
    expect(weak.statusCode).toBe(412);
    expect((await call("getTodo", { method: "GET", path: `/todos/${todo.id}` })).statusCode).toBe(
      200,
    );
  });
});

describe("routing", () => {
  it.each([
    ["PATCH", "/todos", "GET, OPTIONS, POST"],
    ["DELETE", "/todos", "GET, OPTIONS, POST"],
    ["POST", `/todos/${missingId}`, "DELETE, GET, OPTIONS, PUT"],
  ])("answers %s %s with 405 and Allow", async (method, path, allow) => {
    const answer = await app.call({ method, path });
    expect(answer.statusCode).toBe(405);
    expect(answer.headers.Allow).toBe(allow);
    expect(answer.headers["Content-Type"]).toBe("application/problem+json");
  });

  it.each([["/"], ["/todo"], ["/todos/a/b"]])(
    "answers the unknown path %s with 404",
    async (path) => {
      const answer = await app.call({ method: "GET", path });
      expect(answer.statusCode).toBe(404);
      expect(answer.json.status).toBe(404);
    },
  );

  it("answers CORS preflight for an allowed origin, and nothing for another", async () => {
    const preflight = {
      method: "OPTIONS",
      path: "/todos",
      headers: { "Access-Control-Request-Method": "POST" },
    };
    const allowed = await app.call({
      ...preflight,
      headers: { ...preflight.headers, Origin: "http://allowed.test" },
    });
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers["Access-Control-Allow-Origin"]).toBe("http://allowed.test");
    expect(allowed.headers["Access-Control-Allow-Methods"]).toContain("PUT");
    const other = await app.call({
      ...preflight,
      headers: { ...preflight.headers, Origin: "http://evil.test" },
    });
    expect(other.headers["Access-Control-Allow-Origin"]).toBeUndefined();
  });

  it("lets a browser send every header parameter of the contract and read every response header", async () => {
    const answer = await app.call({
      method: "OPTIONS",
      path: "/todos",
      headers: { "Access-Control-Request-Method": "POST", Origin: "http://allowed.test" },
    });
    const listed = (name: string) =>
      (answer.headers[name] ?? "").split(",").map((header) => header.trim().toLowerCase());
    for (const item of contractOperations) {
      for (const parameter of item.parameters.filter((p) => p.in === "header")) {
        expect(listed("Access-Control-Allow-Headers")).toContain(parameter.name.toLowerCase());
      }
      expect(listed("Access-Control-Allow-Methods")).toContain(item.method.toLowerCase());
      for (const response of Object.values(item.responses)) {
        // CORS's own response headers are the browser's to read, not a script's: not exposed.
        for (const header of Object.keys(response.headers).filter(
          (name) => !/^access-control-/i.test(name),
        )) {
          expect(listed("Access-Control-Expose-Headers")).toContain(header);
        }
        expect(listed("Access-Control-Expose-Headers")).not.toContain(
          "access-control-allow-origin",
        );
      }
    }
    expect(listed("Access-Control-Allow-Headers")).toContain("content-type");
  });

  it("puts the security headers on answers and errors alike", async () => {
    for (const answer of [await createTodo(), await app.call({ method: "GET", path: "/nope" })]) {
      expect(answer.headers["X-Content-Type-Options"]).toBe("nosniff");
      expect(answer.headers["Cache-Control"]).toBe("no-store");
      expect(answer.headers["Strict-Transport-Security"]).toMatch(/max-age=\d+/);
      expect(answer.headers["Content-Security-Policy"]).toContain("default-src 'none'");
    }
  });
});

describe("GET /todos", () => {
  it("answers limit out of range, non-numbers and unknown parameters with 400", async () => {
    for (const query of [
      { limit: "0" },
      { limit: "101" },
      { limit: "ten" },
      { limit: "1.5" },
      { status: "open" },
      { limt: "5" },
    ]) {
      const answer = await call("listTodos", {
        method: "GET",
        path: "/todos",
        query: query as unknown as Record<string, string>,
      });
      expect(answer.statusCode, JSON.stringify(query)).toBe(400);
      expect(answer.json.errors[0].pointer).toMatch(/^\/query\//);
    }
  });

  it.each([["garbage"], ["a.b"], ["eyJ2IjoxfQ.AAAA"]])(
    "answers the junk nextToken %s with 400",
    async (nextToken) => {
      const answer = await call("listTodos", {
        method: "GET",
        path: "/todos",
        query: { nextToken },
      });
      expect(answer.statusCode).toBe(400);
      expect(answer.json.errors[0].pointer).toBe("/query/nextToken");
    },
  );
});

describe("GET /todos over a large table", () => {
  let listing: TestApp;
  const created: { id: string; status: string }[] = [];

  beforeAll(async () => {
    listing = buildTestApp({ endpoint: db.endpoint, tableName: await db.createTable() });
    // 300 todos of ~4 KB each: 1.2 MB, past DynamoDB's 1 MB page.
    for (let i = 0; i < 300; i++) {
      const status = i % 3 === 0 ? "done" : "pending";
      const answer = await listing.call({
        method: "POST",
        path: "/todos",
        body: { title: `Todo ${i}`, description: `${i} `.padEnd(2000, "ü"), status },
      });
      expect(answer.statusCode).toBe(201);
      created.push({ id: answer.json.id, status });
    }
  }, 120_000);
  afterAll(() => listing?.documentClient.destroy());

  async function walk(query: Record<string, string>) {
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const answer = await listing.call({
        method: "GET",
        path: "/todos",
        query: { ...query, ...(nextToken ? { nextToken } : {}) },
      });
      expect(contractViolations("listTodos", asApiResponse(answer))).toEqual([]);
      expect(answer.json.items.length).toBeLessThanOrEqual(Number(query.limit ?? 20));
      seen.push(...answer.json.items.map((item: { id: string }) => item.id));
      nextToken = answer.json.nextToken;
      pages++;
    } while (nextToken && pages < 1000);
    return { seen, pages };
  }

  it("reaches every todo exactly once, newest first, 7 at a time", async () => {
    const { seen, pages } = await walk({ limit: "7" });
    expect(seen).toEqual(created.map((todo) => todo.id).reverse());
    expect(pages).toBe(Math.ceil(300 / 7));
  });

  it("does the same with the status filter", async () => {
    for (const status of ["done", "pending"]) {
      const { seen } = await walk({ limit: "7", status });
      expect(seen).toEqual(
        created
          .filter((todo) => todo.status === status)
          .map((todo) => todo.id)
          .reverse(),
      );
    }
  });

  it("answers 20 by default and ends the last page without a nextToken", async () => {
    const first = await listing.call({ method: "GET", path: "/todos" });
    expect(first.json.items).toHaveLength(20);
    const { seen } = await walk({ limit: "100" });
    expect(seen).toHaveLength(300);
  });

  it("refuses a token used with another status filter, or altered", async () => {
    const first = await listing.call({
      method: "GET",
      path: "/todos",
      query: { limit: "5", status: "done" },
    });
    const token: string = first.json.nextToken;
    const foreign = await listing.call({
      method: "GET",
      path: "/todos",
      query: { nextToken: token },
    });
    expect(foreign.statusCode).toBe(400);
    const [payload, signature] = token.split(".") as [string, string];
    const position = JSON.parse(Buffer.from(payload, "base64url").toString());
    const altered = Buffer.from(JSON.stringify({ ...position, id: created[0]?.id })).toString(
      "base64url",
    );
    const tampered = await listing.call({
      method: "GET",
      path: "/todos",
      query: { status: "done", nextToken: `${altered}.${signature}` },
    });
    expect(tampered.statusCode).toBe(400);
  });
});

describe("when DynamoDB cannot be reached", () => {
  it("answers 503 before the Lambda's own timeout when DynamoDB hangs", async () => {
    // Accepts connections and never answers.
    const sockets: Socket[] = [];
    const hanging = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    const { port } = hanging.address() as AddressInfo;
    const slow = buildTestApp({ endpoint: `http://127.0.0.1:${port}`, tableName: "t" });
    const started = Date.now();
    const answer = await slow.call({ method: "GET", path: "/todos" }, { remainingTimeMs: 1500 });
    expect(answer.statusCode).toBe(503);
    expect(answer.headers["Retry-After"]).toBe("1");
    expect(Date.now() - started).toBeLessThan(1500);
    slow.documentClient.destroy();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => hanging.close(resolve));
  });

  it.each([
    ["listTodos", { method: "GET", path: "/todos" }],
    ["getTodo", { method: "GET", path: `/todos/${missingId}` }],
    ["updateTodo", { method: "PUT", path: `/todos/${missingId}`, body: { title: "x" } }],
    ["deleteTodo", { method: "DELETE", path: `/todos/${missingId}` }],
  ] as [OperationId, EventInput][])(
    "answers %s with a documented 503",
    async (operationId, input) => {
      const down = buildTestApp({
        endpoint: "http://127.0.0.1:9",
        tableName: "nowhere-table",
        clientTimeouts: { maxAttempts: 1 },
      });
      const answer = await down.call(input);
      expect(contractViolations(operationId, asApiResponse(answer))).toEqual([]);
      expect(answer.statusCode).toBe(503);
      down.documentClient.destroy();
    },
  );

  it("answers 503 with Retry-After and no internals", async () => {
    const down = buildTestApp({
      endpoint: "http://127.0.0.1:9",
      tableName: "nowhere-table",
      clientTimeouts: { maxAttempts: 2 },
    });
    const answer = await down.call({ method: "POST", path: "/todos", body: { title: "a" } });
    expect(contractViolations("createTodo", asApiResponse(answer))).toEqual([]);
    expect(answer.statusCode).toBe(503);
    expect(answer.headers["Retry-After"]).toBe("1");
    expect(answer.body).not.toMatch(/nowhere-table|ECONNREFUSED|at |Error/);
    down.documentClient.destroy();
  });
});
