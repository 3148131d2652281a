// A todo has one instant: the millisecond its UUIDv7 id carries is its created_at and first
// updated_at, whatever the clock did between readings.
import { describe, expect, it } from "vitest";
import { newStoredTodo, type StoredTodo } from "../../src/todos/todo.ts";
import { uuidv7Millis } from "../../src/todos/uuid-v7.ts";

const idMillis = (todo: StoredTodo) => new Date(uuidv7Millis(todo.id)).toISOString();

// Each file runs in a fresh module graph, so the generator's memory starts here; readings are
// placed far in the future so that no earlier id of this process is later than them.
const base = Date.parse("2100-01-01T00:00:00.000Z");

function createdAt(readingsMs: number[]): StoredTodo[] {
  return readingsMs.map((ms) => newStoredTodo({ title: "T" }, new Date(ms)));
}

function expectOneInstantEach(todos: StoredTodo[]) {
  for (const todo of todos) {
    expect(todo.created_at).toBe(idMillis(todo));
    expect(todo.updated_at).toBe(todo.created_at);
  }
}

function expectIdOrderIsCreatedAtOrder(todos: StoredTodo[]) {
  const byId = [...todos].sort((a, b) => (a.id < b.id ? -1 : 1));
  const byCreatedAtThenId = [...todos].sort((a, b) =>
    a.created_at === b.created_at ? (a.id < b.id ? -1 : 1) : a.created_at < b.created_at ? -1 : 1,
  );
  expect(byId.map((todo) => todo.id)).toEqual(byCreatedAtThenId.map((todo) => todo.id));
  // Made in this order, by one instance: the ids (and so created_at) never go backwards.
  expect(byId).toEqual(todos);
}

describe("a todo's instant", () => {
  it("is the clock reading while the clock moves forward, across a millisecond boundary", () => {
    const todos = createdAt([base, base, base + 1, base + 1, base + 2, base + 50]);
    expectOneInstantEach(todos);
    expectIdOrderIsCreatedAtOrder(todos);
    expect(todos.map((todo) => todo.created_at)).toEqual(
      [0, 0, 1, 1, 2, 50].map((offset) => new Date(base + offset).toISOString()),
    );
  });

  it("stays with the id's millisecond when the clock steps back, so created_at never goes backwards", () => {
    const later = base + 10_000;
    const todos = createdAt([later, later + 1, later - 5_000, later - 4_999, later + 2]);
    expectOneInstantEach(todos);
    expectIdOrderIsCreatedAtOrder(todos);
    // The id generator keeps its last millisecond while the clock is behind it.
    expect(todos.map((todo) => todo.created_at)).toEqual(
      [0, 1, 1, 1, 2].map((offset) => new Date(later + offset).toISOString()),
    );
  });
});
