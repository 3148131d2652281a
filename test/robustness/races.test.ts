// Generated races, in process: many concurrent invocations of the Lambda on one dynalite.
// Each case creates a todo and fires a random batch of concurrent PUTs, DELETEs and GETs at
// it (with and without If-Match), or concurrent POSTs sharing an Idempotency-Key with one or
// two bodies. Whatever the interleaving, the answers and the stored todo must be consistent.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arbitraryFor, type OperationId, operation } from "../support/contract.ts";
import {
  type ApiRequest,
  type CheckedResponse,
  type InProcessApi,
  jsonRequest,
  startInProcessApi,
  todoItems,
} from "./support/api.ts";
import { check, seed } from "./support/fast-check.ts";
import { countCase, countInput, figures, reportFigures } from "./support/figures.ts";
import { createTodo, expectContract, type TodoJson } from "./support/todos.ts";

type Patch = Partial<Pick<TodoJson, "title" | "description" | "status">>;
const newTodo = arbitraryFor(operation("createTodo").body ?? {});
const todoPatch = arbitraryFor(operation("updateTodo").body ?? {}) as fc.Arbitrary<Patch>;
const ifMatch = fc.constantFrom(undefined, '"1"', '"2"', '"3"', "*");

type RaceOp =
  | { kind: "put"; patch: Patch; ifMatch: string | undefined }
  | { kind: "delete"; ifMatch: string | undefined }
  | { kind: "get" };

const raceOp: fc.Arbitrary<RaceOp> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant("put" as const), patch: todoPatch, ifMatch }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), ifMatch }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("get" as const) }) },
);

let api: InProcessApi;
let keyCounter = 0;

beforeAll(async () => {
  console.log(`races: fast-check seed ${seed}`);
  api = await startInProcessApi();
});

afterAll(async () => {
  await api?.stop();
  reportFigures(import.meta.filename);
});

const versionOf = (response: CheckedResponse) => Number(response.headers.etag?.replaceAll('"', ""));

