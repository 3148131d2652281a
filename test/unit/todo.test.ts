import { describe, expect, it } from "vitest";
import {
  conditionHolds,
  etagOf,
  newStoredTodo,
  normalizeNewTodo,
  toApiTodo,
  versionsNamedBy,
} from "../../src/todos/todo.ts";

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

describe("entity tags", () => {
  it("are strong and follow the version", () => {
    expect(etagOf({ version: 3 })).toBe('"3"');
  });

  it.each([
    ['"3"', false, [3]],
    ['"1", "2" ,"3"', false, [1, 2, 3]],
    ['W/"3"', false, []],
    ['W/"3"', true, [3]],
    ["3", false, []],
    ['"abc"', false, []],
    ['"0"', false, []],
    ['"99999999999999999999"', false, []],
    ["*", false, "any"],
    [" * ", true, "any"],
  ])("%s (weak allowed: %s) names %j", (header, allowWeak, expected) => {
    expect(versionsNamedBy(header, { allowWeak })).toEqual(expected);
  });

  it("hold for the named version or for any", () => {
    expect(conditionHolds([1, 2], 2)).toBe(true);
    expect(conditionHolds([1, 2], 3)).toBe(false);
    expect(conditionHolds("any", 7)).toBe(true);
    expect(conditionHolds([], 1)).toBe(false);
  });
});
