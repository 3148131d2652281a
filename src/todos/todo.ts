// The Todo rules: what a todo is and how creating and changing one works.
// No HTTP and no DynamoDB here; the shapes come from the contract (generated/types.ts).

import { propertyDefaults } from "../../generated/schemas.ts";
import type { components } from "../../generated/types.ts";
import { uuidv7, uuidv7Millis } from "./uuid-v7.ts";

export type Todo = components["schemas"]["Todo"];
export type TodoStatus = components["schemas"]["TodoStatus"];
export type TodoCreate = components["schemas"]["TodoCreate"];
export type TodoPatch = components["schemas"]["TodoPatch"];

/** A todo as stored: the API's fields plus the version that every successful write bumps. */
export interface StoredTodo extends Todo {
  version: number;
}

export const defaultStatus: TodoStatus = propertyDefaults.TodoCreate.status;

export function newStoredTodo(input: TodoCreate, now: Date): StoredTodo {
  // One instant per todo: the id's. UUIDv7 ids sort by creation time, which gives newest-first
  // listing for free, and created_at read off the id keeps that order true of created_at too
  // (ties broken by id), also when the id generator moved past the clock.
  const id = uuidv7(now.getTime());
  const timestamp = new Date(uuidv7Millis(id)).toISOString();
  return {
    id,
    title: input.title,
    description: input.description ?? null,
    status: input.status ?? defaultStatus,
    created_at: timestamp,
    updated_at: timestamp,
    version: 1,
  };
}

/** The same input, with defaults applied: two requests that mean the same todo compare equal. */
export function normalizeNewTodo(input: TodoCreate): Required<TodoCreate> {
  return {
    title: input.title,
    description: input.description ?? null,
    status: input.status ?? defaultStatus,
  };
}

export function toApiTodo({ version: _version, ...todo }: StoredTodo): Todo {
  return todo;
}

/**
 * Which stored versions a change may replace (or a read may match):
 * - `any`: whichever version the todo has; it only has to exist;
 * - `one-of`: only these versions;
 * - `none`: the caller named versions, but none that a todo ever has, so it never matches
 *   (a change still tells a missing todo from a changed one).
 */
export type VersionCondition =
  | { kind: "any" }
  | { kind: "one-of"; versions: readonly [number, ...number[]] }
  | { kind: "none" };

export const anyVersion: VersionCondition = { kind: "any" };

export function versionMatches(condition: VersionCondition, version: number): boolean {
  if (condition.kind === "any") return true;
  return condition.kind === "one-of" && condition.versions.includes(version);
}
