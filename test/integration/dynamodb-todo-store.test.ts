// The DynamoDB store against real DynamoDB-compatible servers that the tests start themselves:
// dynalite always, and moto_server too where `npm run aws-tools` installed it. Two independent
// implementations of the DynamoDB API must agree with our expressions and conditions.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentClient } from "../../src/dynamodb/client.ts";
import { StoreUnavailableError } from "../../src/dynamodb/requests.ts";
import { DynamoDbIdempotencyStore } from "../../src/idempotency/dynamodb-idempotency-store.ts";
import type { IdempotencyRecord } from "../../src/idempotency/idempotency-store.ts";
import { DynamoDbTodoStore } from "../../src/todos/dynamodb-todo-store.ts";
import { TodoNotFoundError, TodoVersionMismatchError } from "../../src/todos/errors.ts";
import {
  anyVersion,
  newStoredTodo,
  type StoredTodo,
  type VersionCondition,
} from "../../src/todos/todo.ts";
import { createTemplateTable, startDynalite } from "../support/dynalite.ts";
import { motoServerPath, startMotoServer } from "../support/moto-server.ts";

interface Backend {
  endpoint: string;
  stop(): Promise<void>;
}

const backends: [string, () => Promise<Backend | undefined>, boolean][] = [
  ["dynalite", startDynalite, true],
  ["moto_server", startMotoServer, existsSync(motoServerPath)],
];

