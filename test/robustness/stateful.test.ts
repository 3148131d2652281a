// Random interleavings of create, get, update, list and delete against a model kept by the
// test (fast-check's model-based testing): after every step the API and the model agree.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arbitraryFor, operation, parameter } from "../support/contract.ts";
import { type InProcessApi, jsonRequest, startInProcessApi, todoItems } from "./support/api.ts";
import { check, seed } from "./support/fast-check.ts";
import { countCase, countInput, figures, reportFigures } from "./support/figures.ts";
import {
  createTodo,
  expectContract,
  listAll,
  newestFirst,
  type TodoJson,
} from "./support/todos.ts";

interface Model {
  todos: Map<string, { todo: TodoJson; etag: string }>;
  /** A listing walked one page per command, with other commands in between. */
  walk?: { nextToken: string; lastId: string; limit: number; status: string | null };
}
type Real = InProcessApi;
type TodoCommand = fc.AsyncCommand<Model, Real>;

const newTodo = arbitraryFor(operation("createTodo").body ?? {});
const todoPatch = arbitraryFor(operation("updateTodo").body ?? {}) as fc.Arbitrary<
  Partial<Pick<TodoJson, "title" | "description" | "status">>
>;
const limit = arbitraryFor(parameter("listTodos", "limit").schema);
const statusFilter = arbitraryFor(parameter("listTodos", "status").schema);
const unknownId = fc.uuid({ version: 7 });

/** Picks a todo of the model by a generated number, or none when the model is empty. */
function pick(model: Model, index: number) {
  const ids = [...model.todos.keys()];
  return ids.length ? model.todos.get(ids[index % ids.length] as string) : undefined;
}

async function expectGone(api: Real, id: string) {
  const response = await api.call({ method: "GET", path: `/todos/${id}` });
  expectContract("getTodo", response);
  expect(response.status, `${id} should be gone`).toBe(404);
}

let keyCounter = 0;

class Create implements TodoCommand {
  readonly input: unknown;
  readonly withKey: boolean;
  constructor(input: unknown, withKey: boolean) {
    this.input = input;
    this.withKey = withKey;
  }
  check = () => true;
  async run(model: Model, api: Real) {
    countInput("stateful create");
    const headers: Record<string, string> = this.withKey
      ? { "Idempotency-Key": `${seed}-${++keyCounter}` }
      : {};
    const { todo, etag } = await createTodo(api.call, this.input, headers);
    model.todos.set(todo.id, { todo, etag });
    // Readable at once.
    const read = await api.call({ method: "GET", path: `/todos/${todo.id}` });
    expect(read.status).toBe(200);
    expect(read.json()).toEqual(todo);
  }
  toString = () => `create(${JSON.stringify(this.input)}${this.withKey ? ", key" : ""})`;
}

class Get implements TodoCommand {
  readonly index: number;
  readonly fallbackId: string;
  constructor(index: number, fallbackId: string) {
    this.index = index;
    this.fallbackId = fallbackId;
  }
  check = () => true;
  async run(model: Model, api: Real) {
    countInput("stateful get");
    const known = pick(model, this.index);
    const id = known?.todo.id ?? this.fallbackId;
    const response = await api.call({ method: "GET", path: `/todos/${id}` });
    expectContract("getTodo", response);
    if (!known) {
      expect(response.status).toBe(404);
      return;
    }
    expect(response.status).toBe(200);
    expect(response.json()).toEqual(known.todo);
    expect(response.headers.etag).toBe(known.etag);
  }
  toString = () => `get(#${this.index})`;
}

type Patch = Partial<Pick<TodoJson, "title" | "description" | "status">>;

class Update implements TodoCommand {
  readonly index: number;
  readonly patch: Patch;
  readonly condition: "none" | "current" | "stale" | "*";
  readonly fallbackId: string;
  constructor(
    index: number,
    patch: Patch,
    condition: "none" | "current" | "stale" | "*",
    fallbackId: string,
  ) {
    this.index = index;
    this.patch = patch;
    this.condition = condition;
    this.fallbackId = fallbackId;
  }
  check = () => true;
  async run(model: Model, api: Real) {
    countInput("stateful update");
    const known = pick(model, this.index);
    const id = known?.todo.id ?? this.fallbackId;
    const headers: Record<string, string> = {};
    if (this.condition === "current") headers["If-Match"] = known?.etag ?? '"1"';
    if (this.condition === "stale") headers["If-Match"] = '"999999"';
    if (this.condition === "*") headers["If-Match"] = "*";
    const response = await api.call(jsonRequest("PUT", `/todos/${id}`, this.patch, headers));
    expectContract("updateTodo", response);
    if (!known) {
      expect(response.status).toBe(404);
      await expectGone(api, id);
      return;
    }
    if (this.condition === "stale") {
      expect(response.status).toBe(412);
      return;
    }
    expect(response.status, response.body).toBe(200);
    const updated = response.json() as TodoJson;
    expect(updated).toEqual({ ...known.todo, ...this.patch, updated_at: updated.updated_at });
    model.todos.set(id, { todo: updated, etag: response.headers.etag as string });
  }
  toString = () => `update(#${this.index}, ${JSON.stringify(this.patch)}, ${this.condition})`;
}

