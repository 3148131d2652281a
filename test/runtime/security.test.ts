// Issue #11's security tests end to end: the product's template.yaml and function under the
// local runtime, over real HTTP, with tokens of the runtime's own issuer (the Cognito
// authorizer as npm start emulates it, then the function's own checks). Two users, alice and
// bob; every token the authorizer must refuse; scopes. Nothing answers 5xx or shows internals.
import { join } from "node:path";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  devToken,
  type PreparedIssuer,
  prepareIssuer,
  refusedAuthorizations,
} from "../support/tokens.ts";
import { productOptions, type StartedRuntime, scratchDir, startRuntime } from "./helpers.ts";

let runtime: StartedRuntime;
let prepared: PreparedIssuer;
let removeScratch: () => Promise<void>;
let alice: string;
let bob: string;
let clientId: string;

beforeAll(async () => {
  const [dir, remove] = await scratchDir("security-runtime");
  removeScratch = remove;
  prepared = await prepareIssuer(join(dir, "issuer", "keys.json"));
  runtime = await startRuntime({
    ...productOptions(),
    port: prepared.port,
    issuerKeysFile: join(dir, "issuer", "keys.json"),
  });
  alice = await devToken(runtime.url, "alice");
  bob = await devToken(runtime.url, "bob");
  clientId = decodeJwt(alice).client_id as string;
}, 60_000);

