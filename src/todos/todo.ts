// The Todo rules: what a todo is and how creating and changing one works.
// No HTTP and no DynamoDB here; the shapes come from the contract (generated/types.ts).

import type { components } from "../../generated/types.ts";
import { uuidv7 } from "./uuid-v7.ts";

export type Todo = components["schemas"]["Todo"];
export type TodoStatus = components["schemas"]["TodoStatus"];
export type TodoCreate = components["schemas"]["TodoCreate"];
export type TodoPatch = components["schemas"]["TodoPatch"];

/** A todo as stored: the API's fields plus the version that backs its ETag. */
export interface StoredTodo extends Todo {
  version: number;
}

export const defaultStatus: TodoStatus = "pending";

export function newStoredTodo(input: TodoCreate, now: Date): StoredTodo {
  const timestamp = now.toISOString();
  return {
    // UUIDv7 ids sort by creation time, which gives newest-first listing for free.
    id: uuidv7(),
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

/** A strong entity tag per stored version: every successful write bumps the version. */
export function etagOf(todo: Pick<StoredTodo, "version">): string {
  return `"${todo.version}"`;
}

/**
 * Which versions an If-Match / If-None-Match header names: "any" for `*`, else the list of
 * versions among its entity tags. Weak tags count only where weak comparison is allowed
 * (If-None-Match); tags that are not ours name no version and so never match.
 */
export type VersionCondition = "any" | number[];

export function versionsNamedBy(
  header: string,
  { allowWeak }: { allowWeak: boolean },
): VersionCondition {
  if (header.trim() === "*") return "any";
  const versions: number[] = [];
  for (const rawTag of header.split(",")) {
    let tag = rawTag.trim();
    if (tag.startsWith("W/")) {
      if (!allowWeak) continue;
      tag = tag.slice(2);
    }
    const match = /^"([1-9][0-9]{0,14})"$/.exec(tag);
    if (match?.[1]) versions.push(Number(match[1]));
  }
  return versions;
}

export function conditionHolds(condition: VersionCondition, version: number): boolean {
  return condition === "any" || condition.includes(version);
}
