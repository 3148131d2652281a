// Valid requests for every operation of openapi.yaml, generated from the contract's own
// schemas: each is answered 2xx (or a documented 304), exactly as the contract says, and a
// read afterwards shows exactly what was written.
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
  todoFromItem,
} from "./support/todos.ts";

const newTodo = arbitraryFor(operation("createTodo").body ?? {});
const todoPatch = arbitraryFor(operation("updateTodo").body ?? {});
const idempotencyKey = arbitraryFor(parameter("createTodo", "Idempotency-Key").schema);
const ifNoneMatch = arbitraryFor(parameter("getTodo", "If-None-Match").schema);
const limit = arbitraryFor(parameter("listTodos", "limit").schema);
const statusFilter = arbitraryFor(parameter("listTodos", "status").schema);

type NewTodoInput = { title: string; description?: string | null; status?: "pending" | "done" };
type PatchInput = Partial<Omit<NewTodoInput, "title">> & { title?: string };

const expectedNew = (input: NewTodoInput) => ({
  title: input.title,
  description: input.description ?? null,
  status: input.status ?? "pending",
});

let api: InProcessApi;
let keyCounter = 0;

beforeAll(async () => {
  console.log(`contract-valid: fast-check seed ${seed}`);
  api = await startInProcessApi();
});

afterAll(async () => {
  await api?.stop();
  reportFigures(import.meta.filename);
});

async function readBack(id: string): Promise<{ todo: TodoJson; etag: string }> {
  const response = await api.call({ method: "GET", path: `/todos/${id}` });
  expectContract("getTodo", response);
  expect(response.status, response.body).toBe(200);
  return { todo: response.json() as TodoJson, etag: response.headers.etag as string };
}

async function remove(id: string): Promise<void> {
  const response = await api.call({ method: "DELETE", path: `/todos/${id}` });
  expectContract("deleteTodo", response);
  expect(response.status).toBe(204);
}