class Delete implements TodoCommand {
  readonly index: number;
  readonly condition: "none" | "current" | "stale";
  readonly fallbackId: string;
  constructor(index: number, condition: "none" | "current" | "stale", fallbackId: string) {
    this.index = index;
    this.condition = condition;
    this.fallbackId = fallbackId;
  }
  check = () => true;
  async run(model: Model, api: Real) {
    countInput("stateful delete");
    const known = pick(model, this.index);
    const id = known?.todo.id ?? this.fallbackId;
    const headers: Record<string, string> = {};
    if (this.condition === "current") headers["If-Match"] = known?.etag ?? '"1"';
    if (this.condition === "stale") headers["If-Match"] = '"999999"';
    const response = await api.call({ method: "DELETE", path: `/todos/${id}`, headers });
    expectContract("deleteTodo", response);
    if (!known) {
      expect(response.status).toBe(404);
      return;
    }
    if (this.condition === "stale") {
      expect(response.status).toBe(412);
      return;
    }
    expect(response.status).toBe(204);
    model.todos.delete(id);
    // Gone at once.
    await expectGone(api, id);
  }
  toString = () => `delete(#${this.index}, ${this.condition})`;
}

class List implements TodoCommand {
  readonly limit: number | null;
  readonly status: string | null;
  constructor(limit: number | null, status: string | null) {
    this.limit = limit;
    this.status = status;
  }
  check = () => true;
  async run(model: Model, api: Real) {
    countInput("stateful list");
    const query: Record<string, string> = {
      ...(this.limit === null ? {} : { limit: String(this.limit) }),
      ...(this.status === null ? {} : { status: this.status }),
    };
    const { items } = await listAll(api.call, query);
    const expected = newestFirst(
      [...model.todos.values()]
        .map(({ todo }) => todo)
        .filter((todo) => this.status === null || todo.status === this.status),
    );
    expect(items).toEqual(expected);
  }
  toString = () => `list(limit=${this.limit}, status=${this.status})`;
}

/**
 * One page of a listing per command: the first starts a walk, the next ones follow its
 * nextToken while other commands change the todos in between. Each page holds the todos that
 * exist now and come after the last one seen, newest first; nextToken appears exactly when
 * more remain.
 */
class NextPage implements TodoCommand {
  readonly limit: number;
  readonly status: string | null;
  constructor(limit: number, status: string | null) {
    this.limit = limit;
    this.status = status;
  }
  check = () => true;
  async run(model: Model, api: Real) {
    countInput("stateful page-by-page listing");
    const walk = model.walk;
    const limit = walk?.limit ?? this.limit;
    const status = walk ? walk.status : this.status;
    const query: Record<string, string> = {
      limit: String(limit),
      ...(status === null ? {} : { status }),
      ...(walk ? { nextToken: walk.nextToken } : {}),
    };
    const response = await api.call({ method: "GET", path: "/todos", query });
    expectContract("listTodos", response);
    expect(response.status, response.body).toBe(200);
    const page = response.json() as { items: TodoJson[]; nextToken?: string };
    const remaining = newestFirst(
      [...model.todos.values()]
        .map(({ todo }) => todo)
        .filter((todo) => status === null || todo.status === status)
        .filter((todo) => !walk || todo.id < walk.lastId),
    );
    expect(page.items).toEqual(remaining.slice(0, limit));
    expect(page.nextToken !== undefined, "nextToken exactly when more remain").toBe(
      remaining.length > limit,
    );
    const last = page.items.at(-1);
    if (page.nextToken && last) {
      model.walk = { nextToken: page.nextToken, lastId: last.id, limit, status };
    } else {
      delete model.walk;
    }
  }
  toString = () => `nextPage(limit=${this.limit}, status=${this.status})`;
}

const commands = fc.commands(
  [
    fc.tuple(newTodo, fc.boolean()).map(([input, withKey]) => new Create(input, withKey)),
    fc.tuple(fc.nat(), unknownId).map(([index, id]) => new Get(index, id)),
    fc
      .tuple(
        fc.nat(),
        todoPatch,
        fc.constantFrom("none", "current", "stale", "*" as const),
        unknownId,
      )
      .map(([index, patch, condition, id]) => new Update(index, patch, condition, id)),
    fc
      .tuple(fc.nat(), fc.constantFrom("none", "current", "stale" as const), unknownId)
      .map(([index, condition, id]) => new Delete(index, condition, id)),
    fc
      .tuple(
        fc.option(fc.oneof(limit, fc.integer({ min: 1, max: 3 })) as fc.Arbitrary<number>),
        fc.option(statusFilter as fc.Arbitrary<string>),
      )
      .map(([pageSize, status]) => new List(pageSize, status)),
    fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.option(statusFilter as fc.Arbitrary<string>))
      .map(([pageSize, status]) => new NextPage(pageSize, status)),
  ],
  { maxCommands: 40, size: "+1" },
);

let api: InProcessApi;

beforeAll(async () => {
  console.log(`stateful: fast-check seed ${seed}`);
  api = await startInProcessApi();
});

afterAll(async () => {
  await api?.stop();
  reportFigures(import.meta.filename);
});

describe("random sequences of operations against a model", () => {
  it("after every step the API and the model agree", async () => {
    const property = fc.asyncProperty(commands, async (sequence) => {
      countCase();
      const model: Model = { todos: new Map() };
      try {
        await fc.asyncModelRun(() => ({ model, real: api }), sequence);
        // And the table itself holds exactly the model's todos.
        const stored = todoItems(await api.scan()).map((item) => item.id);
        expect(stored.sort()).toEqual([...model.todos.keys()].sort());
      } finally {
        for (const id of model.todos.keys()) {
          await api.call({ method: "DELETE", path: `/todos/${id}` });
        }
      }
    });
    await check(property, 60, 8_000);
    expect(figures.serverErrors, figures.serverErrorSamples.join("\n")).toBe(0);
    expect(figures.exposures).toBe(0);
  });
});
