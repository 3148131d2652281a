// Invalid requests, made by mutating valid ones generated from openapi.yaml: every one is
// answered with a 4xx problem+json that the contract documents for its operation, never a
// 5xx, and the table (scanned straight from dynalite) is exactly as it was.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arbitraryFor, contractViolations, operation } from "../support/contract.ts";
import { type InProcessApi, startInProcessApi } from "./support/api.ts";
import { check, seed } from "./support/fast-check.ts";
import { countCase, countInput, figures, reportFigures } from "./support/figures.ts";
import { type Existing, type InvalidRequest, invalidRequestClasses } from "./support/mutations.ts";
import { createTodo } from "./support/todos.ts";

let api: InProcessApi;
let existing: Existing;
let tableBefore: Record<string, unknown>[];

beforeAll(async () => {
  console.log(`contract-invalid: fast-check seed ${seed}`);
  api = await startInProcessApi();
  const ids: string[] = [];
  for (const [index, input] of fc
    .sample(arbitraryFor(operation("createTodo").body ?? {}), { numRuns: 4, seed })
    .entries()) {
    const { todo } = await createTodo(
      api.call,
      input,
      index === 0 ? { "Idempotency-Key": `robustness-${seed}` } : {},
    );
    ids.push(todo.id);
  }
  const page = await api.call({ method: "GET", path: "/todos", query: { limit: "1" } });
  existing = { ids, nextToken: (page.json() as { nextToken: string }).nextToken };
  tableBefore = await api.scan();
});

afterAll(async () => {
  await api?.stop();
  reportFigures(import.meta.filename);
});

async function expectRefused({ inputClass, operationId, request, expected }: InvalidRequest) {
  countCase();
  countInput(inputClass);
  const response = await api.call(request);
  const what = `${inputClass}: ${request.method} ${request.path.slice(0, 80)} ${JSON.stringify(request.query ?? {}).slice(0, 80)} ${JSON.stringify(request.headers ?? {}).slice(0, 120)} ${JSON.stringify((request.body ?? "").slice(0, 200))} → ${response.status} ${response.body.slice(0, 300)}`;
  expect(response.status, what).toBeGreaterThanOrEqual(400);
  expect(response.status, what).toBeLessThan(500);
  if (expected) expect(expected, what).toContain(response.status);
  expect(response.headers["content-type"], what).toMatch(/^application\/problem\+json/);
  expect([...contractViolations(operationId, response), ...response.exposure], what).toEqual([]);
  expect(await api.scan(), `${what}\nthe table changed`).toEqual(tableBefore);
  expect(({} as Record<string, unknown>).polluted, "Object.prototype was polluted").toBeUndefined();
}

describe("invalid requests mutated from valid ones", () => {
  it("builds its fixtures", () => {
    expect(existing.ids).toHaveLength(4);
    expect(existing.nextToken).toBeTruthy();
  });

  // One test per class of mutation, so a failure names its class; all share one seed.
  const classNames = invalidRequestClasses({ ids: ["x"], nextToken: "a.b" }).map((arbitrary) => {
    const [sample] = fc.sample(arbitrary, { numRuns: 1, seed: 1 });
    return sample?.inputClass ?? "?";
  });
  for (const [index, inputClass] of classNames.entries()) {
    it(`${inputClass}: a documented 4xx problem, table unchanged`, async () => {
      const arbitrary = invalidRequestClasses(existing)[index];
      if (!arbitrary) throw new Error(`no class ${index}`);
      await check(fc.asyncProperty(arbitrary, expectRefused), 120, 700);
    });
  }

  it("the deepest nesting that fits in 16 KB, in every shape, on both body operations: a documented 4xx", async () => {
    const shapes = (depth: number) => ({
      objects: `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`,
      arrays: `${"[".repeat(depth * 2)}${"]".repeat(depth * 2)}`,
      "arrays in a field": `{"title":"t","x":${"[".repeat(depth * 2)}${"]".repeat(depth * 2)}}`,
    });
    for (const depth of [1000, 2000, 2500, 2700]) {
      for (const [shape, body] of Object.entries(shapes(depth))) {
        for (const [operationId, method, path] of [
          ["createTodo", "POST", "/todos"],
          ["updateTodo", "PUT", `/todos/${existing.ids[0]}`],
        ] as const) {
          await expectRefused({
            inputClass: "body: deep nesting",
            operationId,
            request: { method, path, headers: { "Content-Type": "application/json" }, body },
            expected: [400],
          }).catch((error: Error) => {
            throw new Error(`${shape} × ${depth}, ${method}: ${error.message.slice(0, 300)}`);
          });
        }
      }
    }
  });

  it("saw no 5xx and no exposure", () => {
    expect(figures.serverErrors, figures.serverErrorSamples.join("\n")).toBe(0);
    expect(figures.exposures).toBe(0);
  });
});
