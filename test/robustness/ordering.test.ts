// "Newest first" is one order: todos created at once by several Lambda instances (worker
// threads of the local runtime), listed page by page, come in descending (created_at, id)
// order, with and without the status filter. Each todo's created_at is its id's instant.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallApi, httpApi } from "./support/api.ts";
import { countInput, reportFigures } from "./support/figures.ts";
import { type QuietRuntime, startQuietRuntime } from "./support/runtime.ts";
import { createTodo, listAll, type TodoJson } from "./support/todos.ts";

const instances = 4;
const todosToCreate = 240;
const inFlight = 24;
let runtime: QuietRuntime;
let call: CallApi;
const created: TodoJson[] = [];

const descendingByCreatedAtThenId = (a: TodoJson, b: TodoJson) =>
  a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1;

function idInstant(id: string): string {
  const hex = id.slice(0, 8) + id.slice(9, 13);
  return new Date(Number.parseInt(hex, 16)).toISOString();
}

beforeAll(async () => {
  runtime = await startQuietRuntime({ maxInstances: instances });
  call = httpApi(runtime.url, [runtime.tableName ?? "", runtime.ddbEndpoint]);
  // Every instance started before the burst, so that the creations really overlap.
  await Promise.all(
    Array.from({ length: instances * 3 }, () => call({ method: "GET", path: "/todos" })),
  );
  for (let wave = 0; wave < todosToCreate / inFlight; wave++) {
    const made = await Promise.all(
      Array.from({ length: inFlight }, (_, index) => {
        countInput("ordering: concurrent POST");
        return createTodo(call, {
          title: `wave ${wave} #${index}`,
          status: index % 3 === 0 ? "done" : "pending",
        });
      }),
    );
    created.push(...made.map(({ todo }) => todo));
  }
}, 120_000);

afterAll(async () => {
  await runtime?.close();
  reportFigures(import.meta.filename);
});

describe("todos created at once by several instances", () => {
  it("each carry their id's instant as created_at and as their first updated_at", () => {
    expect(created).toHaveLength(todosToCreate);
    for (const todo of created) {
      expect(todo.created_at, todo.id).toBe(idInstant(todo.id));
      expect(todo.updated_at).toBe(todo.created_at);
    }
  });

  it.each([
    ["every todo", {}],
    ["status=done", { status: "done" }],
    ["status=pending", { status: "pending" }],
  ])("list (%s) page by page in descending (created_at, id) order", async (_, filter) => {
    const pages: TodoJson[][] = [];
    const spy: CallApi = async (request, options) => {
      const answer = await call(request, options);
      if (answer.status === 200) pages.push((answer.json() as { items: TodoJson[] }).items);
      return answer;
    };
    const { items } = await listAll(spy, { limit: "7", ...filter });
    for (const page of pages) expect(page).toEqual([...page].sort(descendingByCreatedAtThenId));
    const expected = created
      .filter((todo) => !("status" in filter) || todo.status === filter.status)
      .sort(descendingByCreatedAtThenId);
    expect(items.map((todo) => todo.id)).toEqual(expected.map((todo) => todo.id));
  });
});
