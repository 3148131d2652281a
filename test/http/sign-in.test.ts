// Sign-in as the function enforces it, in process: every event carries the claims API
// Gateway's Cognito authorizer passes for a real token (test/support/sign-in.ts). Two users
// never see each other's todos (OWASP API1:2023, broken object-level authorization), the
// function fails closed without claims, and scopes come from the contract.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OperationId, operations } from "../../generated/operations.ts";
import { type Answer, asApiResponse, buildTestApp, type TestApp } from "../support/app.ts";
import { contractViolations } from "../support/contract.ts";
import { startDynalite, type TestDynamoDb } from "../support/dynalite.ts";
import type { EventInput } from "../support/lambda-events.ts";
import { type TestUser, testUser } from "../support/sign-in.ts";

let db: TestDynamoDb;
let app: TestApp;
let alice: TestUser;
let bob: TestUser;
let aliceReadOnly: TestUser;
let aliceIdToken: TestUser;

beforeAll(async () => {
  db = await startDynalite();
  app = buildTestApp({ endpoint: db.endpoint, tableName: await db.createTable() });
  [alice, bob, aliceReadOnly, aliceIdToken] = await Promise.all([
    testUser("alice"),
    testUser("bob"),
    testUser("alice", { scopes: ["todos/read"] }),
    testUser("alice", { tokenUse: "id" }),
  ]);
});
afterAll(async () => {
  app?.documentClient.destroy();
  await db?.stop();
});

// What no answer may show: where the data is, a stack, a library's words.
const internals = () =>
  new RegExp([app.tableName, db.endpoint, "DynamoDB", "\\bat /", "ECONN", "jose", "JWS"].join("|"));

/** Calls as this user (claims of its token) and checks the answer against the contract. */
async function callAs(
  claims: TestUser["claims"] | null,
  operationId: OperationId,
  input: EventInput,
): Promise<Answer> {
  const answer = await app.call({
    ...input,
    claims,
    resource: input.path.startsWith("/todos/") ? "/todos/{id}" : "/todos",
  });
  expect(
    contractViolations(operationId, asApiResponse(answer)),
    `${input.method} ${input.path} → ${answer.statusCode} ${answer.body}`,
  ).toEqual([]);
  expect(answer.statusCode, answer.body).toBeLessThan(500);
  if (answer.statusCode >= 400) expect(answer.body).not.toMatch(internals());
  return answer;
}

async function createAs(user: TestUser, title: string, headers: Record<string, string> = {}) {
  const answer = await callAs(user.claims, "createTodo", {
    method: "POST",
    path: "/todos",
    body: { title },
    headers,
  });
  expect(answer.statusCode).toBe(201);
  return answer.json as { id: string; title: string };
}

const everyOperation = (id: string): [OperationId, EventInput][] => [
  ["listTodos", { method: "GET", path: "/todos" }],
  ["createTodo", { method: "POST", path: "/todos", body: { title: "x" } }],
  ["getTodo", { method: "GET", path: `/todos/${id}` }],
  ["updateTodo", { method: "PUT", path: `/todos/${id}`, body: { title: "y" } }],
  ["deleteTodo", { method: "DELETE", path: `/todos/${id}` }],
];

