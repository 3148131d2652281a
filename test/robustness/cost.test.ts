// Hostile input must be cheap to refuse: adversarial strings as long as the 16 KB body limit
// allows, in every string field of the contract, are refused at once. The bound (250 ms, for
// work that takes a few milliseconds) is a functional one: it catches super-linear
// validation (regex backtracking), not ordinary slowness.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InProcessApi, startInProcessApi } from "./support/api.ts";
import { countInput, reportFigures } from "./support/figures.ts";
import { createTodo, expectContract } from "./support/todos.ts";

const boundMs = 250;
let api: InProcessApi;
let id: string;

beforeAll(async () => {
  api = await startInProcessApi();
  ({
    todo: { id },
  } = await createTodo(api.call, { title: "cost" }));
});

afterAll(async () => {
  await api?.stop();
  reportFigures(import.meta.filename);
});

// Strings that almost match each pattern and fail at their very end, where backtracking
// regexes spend the most.
const fill = 16_000;
const adversarial: Array<[string, string]> = [
  ["letters then a control character", `${"a".repeat(fill)}\u0000`],
  ["letters then a C1 control", `${"a".repeat(fill)}\u0085`],
  ["letters then a lone surrogate", `${"a".repeat(fill)}\ud800`],
  ["letter-space pairs then a control", `${"a ".repeat(fill / 2)}\u0001`],
  ["blanks then a control", `${" ".repeat(fill)}\u0002`],
];

describe("refusing hostile input is cheap", () => {
  for (const field of ["title", "description"]) {
    for (const [shape, text] of adversarial) {
      it(`${field}: ${shape} (${text.length} characters) is refused within ${boundMs} ms`, async () => {
        for (const [operationId, method, path] of [
          ["createTodo", "POST", "/todos"],
          ["updateTodo", "PUT", `/todos/${id}`],
        ] as const) {
          countInput("cost: adversarial 16 KB strings");
          const body = JSON.stringify({
            ...(field === "title" ? {} : { title: "t" }),
            [field]: text,
          });
          const response = await api.call({
            method,
            path,
            headers: { "Content-Type": "application/json" },
            body,
          });
          expectContract(operationId, response);
          expect(response.status).toBe(400);
          expect(Math.round(response.elapsedMs), `${method} ${field}`).toBeLessThan(boundMs);
        }
      });
    }
  }

  it("a nextToken or Idempotency-Key of hostile length is refused within the bound too", async () => {
    for (const nextToken of [`${"a".repeat(8000)}!`, `${"a.".repeat(4000)}!`]) {
      countInput("cost: adversarial 16 KB strings");
      const response = await api.call({ method: "GET", path: "/todos", query: { nextToken } });
      expectContract("listTodos", response);
      expect(response.status).toBe(400);
      expect(Math.round(response.elapsedMs)).toBeLessThan(boundMs);
    }
    const response = await api.call({
      method: "POST",
      path: "/todos",
      headers: { "Content-Type": "application/json", "Idempotency-Key": `${"a".repeat(8000)} ` },
      body: JSON.stringify({ title: "t" }),
    });
    expect(response.status).toBe(400);
    expect(Math.round(response.elapsedMs)).toBeLessThan(boundMs);
  });
});
