// Small helpers shared by the robustness tests: the calls every test makes, and the facts
// about todos the tests compare (what a created todo must look like, newest-first order).
import { expect } from "vitest";
import { contractViolations, type OperationId } from "../../support/contract.ts";
import { type CallApi, type CheckedResponse, jsonRequest } from "./api.ts";

export interface TodoJson {
  id: string;
  title: string;
  description: string | null;
  status: "pending" | "done";
  created_at: string;
  updated_at: string;
}

/** Fails the test when an answer breaks the contract or exposes internals. */
export function expectContract(operationId: OperationId, response: CheckedResponse): void {
  const violations = contractViolations(operationId, response);
  expect(
    [...violations, ...response.exposure],
    `${operationId} → ${response.status} ${response.body.slice(0, 300)}`,
  ).toEqual([]);
}

export async function createTodo(
  call: CallApi,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ todo: TodoJson; etag: string; response: CheckedResponse }> {
  const response = await call(jsonRequest("POST", "/todos", body, headers));
  expectContract("createTodo", response);
  expect(response.status, response.body).toBe(201);
  return { todo: response.json() as TodoJson, etag: response.headers.etag as string, response };
}

/** Every todo of a listing, following nextToken to the end; checks each page on the way. */
export async function listAll(
  call: CallApi,
  query: Record<string, string> = {},
): Promise<{ items: TodoJson[]; pages: number }> {
  const items: TodoJson[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const response = await call({
      method: "GET",
      path: "/todos",
      query: { ...query, ...(nextToken ? { nextToken } : {}) },
    });
    expectContract("listTodos", response);
    expect(response.status, response.body).toBe(200);
    const page = response.json() as { items: TodoJson[]; nextToken?: string };
    expect(page.items.length).toBeLessThanOrEqual(Number(query.limit ?? 20));
    if (page.nextToken) expect(page.items.length).toBe(Number(query.limit ?? 20));
    items.push(...page.items);
    nextToken = page.nextToken;
    pages++;
    if (pages > 10_000) throw new Error("the listing never ends");
  } while (nextToken);
  return { items, pages };
}

/** Newest first: UUIDv7 ids sort by creation time. */
export const newestFirst = <T extends { id: string }>(todos: T[]): T[] =>
  [...todos].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));

/** A todo as the API shows it, from an item of the table. */
export function todoFromItem(item: Record<string, unknown>): TodoJson {
  return {
    id: item.id as string,
    title: item.title as string,
    description: (item.description as string | undefined) ?? null,
    status: item.status as TodoJson["status"],
    created_at: item.created_at as string,
    updated_at: item.updated_at as string,
  };
}
