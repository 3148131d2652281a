import { describe, expect, it } from "vitest";
import { newStoredTodo, normalizeNewTodo, toApiTodo } from "../../src/todos/todo.ts";

describe("a new todo", () => {
  it("gets a UUIDv7 id, pending status, null description, equal timestamps and version 1", () => {
    const now = new Date("2026-11-28T10:00:00.123Z");
    const todo = newStoredTodo({ title: "T" }, now);
    expect(todo.id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(todo).toMatchObject({
      title: "T",
      description: null,
      status: "pending",
      created_at: "2026-11-28T10:00:00.123Z",
      updated_at: "2026-11-28T10:00:00.123Z",
      version: 1,
    });
  });

  it("gets ids that sort in creation order, even within one millisecond", () => {
    const now = new Date();
    const ids = Array.from({ length: 50 }, () => newStoredTodo({ title: "T" }, now).id);
    expect([...ids].sort()).toEqual(ids);
  });

  it("means the same whether its defaults are written out or not", () => {
    expect(normalizeNewTodo({ title: "T" })).toEqual(
      normalizeNewTodo({ title: "T", status: "pending", description: null }),
    );
  });

  it("shows no version in the API", () => {
    expect(toApiTodo(newStoredTodo({ title: "T" }, new Date()))).not.toHaveProperty("version");
  });
});
