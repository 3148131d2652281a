// A failing database: unreachable, hanging, throttling. Every request is answered 503
// problem+json with Retry-After well inside the function's 10 s Timeout, nothing is half
// written, and the API recovers by itself once the database is back. The Lambda uses its real
// SDK client (src/dynamodb/client.ts: 500 ms connect, 1000 ms request, 3 attempts)
// against a proxy in front of dynalite. Each test gets its own instance (dynalite, proxy,
// Lambda), as a fresh Lambda instance would be: the SDK's retry budget is not shared.
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { contractViolations, type OperationId } from "../support/contract.ts";
import {
  type ApiRequest,
  type CheckedResponse,
  type InProcessApi,
  jsonRequest,
  startInProcessApi,
  todoItems,
} from "./support/api.ts";
import { type Fault, FaultProxy } from "./support/fault-proxy.ts";
import { countInput, figures, record503, reportFigures } from "./support/figures.ts";
import { createTodo, expectContract, listAll, type TodoJson } from "./support/todos.ts";

/** A functional bound from the contract: 503 long before the 10 s function Timeout. */
const answerWithinMs = 8_000;

afterAll(() => reportFigures(import.meta.filename));

interface FaultyApi {
  api: InProcessApi;
  proxy: FaultProxy;
  todo: TodoJson;
  etag: string;
}

async function withFaultyApi(test: (setup: FaultyApi) => Promise<void>): Promise<void> {
  const proxy = new FaultProxy();
  const api = await startInProcessApi({ appEndpoint: (dynalite) => proxy.start(dynalite) });
  try {
    const { todo, etag } = await createTodo(api.call, { title: "survives every fault" });
    await test({ api, proxy, todo, etag });
  } finally {
    await proxy.close();
    await api.stop();
  }
}

/** Switches the proxy and gives the client a moment to see the connections it cut. */
async function switchTo(proxy: FaultProxy, fault: Fault | Parameters<FaultProxy["plan"]>[0]) {
  if (typeof fault === "function") await proxy.plan(fault);
  else await proxy.set(fault);
  await sleep(200);
}

/** One request of every operation, with and without the optional headers. */
function everyOperation(
  todo: TodoJson,
  etag: string,
  tag: string,
): Array<[OperationId, ApiRequest]> {
  return [
    ["createTodo", jsonRequest("POST", "/todos", { title: `created during ${tag}` })],
    [
      "createTodo",
      jsonRequest(
        "POST",
        "/todos",
        { title: `keyed during ${tag}` },
        { "Idempotency-Key": `k-${tag}` },
      ),
    ],
    ["getTodo", { method: "GET", path: `/todos/${todo.id}` }],
    ["getTodo", { method: "GET", path: `/todos/${todo.id}`, headers: { "If-None-Match": etag } }],
    ["updateTodo", jsonRequest("PUT", `/todos/${todo.id}`, { status: "done" })],
    ["updateTodo", jsonRequest("PUT", `/todos/${todo.id}`, { title: "x" }, { "If-Match": etag })],
    ["deleteTodo", { method: "DELETE", path: `/todos/${todo.id}` }],
    ["deleteTodo", { method: "DELETE", path: `/todos/${todo.id}`, headers: { "If-Match": etag } }],
    ["listTodos", { method: "GET", path: "/todos" }],
    ["listTodos", { method: "GET", path: "/todos", query: { status: "pending", limit: "5" } }],
  ];
}

function expect503(operationId: OperationId, response: CheckedResponse, fault: string) {
  const what = `${fault}: ${operationId} → ${response.status} after ${Math.round(response.elapsedMs)} ms ${response.body.slice(0, 200)}`;
  expect(response.status, what).toBe(503);
  expect(response.headers["retry-after"], what).toMatch(/^\d+$/);
  expect([...contractViolations(operationId, response), ...response.exposure], what).toEqual([]);
  expect(response.elapsedMs, what).toBeLessThan(answerWithinMs);
}

const faults: Array<[string, Fault]> = [
  ["unreachable (nothing listening)", { kind: "refuse" }],
  ["hanging (accepts, never answers)", { kind: "hang" }],
  ["throttling (ThrottlingException)", { kind: "throttle", errorType: "ThrottlingException" }],
  [
    "throttling (ProvisionedThroughputExceeded)",
    { kind: "throttle", errorType: "ProvisionedThroughputExceededException" },
  ],
];