afterAll(async () => {
  await runtime?.close();
  await removeScratch?.();
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

async function call(
  method: string,
  path: string,
  token: string | undefined,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {}
  return { status: response.status, headers: response.headers, text, json };
}

/** What no answer may show: stacks, library or SDK messages, the table, the function. */
function expectNothingInternal(answer: Answer) {
  expect(answer.status).toBeLessThan(500);
  for (const secret of [
    /\bat .+:\d+:\d+/,
    /Error:/,
    /TodosTable/,
    /TodoFunction/,
    /jose|JWS|JWT/,
    /dynamo/i,
  ]) {
    expect(answer.text).not.toMatch(secret);
  }
}

/** The answer without what differs on every request. */
const shapeOf = (answer: Answer) => ({
  status: answer.status,
  contentType: answer.headers.get("content-type"),
  body: { ...answer.json, instance: undefined, detail: undefined },
});

describe("two users through npm start: no one reaches another's todos (OWASP API1:2023)", () => {
  it("bob gets 404 for alice's todo, exactly as for an id that does not exist", async () => {
    const created = await call("POST", "/todos", alice, { body: { title: "alice's secret" } });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    const unknownId = `${id.slice(0, -4)}${id.endsWith("0000") ? "1111" : "0000"}`;
    for (const [method, body] of [
      ["GET", undefined],
      ["PUT", { title: "bob was here" }],
      ["DELETE", undefined],
    ] as const) {
      const theirs = await call(method, `/todos/${id}`, bob, { body });
      const nobodys = await call(method, `/todos/${unknownId}`, bob, { body });
      expect(theirs.status).toBe(404);
      expect(shapeOf(theirs)).toEqual(shapeOf(nobodys));
      expectNothingInternal(theirs);
    }
    const still = await call("GET", `/todos/${id}`, alice);
    expect(still.status).toBe(200);
    expect(still.json).toMatchObject({ title: "alice's secret" });
    const bobsList = await call("GET", "/todos?limit=100", bob);
    expect(bobsList.status).toBe(200);
    expect((bobsList.json.items as Array<{ id: string }>).map((todo) => todo.id)).not.toContain(id);
  });

  it("alice's nextToken in bob's request is 400 and reaches nothing", async () => {
    for (const title of ["one", "two", "three"]) {
      expect((await call("POST", "/todos", alice, { body: { title } })).status).toBe(201);
    }
    const page = await call("GET", "/todos?limit=1", alice);
    const nextToken = page.json.nextToken as string;
    expect(nextToken).toEqual(expect.any(String));
    const stolen = await call(
      "GET",
      `/todos?limit=1&nextToken=${encodeURIComponent(nextToken)}`,
      bob,
    );
    expect(stolen.status).toBe(400);
    expect(stolen.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(stolen.json.items).toBeUndefined();
    expectNothingInternal(stolen);
  });

  it("the same Idempotency-Key from alice and from bob makes two todos, one each", async () => {
    const key = `shared-key-${Date.now()}`;
    const body = { title: "same key" };
    const fromAlice = await call("POST", "/todos", alice, {
      body,
      headers: { "Idempotency-Key": key },
    });
    const fromBob = await call("POST", "/todos", bob, {
      body,
      headers: { "Idempotency-Key": key },
    });
    expect([fromAlice.status, fromBob.status]).toEqual([201, 201]);
    expect(fromAlice.json.id).not.toBe(fromBob.json.id);
    expect((await call("GET", `/todos/${fromBob.json.id}`, bob)).status).toBe(200);
    expect((await call("GET", `/todos/${fromBob.json.id}`, alice)).status).toBe(404);
    const replay = await call("POST", "/todos", alice, {
      body,
      headers: { "Idempotency-Key": key },
    });
    expect(replay.json.id).toBe(fromAlice.json.id);
  });
});

describe("tokens npm start's authorizer refuses: 401 from the template's GatewayResponses", () => {
  it("refuses every token of the issue's list on every operation, and the function never sees it", async () => {
    const refused = await refusedAuthorizations(prepared, {
      clientId,
      username: "alice",
      scopes: ["todos/read", "todos/write"],
    });
    const id = "01890a5d-ac96-774b-bcce-b302099a8057";
    const operations = [
      ["GET", "/todos", undefined],
      ["POST", "/todos", { title: "never" }],
      ["GET", `/todos/${id}`, undefined],
      ["PUT", `/todos/${id}`, { title: "never" }],
      ["DELETE", `/todos/${id}`, undefined],
    ] as const;
    const before = (await call("GET", "/todos?limit=100", alice)).json.items;
    for (const [what, headers] of refused) {
      for (const [method, path, body] of operations) {
        const answer = await call(method, path, undefined, { body, headers });
        expect({ what, method, path, status: answer.status }).toEqual({
          what,
          method,
          path,
          status: 401,
        });
        expect(answer.headers.get("content-type")).toBe("application/problem+json");
        expect(answer.headers.get("www-authenticate")).toBe("Bearer");
        expect(answer.json).toMatchObject({ title: "Unauthorized", status: 401 });
        expectNothingInternal(answer);
      }
    }
    expect((await call("GET", "/todos?limit=100", alice)).json.items).toEqual(before);
    expect(runtime.errors).toEqual([]);
  });
});

describe("scopes: the function's 403 insufficient_scope", () => {
  it("a token without todos/write reads, and every write is 403, changing nothing", async () => {
    const reader = await devToken(runtime.url, "alice", { scopes: ["todos/read"] });
    const created = await call("POST", "/todos", alice, { body: { title: "keep me" } });
    const id = created.json.id as string;
    expect((await call("GET", "/todos", reader)).status).toBe(200);
    expect((await call("GET", `/todos/${id}`, reader)).status).toBe(200);
    for (const [method, path, body] of [
      ["POST", "/todos", { title: "no" }],
      ["PUT", `/todos/${id}`, { title: "no" }],
      ["DELETE", `/todos/${id}`, undefined],
    ] as const) {
      const answer = await call(method, path, reader, { body });
      expect(answer.status).toBe(403);
      expect(answer.json).toMatchObject({ type: "/problems/insufficient-scope", status: 403 });
      // A function's WWW-Authenticate reaches the client renamed, as API Gateway REST renames it.
      expect(answer.headers.get("x-amzn-remapped-www-authenticate")).toBe(
        'Bearer error="insufficient_scope", scope="todos/write"',
      );
      expectNothingInternal(answer);
    }
    expect((await call("GET", `/todos/${id}`, alice)).json).toMatchObject({ title: "keep me" });
  });
});