describe("generated races on one todo, in process", () => {
  it("concurrent PUT / DELETE / GET: every answer documented, every applied write accounted for", async () => {
    const property = fc.asyncProperty(
      newTodo,
      fc.array(raceOp, { minLength: 2, maxLength: 30 }),
      async (input, ops) => {
        countCase();
        const { todo } = await createTodo(api.call, input);
        const requests: Array<[OperationId, ApiRequest]> = ops.map((op) => {
          const headers: Record<string, string> =
            op.kind !== "get" && op.ifMatch ? { "If-Match": op.ifMatch } : {};
          if (op.kind === "put")
            return ["updateTodo", jsonRequest("PUT", `/todos/${todo.id}`, op.patch, headers)];
          if (op.kind === "delete")
            return ["deleteTodo", { method: "DELETE", path: `/todos/${todo.id}`, headers }];
          return ["getTodo", { method: "GET", path: `/todos/${todo.id}` }];
        });
        countInput("race: concurrent PUT/DELETE/GET", requests.length);
        const answers = await Promise.all(requests.map(([, request]) => api.call(request)));
        answers.forEach((answer, index) => {
          expectContract(requests[index]?.[0] as OperationId, answer);
        });
        const results = ops.map((op, index) => ({ op, answer: answers[index] as CheckedResponse }));
        const puts = results.filter((r) => r.op.kind === "put" && r.answer.status === 200);
        const deleted = results.filter((r) => r.op.kind === "delete" && r.answer.status === 204);
        // One todo is deleted at most once.
        expect(deleted.length).toBeLessThanOrEqual(1);
        // Each applied PUT made its own version; each version was made once.
        const versions = puts.map((r) => versionOf(r.answer));
        expect(new Set(versions).size).toBe(versions.length);
        // A version named by If-Match lets at most one PUT through.
        for (const tag of ['"1"', '"2"', '"3"']) {
          const through = puts.filter((r) => r.op.kind === "put" && r.op.ifMatch === tag);
          expect(through.length, `If-Match ${tag}`).toBeLessThanOrEqual(1);
        }
        // 412 only where If-Match named a version; 404 only once the todo was deleted.
        for (const { op, answer } of results) {
          if (answer.status === 412)
            expect(op.kind !== "get" && op.ifMatch && op.ifMatch !== "*").toBeTruthy();
          if (answer.status === 404) expect(deleted.length).toBe(1);
        }
        const read = await api.call({ method: "GET", path: `/todos/${todo.id}` });
        if (deleted.length) {
          expect(read.status).toBe(404);
          return;
        }
        expect(read.status).toBe(200);
        // Every applied PUT, and only those, bumped the version.
        expect(versionOf(read)).toBe(1 + puts.length);
        // Each field holds what the last applied PUT that set it wrote.
        const stored = read.json() as TodoJson;
        const ordered = [...puts].sort((a, b) => versionOf(a.answer) - versionOf(b.answer));
        const expected = { ...todo } as TodoJson;
        for (const { op } of ordered) if (op.kind === "put") Object.assign(expected, op.patch);
        expect({ ...stored, updated_at: "" }).toEqual({ ...expected, updated_at: "" });
        // Reads see whole versions: each GET's body is one that some write produced.
        for (const { op, answer } of results) {
          if (op.kind === "get" && answer.status === 200) {
            const seen = answer.json() as TodoJson;
            const producedBy = [todo, ...puts.map((r) => r.answer.json() as TodoJson)];
            expect(producedBy).toContainEqual(seen);
          }
        }
        await api.call({ method: "DELETE", path: `/todos/${todo.id}` });
      },
    );
    await check(property, 150, 5_000);
  });

  it("concurrent POSTs sharing an Idempotency-Key, with one or two bodies: one todo, its id in every 201, 422 for the other body", async () => {
    const property = fc.asyncProperty(
      newTodo,
      newTodo,
      fc.array(fc.boolean(), { minLength: 2, maxLength: 25 }),
      async (first, second, useSecond) => {
        countCase();
        const key = `race-${seed}-${++keyCounter}`;
        const before = todoItems(await api.scan()).map((item) => item.id);
        countInput("race: POSTs sharing an Idempotency-Key", useSecond.length);
        const answers = await Promise.all(
          useSecond.map((second_) =>
            api.call(
              jsonRequest("POST", "/todos", second_ ? second : first, { "Idempotency-Key": key }),
            ),
          ),
        );
        for (const answer of answers) expectContract("createTodo", answer);
        const created = todoItems(await api.scan()).filter(
          (item) => !before.includes(item.id as string),
        );
        expect(created).toHaveLength(1);
        const id = created[0]?.id;
        const sameBody = JSON.stringify(normalized(first)) === JSON.stringify(normalized(second));
        const statuses: Record<number, number> = {};
        for (const answer of answers) statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        if (statuses[409]) countInput("409 in an idempotency race (carries no id)", statuses[409]);
        answers.forEach((answer, index) => {
          if (answer.status === 201) expect((answer.json() as TodoJson).id).toBe(id);
          else {
            // Only a request with the other body may be refused, and with 422.
            expect(answer.status, answer.body).toBe(422);
            expect(sameBody).toBe(false);
            expect(useSecond[index]).not.toBe(
              useSecond[answers.findIndex((a) => a.status === 201)],
            );
          }
        });
        await api.call({ method: "DELETE", path: `/todos/${id}` });
      },
    );
    await check(property, 120, 4_000);
  });

  it("saw no 5xx and no exposure", () => {
    expect(figures.serverErrors, figures.serverErrorSamples.join("\n")).toBe(0);
    expect(figures.exposures).toBe(0);
  });
});

function normalized(input: unknown) {
  const todo = input as { title: string; description?: string | null; status?: string };
  return {
    title: todo.title,
    description: todo.description ?? null,
    status: todo.status ?? "pending",
  };
}