describe("a failing database", () => {
  for (const [index, [name, fault]] of faults.entries()) {
    it(`${name}: every request is 503 with Retry-After in time, nothing written, and the API recovers`, async () => {
      await withFaultyApi(async ({ api, proxy, todo, etag }) => {
        const before = await api.scan();
        await switchTo(proxy, fault);
        // Titles and keys carry a number, not the fault's name: an answer naming an
        // "…Exception" would look like a leak to the exposure check.
        const requests = [
          ...everyOperation(todo, etag, `f${index}a`),
          ...everyOperation(todo, etag, `f${index}b`),
        ];
        const answers = await Promise.all(
          requests.map(async ([operationId, request]) => {
            countInput(`fault: ${name}`);
            return [operationId, await api.call(request, { expect503: true })] as const;
          }),
        );
        for (const [operationId, response] of answers) {
          record503(name, response.elapsedMs);
          expect503(operationId, response, name);
        }
        expect(await api.scan(), "nothing may be written while the database fails").toEqual(before);

        // Back: the next requests succeed, with no restart.
        await switchTo(proxy, { kind: "pass" });
        const read = await api.call({ method: "GET", path: `/todos/${todo.id}` });
        expectContract("getTodo", read);
        expect(read.status, read.body).toBe(200);
        const retried = await api.call(
          jsonRequest(
            "POST",
            "/todos",
            { title: `keyed during f${index}a` },
            { "Idempotency-Key": `k-f${index}a` },
          ),
        );
        expectContract("createTodo", retried);
        expect(retried.status, retried.body).toBe(201);
        const updated = await api.call(jsonRequest("PUT", `/todos/${todo.id}`, { status: "done" }));
        expect(updated.status, updated.body).toBe(200);
        const { items } = await listAll(api.call, {});
        expect(items.map((item) => item.id).sort()).toEqual(
          [todo.id, (retried.json() as TodoJson).id].sort(),
        );
      });
    }, 30_000);
  }

  it("a POST with an Idempotency-Key that failed half-way (key claimed, todo not written) succeeds on retry once the database is back, at the latest when the first invocation's time is up", async () => {
    await withFaultyApi(async ({ api, proxy }) => {
      countInput("fault: fails after the key is claimed");
      // The key's claim (a PutItem into the idempotency partition) passes; all else is throttled.
      await switchTo(proxy, ({ operation, body }) =>
        operation === "PutItem" && body.includes("idempotency#")
          ? { kind: "pass" }
          : { kind: "throttle", errorType: "ThrottlingException" },
      );
      const request = jsonRequest(
        "POST",
        "/todos",
        { title: "half way" },
        { "Idempotency-Key": "half-way" },
      );
      // An invocation with 4 s to live (the template gives 10 s; shorter keeps the test short).
      const invocationMs = 4_000;
      const started = Date.now();
      const failed = await api.call(request, { expect503: true, remainingTimeMs: invocationMs });
      record503("throttled after the key's claim", failed.elapsedMs);
      expect503("createTodo", failed, "throttled after the claim");
      await switchTo(proxy, { kind: "pass" });
      // The client retries; until the first invocation's deadline the key may still be held
      // (409, documented), never longer, and never a second todo.
      const statuses: number[] = [];
      let retried = await api.call(request);
      while (retried.status === 409 && Date.now() - started < invocationMs + 3_000) {
        statuses.push(retried.status);
        await sleep(250);
        retried = await api.call(request);
      }
      expectContract("createTodo", retried);
      expect(retried.status, `retries answered ${statuses.join(", ")} then ${retried.body}`).toBe(
        201,
      );
      const created = retried.json() as TodoJson;
      const copies = todoItems(await api.scan()).filter((item) => item.title === "half way");
      expect(copies.map((item) => item.id)).toEqual([created.id]);
      if (statuses.length) {
        console.log(
          `half-way POST: the key was held ${Math.round((Date.now() - started) / 100) / 10} s after the first request (${statuses.length} × 409)`,
        );
      }
    });
  }, 30_000);

  for (const [operation, label] of [
    ["PutItem", "create"],
    ["UpdateItem", "update"],
    ["DeleteItem", "delete"],
  ] as const) {
    it(`an answer lost on the way back (${label} applied, reply dropped): no 5xx other than 503, and the write is whole`, async () => {
      await withFaultyApi(async ({ api, proxy, todo }) => {
        countInput("fault: answer lost after the write");
        let lost = false;
        await switchTo(proxy, ({ operation: op }) => {
          if (op === operation && !lost) {
            lost = true;
            return { kind: "lose-answer" };
          }
          return { kind: "pass" };
        });
        const request: ApiRequest =
          label === "create"
            ? jsonRequest("POST", "/todos", { title: "lost answer" })
            : label === "update"
              ? jsonRequest("PUT", `/todos/${todo.id}`, { status: "done" })
              : { method: "DELETE", path: `/todos/${todo.id}` };
        const response = await api.call(request, { expect503: true });
        expect(lost, "the fault happened").toBe(true);
        const operationId: OperationId =
          label === "create" ? "createTodo" : label === "update" ? "updateTodo" : "deleteTodo";
        const what = `${label} with its answer lost → ${response.status} ${response.body.slice(0, 200)}`;
        expect([...contractViolations(operationId, response), ...response.exposure], what).toEqual(
          [],
        );
        // DELETE: the SDK's retry of the lost call finds the todo gone; 404 says the same.
        const acceptable = { create: [201, 503], update: [200, 503], delete: [204, 404, 503] }[
          label
        ];
        expect(acceptable, what).toContain(response.status);
        if (response.status === 503) record503("answer lost after the write", response.elapsedMs);
        // The write happened: whatever the answer, it is whole and there exactly once.
        const stored = todoItems(await api.scan());
        if (label === "create")
          expect(stored.filter((item) => item.title === "lost answer")).toHaveLength(1);
        if (label === "update")
          expect(stored.find((item) => item.id === todo.id)?.status).toBe("done");
        if (label === "delete") expect(stored.find((item) => item.id === todo.id)).toBeUndefined();
      });
    }, 30_000);
  }

  it("saw no unexpected 5xx", () => {
    expect(figures.serverErrors, figures.serverErrorSamples.join("\n")).toBe(0);
  });
});
