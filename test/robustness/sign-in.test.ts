// Whatever claims reach the function, it decides as the contract says: a caller is signed in
// only by the claims of an access token with a `sub` (else 401), may do only what its scopes
// allow (else 403), acts only in the partition of that `sub`, and never answers 5xx or shows
// its insides. The claims are generated: missing, empty, of the wrong type or token, scopes
// with odd separators, extra claims, and not objects at all.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operations } from "../../generated/operations.ts";
import type { OperationId } from "../support/contract.ts";
import {
  type ApiRequest,
  type InProcessApi,
  jsonRequest,
  startInProcessApi,
} from "./support/api.ts";
import { check } from "./support/fast-check.ts";
import { countInput, reportFigures } from "./support/figures.ts";
import { createTodo, expectContract } from "./support/todos.ts";

let api: InProcessApi;
let id: string;

beforeAll(async () => {
  api = await startInProcessApi();
  ({
    todo: { id },
  } = await createTodo(api.call, { title: "someone's todo" }));
});

afterAll(async () => {
  await api?.stop();
  reportFigures(import.meta.filename);
});

const requestOf: Record<OperationId, () => ApiRequest> = {
  listTodos: () => ({ method: "GET", path: "/todos" }),
  createTodo: () => jsonRequest("POST", "/todos", { title: "from generated claims" }),
  getTodo: () => ({ method: "GET", path: `/todos/${id}` }),
  updateTodo: () => jsonRequest("PUT", `/todos/${id}`, { status: "done" }),
  deleteTodo: () => ({ method: "DELETE", path: `/todos/${id}` }),
};

const scopeWords = fc.constantFrom(
  "todos/read",
  "todos/write",
  "openid",
  "todos/*",
  "TODOS/READ",
  "",
);
const scope = fc.oneof(
  fc
    .array(scopeWords, { maxLength: 4 })
    .chain((words) =>
      fc.constantFrom(" ", ",", "  ", "+").map((separator) => words.join(separator)),
    ),
  fc.string(),
);
const claimValue = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
// An access token's claims as API Gateway passes them, with any of the API's scopes.
const accessTokenClaims = fc.record({
  sub: fc.uuid(),
  token_use: fc.constant("access"),
  scope: fc
    .subarray(["todos/read", "todos/write", "openid"])
    .chain((words) => fc.shuffledSubarray(words, { minLength: words.length }))
    .map((words) => words.join(" ")),
  client_id: fc.string({ minLength: 1 }),
});
const claims = fc.oneof(
  { weight: 3, arbitrary: accessTokenClaims },
  {
    weight: 6,
    arbitrary: fc
      .record(
        {
          sub: fc.oneof(
            { weight: 4, arbitrary: fc.uuid() },
            fc.constant(""),
            fc.string(),
            claimValue,
          ),
          token_use: fc.oneof(
            { weight: 4, arbitrary: fc.constant("access") },
            fc.constantFrom("id", "ACCESS", " access", ""),
            claimValue,
          ),
          scope: fc.oneof(scope, claimValue),
          client_id: fc.string(),
        },
        { requiredKeys: [] },
      )
      .chain((record) =>
        fc.dictionary(fc.string({ maxLength: 12 }), fc.string(), { maxKeys: 3 }).map((extra) => ({
          ...extra,
          ...record,
        })),
      ),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(fc.constant(null), fc.string(), fc.array(fc.string()), fc.integer()),
  },
);

/** What the contract says the answer must be, from the claims alone. */
function expectedOutcome(given: unknown, operationId: OperationId): "401" | "403" | "signed in" {
  const record =
    given !== null && typeof given === "object" ? (given as Record<string, unknown>) : {};
  if (typeof record.sub !== "string" || record.sub === "" || record.token_use !== "access") {
    return "401";
  }
  const granted = typeof record.scope === "string" ? record.scope.split(" ") : [];
  const needed =
    operations.find((operation) => operation.operationId === operationId)?.scopes ?? [];
  return needed.every((scopeName) => granted.includes(scopeName)) ? "signed in" : "403";
}

describe("claims, generated", () => {
  it("decide 401, 403 or the caller's own partition, never 5xx, never another's data", async () => {
    const seen = new Set<string>();
    const runs = await check(
      fc.asyncProperty(
        claims,
        fc.constantFrom(...(Object.keys(requestOf) as OperationId[])),
        async (given, operationId) => {
          countInput("sign-in: generated claims");
          const before = await api.scan();
          const response = await api.call({ ...requestOf[operationId](), claims: given });
          expectContract(operationId, response);
          const outcome = expectedOutcome(given, operationId);
          seen.add(outcome);
          if (outcome === "401") {
            expect(response.status).toBe(401);
            expect(response.headers["www-authenticate"]).toBe("Bearer");
          } else if (outcome === "403") {
            expect(response.status).toBe(403);
            expect(response.headers["www-authenticate"]).toMatch(
              /^Bearer error="insufficient_scope"/,
            );
          } else {
            // Signed in as someone who is not the todo's owner: their own (empty) partition.
            expect([200, 201, 404]).toContain(response.status);
            if (operationId === "listTodos") expect(response.json()).toEqual({ items: [] });
          }
          const after = await api.scan();
          if (outcome !== "signed in") expect(after).toEqual(before);
          // Nothing of the first owner's changes, whoever the caller is.
          const owned = (items: Record<string, unknown>[]) =>
            items.filter((item) => item.id === id);
          expect(owned(after)).toEqual(owned(before));
          // Whatever was written is the caller's.
          for (const item of after.filter(
            (candidate) => !before.some((old) => old.id === candidate.id),
          )) {
            expect(String(item.owner)).toContain((given as { sub: string }).sub);
          }
        },
      ),
      150,
      30_000,
    );
    expect(runs).toBeGreaterThan(0);
    // The generator reaches every outcome (a property that only ever saw 401 would prove little).
    if (runs >= 100) expect([...seen].sort()).toEqual(["401", "403", "signed in"]);
  });
});