describe("two users (broken object-level authorization)", () => {
  it("B cannot read, change or delete A's todo: 404, exactly as for an id that does not exist", async () => {
    const todo = await createAs(alice, "Alice's secret");
    const missing = "0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b";
    for (const [operationId, input] of everyOperation(todo.id).slice(2)) {
      const foreign = await callAs(bob.claims, operationId, input);
      const absent = await callAs(bob.claims, operationId, {
        ...input,
        path: input.path.replace(todo.id, missing),
      });
      expect(foreign.statusCode, `${input.method} of A's todo by B`).toBe(404);
      // No existence oracle: the same answer but for the id it names.
      const withoutIds = (answer: Answer) => ({
        ...answer.json,
        detail: answer.json.detail.replace(todo.id, "ID").replace(missing, "ID"),
        instance: undefined,
      });
      expect(withoutIds(foreign)).toEqual(withoutIds(absent));
      expect(Object.keys(foreign.headers).sort()).toEqual(Object.keys(absent.headers).sort());
    }
    // And nothing B did changed it.
    const still = await callAs(alice.claims, "getTodo", {
      method: "GET",
      path: `/todos/${todo.id}`,
    });
    expect(still.statusCode).toBe(200);
    expect(still.json).toEqual({ ...todo, ...still.json, title: "Alice's secret" });
    expect(still.headers.ETag).toBe('"1"');
  });

  it("B's list never shows A's todos, with or without the status filter", async () => {
    const todo = await createAs(alice, "Only Alice's");
    for (const query of [{}, { status: "pending" }, { limit: "100" }] as Record<string, string>[]) {
      const list = await callAs(bob.claims, "listTodos", { method: "GET", path: "/todos", query });
      expect(list.statusCode).toBe(200);
      expect(list.json.items.map((item: { id: string }) => item.id)).not.toContain(todo.id);
    }
    const own = await callAs(alice.claims, "listTodos", { method: "GET", path: "/todos" });
    expect(own.json.items.map((item: { id: string }) => item.id)).toContain(todo.id);
  });

  it("A's nextToken in B's request is 400 and reaches nothing", async () => {
    await createAs(alice, "Page one");
    await createAs(alice, "Page two");
    const page = await callAs(alice.claims, "listTodos", {
      method: "GET",
      path: "/todos",
      query: { limit: "1" },
    });
    expect(page.json.nextToken).toEqual(expect.any(String));
    const stolen = await callAs(bob.claims, "listTodos", {
      method: "GET",
      path: "/todos",
      query: { limit: "1", nextToken: page.json.nextToken },
    });
    expect(stolen.statusCode).toBe(400);
    expect(stolen.json.errors).toEqual([expect.objectContaining({ pointer: "/query/nextToken" })]);
    expect(stolen.body).not.toMatch(/Page (one|two)/);
  });

  it("the same Idempotency-Key from A and from B makes two todos, one each", async () => {
    const headers = { "Idempotency-Key": `shared-key-${Date.now()}` };
    const ofAlice = await createAs(alice, "Same key", headers);
    const ofBob = await createAs(bob, "Same key", headers);
    expect(ofBob.id).not.toBe(ofAlice.id);
    const todos = (await app.scanTable()).filter((item) => item.title === "Same key");
    expect(todos.map((item) => item.owner).sort()).toEqual([alice.sub, bob.sub].sort());
    // Each replays their own.
    const replay = await callAs(bob.claims, "createTodo", {
      method: "POST",
      path: "/todos",
      body: { title: "Same key" },
      headers,
    });
    expect(replay.json.id).toBe(ofBob.id);
    expect(replay.headers["Idempotent-Replayed"]).toBe("true");
  });

  it("keeps each user's todos in the partition of the token's sub", async () => {
    const todo = await createAs(bob, "Where is it kept");
    const stored = (await app.scanTable()).find((item) => item.id === todo.id);
    expect(stored?.owner).toBe(bob.sub);
  });
});