describe.each(backends)("DynamoDbTodoStore on %s", (name, start, installed) => {
  if (!installed) {
    it.skip(`needs ${name}: npm run aws-tools installs it into .venv/`, () => {});
    return;
  }
  let backend: Backend | undefined;
  let store: DynamoDbTodoStore;
  let idempotency: DynamoDbIdempotencyStore<StoredTodo>;
  let client: ReturnType<typeof createDocumentClient>;

  beforeAll(async () => {
    backend = await start();
    if (!backend) return;
    client = createDocumentClient({ endpoint: backend.endpoint });
    const tableName = await createTemplateTable(backend.endpoint);
    store = new DynamoDbTodoStore(client, tableName);
    idempotency = new DynamoDbIdempotencyStore(client, tableName);
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await backend?.stop();
  });

  const owner = "owner-a";
  const oneOf = (first: number, ...rest: number[]): VersionCondition => ({
    kind: "one-of",
    versions: [first, ...rest],
  });
  const makeTodo = (title = "A todo", status: "pending" | "done" = "pending"): StoredTodo =>
    newStoredTodo({ title, status }, new Date());

  it("creates, reads back exactly, and never overwrites", async () => {
    const todo = { ...makeTodo("Exact"), description: "with description" };
    await store.create(owner, todo);
    expect(await store.get(owner, todo.id)).toEqual(todo);
    await expect(store.create(owner, { ...todo, title: "Other" })).rejects.toThrow();
    expect((await store.get(owner, todo.id))?.title).toBe("Exact");
    // The same write again, as the SDK's retry of a write whose answer was lost: done.
    await expect(store.create(owner, { ...todo })).resolves.toBeUndefined();
  });

  it("keeps owners apart", async () => {
    const todo = makeTodo();
    await store.create(owner, todo);
    expect(await store.get("owner-b", todo.id)).toBeUndefined();
    await expect(store.delete("owner-b", todo.id, anyVersion)).rejects.toBeInstanceOf(
      TodoNotFoundError,
    );
  });

  it("updates only the given fields, bumps the version, and removes a nulled description", async () => {
    const todo = { ...makeTodo("Before"), description: "to clear" };
    await store.create(owner, todo);
    const updated = await store.update(
      owner,
      todo.id,
      { status: "done", description: null },
      "2030-01-01T00:00:00.000Z",
      anyVersion,
    );
    expect(updated).toEqual({
      ...todo,
      status: "done",
      description: null,
      version: 2,
      updated_at: "2030-01-01T00:00:00.000Z",
    });
    expect(await store.get(owner, todo.id)).toEqual(updated);
  });

  it("refuses to update or delete a missing todo, and creates nothing", async () => {
    const ghost = makeTodo().id;
    await expect(
      store.update(owner, ghost, { title: "x" }, new Date().toISOString(), anyVersion),
    ).rejects.toBeInstanceOf(TodoNotFoundError);
    await expect(
      store.update(owner, ghost, { title: "x" }, new Date().toISOString(), oneOf(1)),
    ).rejects.toBeInstanceOf(TodoNotFoundError);
    await expect(store.delete(owner, ghost, anyVersion)).rejects.toBeInstanceOf(TodoNotFoundError);
    expect(await store.get(owner, ghost)).toBeUndefined();
  });

  it("writes only when the version matches, and tells stale from missing", async () => {
    const todo = makeTodo();
    await store.create(owner, todo);
    const stale = store.update(owner, todo.id, { title: "x" }, new Date().toISOString(), oneOf(5));
    await expect(stale).rejects.toBeInstanceOf(TodoVersionMismatchError);
    await expect(stale).rejects.toMatchObject({ currentVersion: 1 });
    await expect(store.delete(owner, todo.id, { kind: "none" })).rejects.toBeInstanceOf(
      TodoVersionMismatchError,
    );
    await store.update(owner, todo.id, { title: "y" }, new Date().toISOString(), oneOf(1, 7));
    await store.delete(owner, todo.id, oneOf(2));
    expect(await store.get(owner, todo.id)).toBeUndefined();
  });

  it("lists newest first, pages without gaps or repeats, and filters by status on the index", async () => {
    const listOwner = `list-${name}`;
    const todos: StoredTodo[] = [];
    for (let i = 0; i < 11; i++) {
      const todo = makeTodo(`T${i}`, i % 2 ? "done" : "pending");
      await store.create(listOwner, todo);
      todos.push(todo);
    }
    const walk = async (status?: "pending" | "done") => {
      const ids: string[] = [];
      let after: { id: string } | undefined;
      for (let page = 0; page < 20; page++) {
        const result = await store.list(listOwner, {
          limit: 3,
          ...(status ? { status } : {}),
          ...(after ? { after } : {}),
        });
        ids.push(...result.items.map((todo) => todo.id));
        if (!result.next) return ids;
        after = result.next;
      }
      throw new Error("listing did not end");
    };
    expect(await walk()).toEqual(todos.map((t) => t.id).reverse());
    expect(await walk("done")).toEqual(
      todos
        .filter((t) => t.status === "done")
        .map((t) => t.id)
        .reverse(),
    );
    // A status change moves the todo between the filtered listings at once.
    const first = todos[0] as StoredTodo;
    await store.update(
      listOwner,
      first.id,
      { status: "done" },
      new Date().toISOString(),
      anyVersion,
    );
    expect(await walk("done")).toContain(first.id);
    expect(await walk("pending")).not.toContain(first.id);
  });

  it("ends an exactly full last page without a next position", async () => {
    const exactOwner = `exact-${name}`;
    for (let i = 0; i < 4; i++) await store.create(exactOwner, makeTodo());
    const page = await store.list(exactOwner, { limit: 4 });
    expect(page.items).toHaveLength(4);
    expect(page.next).toBeUndefined();
  });

  it("claims an idempotency key once, until it expires", async () => {
    const now = Date.now();
    const record: IdempotencyRecord<StoredTodo> = {
      key: `key-${name}`,
      fingerprint: "f",
      result: makeTodo(),
      state: "in_progress",
      claimedAt: now,
      leaseExpiresAt: now + 10_000,
      expiresAt: now + 60_000,
    };
    expect(await idempotency.claim(owner, record)).toBe(true);
    expect(await idempotency.claim(owner, { ...record, fingerprint: "g" })).toBe(false);
    expect(await idempotency.get(owner, record.key)).toEqual({
      ...record,
      expiresAt: Math.floor(record.expiresAt / 1000) * 1000,
    });
    await idempotency.complete(owner, record.key);
    expect((await idempotency.get(owner, record.key))?.state).toBe("completed");
    // Past its expiry the key can be claimed afresh, even though the item is still there.
    expect(
      await idempotency.claim(owner, { ...record, fingerprint: "h", claimedAt: now + 120_000 }),
    ).toBe(true);
    expect((await idempotency.get(owner, record.key))?.fingerprint).toBe("h");
    // Idempotency records never show up in a listing.
    const listed = await store.list(owner, { limit: 100 });
    expect(listed.items.every((todo) => typeof todo.title === "string")).toBe(true);
  });

  it("releases and reclaims only the claim it names", async () => {
    const now = Date.now();
    const record: IdempotencyRecord<StoredTodo> = {
      key: `release-${name}`,
      fingerprint: "f",
      result: makeTodo(),
      state: "in_progress",
      claimedAt: now,
      leaseExpiresAt: now + 10_000,
      expiresAt: now + 60_000,
    };
    await idempotency.claim(owner, record);
    await idempotency.release(owner, record.key, now - 1);
    expect(await idempotency.get(owner, record.key)).toBeDefined();
    const fresh = { ...record, claimedAt: now + 1 };
    expect(await idempotency.reclaim(owner, { ...record, claimedAt: now - 5 }, fresh)).toBe(false);
    expect(await idempotency.reclaim(owner, record, fresh)).toBe(true);
    await idempotency.release(owner, record.key, fresh.claimedAt);
    expect(await idempotency.get(owner, record.key)).toBeUndefined();
  });
});

describe("DynamoDbTodoStore with no database", () => {
  it("reports StoreUnavailableError, not the SDK's error", async () => {
    const client = createDocumentClient({ endpoint: "http://127.0.0.1:9", maxAttempts: 1 });
    const store = new DynamoDbTodoStore(client, "nowhere");
    await expect(store.get("o", "x")).rejects.toBeInstanceOf(StoreUnavailableError);
    client.destroy();
  });
});
