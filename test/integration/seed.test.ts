import { afterAll, beforeAll, expect, it } from "vitest";
import { sampleOwner, seedSampleTodos } from "../../scripts/seed.ts";
import { createDocumentClient } from "../../src/dynamodb/client.ts";
import { DynamoDbTodoStore } from "../../src/todos/dynamodb-todo-store.ts";
import { startDynalite, type TestDynamoDb } from "../support/dynalite.ts";

let db: TestDynamoDb;
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(() => db?.stop());

it("creates the template's table when missing, adds the samples once, and never twice", async () => {
  const target = { endpoint: db.endpoint, tableName: "SeededTable" };
  expect(await seedSampleTodos(target)).toBe(3);
  expect(await seedSampleTodos(target)).toBe(0);
  const client = createDocumentClient({ endpoint: db.endpoint });
  const store = new DynamoDbTodoStore(client, target.tableName);
  const page = await store.list(sampleOwner, { limit: 10 });
  expect(page.items.map((todo) => todo.title)).toEqual([
    "Create a todo with curl",
    "Try it out in Swagger UI",
    "Read the README",
  ]);
  expect(await seedSampleTodos(target, "a-user-sub")).toBe(3);
  expect((await store.list("a-user-sub", { limit: 10 })).items).toHaveLength(3);
  client.destroy();
});