describe("without a usable sign-in: 401, fail closed", () => {
  const expectUnauthorized = (answer: Answer) => {
    expect(answer.statusCode).toBe(401);
    expect(answer.headers["WWW-Authenticate"]).toBe("Bearer");
    expect(answer.headers["Content-Type"]).toBe("application/problem+json");
    expect(answer.json).toMatchObject({ status: 401, title: "Unauthorized" });
  };

  it.each(everyOperation("0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"))(
    "answers %s without claims with 401 and WWW-Authenticate: Bearer",
    async (operationId, input) => {
      expectUnauthorized(await callAs(null, operationId, input));
    },
  );

  it.each([
    ["the claims of an ID token", () => aliceIdToken.claims],
    ["claims without sub", () => ({ ...alice.claims, sub: undefined }) as never],
    ["claims with an empty sub", () => ({ ...alice.claims, sub: "" })],
    ["claims without token_use", () => ({ ...alice.claims, token_use: undefined }) as never],
    ["claims that are not an object", () => "sub=alice" as never],
  ])("answers %s with 401 on reads and writes", async (_, claims) => {
    expectUnauthorized(await callAs(claims(), "listTodos", { method: "GET", path: "/todos" }));
    expectUnauthorized(
      await callAs(claims(), "createTodo", {
        method: "POST",
        path: "/todos",
        body: { title: "x" },
      }),
    );
  });

  it("never falls back to a shared owner: nothing is written without claims", async () => {
    const before = (await app.scanTable()).length;
    await callAs(null, "createTodo", {
      method: "POST",
      path: "/todos",
      body: { title: "Nobody's" },
      headers: { "Idempotency-Key": "nobody" },
    });
    expect((await app.scanTable()).length).toBe(before);
  });

  it("answers 401 before looking at the request: an invalid body or path is still 401", async () => {
    expectUnauthorized(
      await callAs(null, "createTodo", { method: "POST", path: "/todos", body: "{not json" }),
    );
    expectUnauthorized(await callAs(null, "getTodo", { method: "GET", path: "/todos/not-an-id" }));
    const unrouted = await app.call({ method: "GET", path: "/nowhere", claims: null });
    expectUnauthorized(unrouted);
  });

  it("keeps CORS preflight open (no sign-in), with Authorization among the allowed headers", async () => {
    const answer = await app.call({
      method: "OPTIONS",
      path: "/todos",
      claims: null,
      headers: { "Access-Control-Request-Method": "POST", Origin: "http://allowed.test" },
    });
    expect(answer.statusCode).toBe(204);
    expect(answer.headers["Access-Control-Allow-Origin"]).toBe("http://allowed.test");
    expect(answer.headers["Access-Control-Allow-Headers"]?.toLowerCase()).toContain(
      "authorization",
    );
    expect(answer.headers["Access-Control-Expose-Headers"]).toContain("WWW-Authenticate");
  });
});

describe("scopes, from the contract's security", () => {
  it("names todos/read for reads and todos/write for writes in the operation table", () => {
    expect(Object.fromEntries(operations.map((o) => [o.operationId, o.scopes]))).toEqual({
      listTodos: ["todos/read"],
      getTodo: ["todos/read"],
      createTodo: ["todos/write"],
      updateTodo: ["todos/write"],
      deleteTodo: ["todos/write"],
    });
  });

  it("a read-only token reads, and every write is 403 insufficient_scope, changing nothing", async () => {
    const todo = await createAs(alice, "Read me only");
    const list = await callAs(aliceReadOnly.claims, "listTodos", { method: "GET", path: "/todos" });
    expect(list.statusCode).toBe(200);
    expect(list.json.items.map((item: { id: string }) => item.id)).toContain(todo.id);
    const read = await callAs(aliceReadOnly.claims, "getTodo", {
      method: "GET",
      path: `/todos/${todo.id}`,
    });
    expect(read.statusCode).toBe(200);

    const before = await app.scanTable();
    for (const [operationId, input] of everyOperation(todo.id).filter(([id]) =>
      ["createTodo", "updateTodo", "deleteTodo"].includes(id),
    )) {
      const answer = await callAs(aliceReadOnly.claims, operationId, input);
      expect(answer.statusCode, operationId).toBe(403);
      expect(answer.headers["WWW-Authenticate"]).toBe(
        'Bearer error="insufficient_scope", scope="todos/write"',
      );
      expect(answer.json).toMatchObject({ type: "/problems/insufficient-scope", status: 403 });
    }
    expect(await app.scanTable()).toEqual(before);
  });

  it("a write-only token writes, and reads are 403 naming todos/read", async () => {
    const writer = await testUser("alice", { scopes: ["todos/write"] });
    const todo = await createAs(writer, "Write only");
    const read = await callAs(writer.claims, "getTodo", {
      method: "GET",
      path: `/todos/${todo.id}`,
    });
    expect(read.statusCode).toBe(403);
    expect(read.headers["WWW-Authenticate"]).toBe(
      'Bearer error="insufficient_scope", scope="todos/read"',
    );
  });

  it("checks the scope before the body: a read-only token's bad body is 403, not 400", async () => {
    const answer = await callAs(aliceReadOnly.claims, "createTodo", {
      method: "POST",
      path: "/todos",
      body: { title: "" },
    });
    expect(answer.statusCode).toBe(403);
  });

  it("a token with no scope at all is refused everywhere with 403", async () => {
    const scopeless = await testUser("alice", { scopes: [] });
    const answer = await callAs(scopeless.claims, "listTodos", { method: "GET", path: "/todos" });
    expect(answer.statusCode).toBe(403);
  });
});