describe("valid requests generated from openapi.yaml", () => {
  it("createTodo: 201 as documented, readable at once exactly as sent; a retry replays it", async () => {
    const property = fc.asyncProperty(newTodo, fc.option(idempotencyKey), async (input, key) => {
      countCase();
      countInput("valid createTodo");
      const body = input as NewTodoInput;
      // Keys are made unique per case, so that no case replays another's.
      const uniqueKey = key === null ? undefined : `${++keyCounter}.${key as string}`.slice(0, 255);
      const headers: Record<string, string> = uniqueKey ? { "Idempotency-Key": uniqueKey } : {};
      const { todo, etag, response } = await createTodo(api.call, body, headers);
      expect(todo).toMatchObject(expectedNew(body));
      expect(todo.created_at).toBe(todo.updated_at);
      expect(response.headers.location).toBe(`/todos/${todo.id}`);
      expect(response.headers["idempotent-replayed"]).toBeUndefined();
      expect(await readBack(todo.id)).toEqual({ todo, etag });
      if (uniqueKey) {
        const retry = await api.call(jsonRequest("POST", "/todos", body, headers));
        expectContract("createTodo", retry);
        expect(retry.status).toBe(201);
        expect(retry.json()).toEqual(todo);
        expect(retry.headers["idempotent-replayed"]).toBe("true");
      }
      await remove(todo.id);
    });
    await check(property, 300, 4_000);
  });

  it("getTodo: 200 with the todo and its ETag; If-None-Match with that ETag is 304", async () => {
    const property = fc.asyncProperty(
      newTodo,
      fc.option(fc.oneof(ifNoneMatch, fc.constant("current"))),
      async (input, condition) => {
        countCase();
        countInput("valid getTodo");
        const { todo, etag } = await createTodo(api.call, input);
        const headers: Record<string, string> =
          condition === null
            ? {}
            : { "If-None-Match": condition === "current" ? etag : (condition as string) };
        const response = await api.call({ method: "GET", path: `/todos/${todo.id}`, headers });
        expectContract("getTodo", response);
        // RFC 9110: If-None-Match is `*` or a list of entity tags, compared weakly.
        const sent = headers["If-None-Match"];
        const matches =
          sent !== undefined &&
          (sent.trim() === "*" ||
            sent.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag));
        if (matches) {
          expect(response.status).toBe(304);
          expect(response.headers.etag).toBe(etag);
        } else {
          expect(response.status, JSON.stringify(headers)).toBe(200);
          expect(response.json()).toEqual(todo);
          expect(response.headers.etag).toBe(etag);
        }
        await remove(todo.id);
      },
    );
    await check(property, 200, 3_000);
  });

  it("updateTodo: 200 with exactly the patched fields changed, readable at once", async () => {
    const property = fc.asyncProperty(
      newTodo,
      todoPatch,
      fc.constantFrom("none", "current", "*"),
      async (input, patchInput, condition) => {
        countCase();
        countInput("valid updateTodo");
        const patch = patchInput as PatchInput;
        const { todo, etag } = await createTodo(api.call, input);
        const headers: Record<string, string> =
          condition === "none" ? {} : { "If-Match": condition === "current" ? etag : "*" };
        const response = await api.call(jsonRequest("PUT", `/todos/${todo.id}`, patch, headers));
        expectContract("updateTodo", response);
        expect(response.status, response.body).toBe(200);
        const updated = response.json() as TodoJson;
        expect(updated).toEqual({
          ...todo,
          ...(patch.title !== undefined ? { title: patch.title } : {}),
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          ...(patch.status !== undefined ? { status: patch.status } : {}),
          updated_at: updated.updated_at,
        });
        expect(updated.updated_at >= todo.updated_at).toBe(true);
        expect(response.headers.etag).not.toBe(etag);
        expect(await readBack(todo.id)).toEqual({ todo: updated, etag: response.headers.etag });
        await remove(todo.id);
      },
    );
    await check(property, 300, 4_000);
  });

  it("deleteTodo: 204 with no body; the todo is 404 at once, and a second delete is 404", async () => {
    const property = fc.asyncProperty(
      newTodo,
      fc.constantFrom("none", "current", "*"),
      async (input, condition) => {
        countCase();
        countInput("valid deleteTodo");
        const { todo, etag } = await createTodo(api.call, input);
        const headers: Record<string, string> =
          condition === "none" ? {} : { "If-Match": condition === "current" ? etag : "*" };
        const response = await api.call({ method: "DELETE", path: `/todos/${todo.id}`, headers });
        expectContract("deleteTodo", response);
        expect(response.status).toBe(204);
        for (const request of [
          { method: "GET", path: `/todos/${todo.id}` },
          { method: "DELETE", path: `/todos/${todo.id}` },
        ]) {
          const after = await api.call(request);
          expectContract(request.method === "GET" ? "getTodo" : "deleteTodo", after);
          expect(after.status).toBe(404);
        }
      },
    );
    await check(property, 200, 3_000);
  });

  it("createTodo with an Idempotency-Key: an equivalent body (keys reordered, defaults spelled out, white space, header name in any case) replays the first answer", async () => {
    const property = fc.asyncProperty(
      newTodo,
      idempotencyKey,
      fc.array(fc.boolean(), { minLength: 14, maxLength: 14 }),
      fc.constantFrom(" ", "\n", "\t", "\r\n  "),
      async (input, key, upper, space) => {
        countCase();
        countInput("valid createTodo: equivalent retries");
        const body = input as NewTodoInput;
        const uniqueKey = `${++keyCounter}.${key as string}`.slice(0, 255);
        const { todo } = await createTodo(api.call, body, { "Idempotency-Key": uniqueKey });
        const headerName = [..."idempotency-key"]
          .map((c, i) => (upper[i] ? c.toUpperCase() : c))
          .join("");
        const reordered = Object.fromEntries(Object.entries(expectedNew(body)).reverse());
        for (const raw of [
          JSON.stringify(reordered),
          JSON.stringify(expectedNew(body), null, 2),
          `${space}${JSON.stringify(body, null, space)}${space}`,
        ]) {
          const retry = await api.call({
            method: "POST",
            path: "/todos",
            headers: { "Content-Type": "application/json", [headerName]: uniqueKey },
            body: raw,
          });
          expectContract("createTodo", retry);
          expect(retry.status, `${raw} → ${retry.body}`).toBe(201);
          expect(retry.json()).toEqual(todo);
          expect(retry.headers["idempotent-replayed"]).toBe("true");
        }
        await remove(todo.id);
      },
    );
    await check(property, 100, 2_500);
  });

  it("If-Match / If-None-Match with lists of entity tags: strong comparison for If-Match, weak for If-None-Match", async () => {
    const tag = fc.record({ version: fc.integer({ min: 1, max: 4 }), weak: fc.boolean() });
    const property = fc.asyncProperty(
      fc.array(tag, { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 0, max: 2 }),
      fc.constantFrom(",", ", ", " ,  "),
      async (tags, updates, separator) => {
        countCase();
        countInput("valid conditional requests with tag lists");
        let { todo, etag } = await createTodo(api.call, { title: "tags" });
        for (let i = 0; i < updates; i++) {
          const updated = await api.call(
            jsonRequest("PUT", `/todos/${todo.id}`, { title: `v${i + 2}` }),
          );
          todo = updated.json() as TodoJson;
          etag = updated.headers.etag as string;
        }
        const current = 1 + updates;
        expect(etag).toBe(`"${current}"`);
        const header = tags.map((t) => `${t.weak ? "W/" : ""}"${t.version}"`).join(separator);
        const read = await api.call({
          method: "GET",
          path: `/todos/${todo.id}`,
          headers: { "If-None-Match": header },
        });
        expectContract("getTodo", read);
        expect(read.status, header).toBe(tags.some((t) => t.version === current) ? 304 : 200);
        const write = await api.call(
          jsonRequest("PUT", `/todos/${todo.id}`, { status: "done" }, { "If-Match": header }),
        );
        expectContract("updateTodo", write);
        const strongMatch = tags.some((t) => t.version === current && !t.weak);
        expect(write.status, header).toBe(strongMatch ? 200 : 412);
        if (!strongMatch) expect(write.headers.etag).toBe(etag);
        await remove(todo.id);
      },
    );
    await check(property, 100, 2_000);
  });

  it("listTodos: every page as documented; walking nextToken gives the table's todos, newest first", async () => {
    for (const input of fc.sample(newTodo, { numRuns: 45, seed })) {
      await createTodo(api.call, input);
    }
    const stored = todoItems(await api.scan()).map(todoFromItem);
    expect(stored.length).toBe(45);
    const property = fc.asyncProperty(
      fc.option(limit),
      fc.option(statusFilter),
      async (pageSize, status) => {
        countCase();
        countInput("valid listTodos");
        const query: Record<string, string> = {
          ...(pageSize === null ? {} : { limit: String(pageSize) }),
          ...(status === null ? {} : { status: status as string }),
        };
        const { items } = await listAll(api.call, query);
        expect(items).toEqual(
          newestFirst(stored.filter((t) => status === null || t.status === status)),
        );
      },
    );
    await check(property, 100, 3_000);
    expect(figures.serverErrors).toBe(0);
  });
});
