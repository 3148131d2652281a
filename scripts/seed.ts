// `npm run seed`: creates the table from template.yaml's definition when it is missing, and
// adds a few sample todos at DDB_ENDPOINT (default http://localhost:8000, DynamoDB Local's
// port, where `npm start` and docker compose both listen). The samples have fixed ids, so
// running it twice adds nothing. `npm start` (scripts/start.ts) calls seedSampleTodos for a new table.
import { pathToFileURL } from "node:url";
import { createDocumentClient } from "../src/dynamodb/client.ts";
import { DynamoDbTodoStore } from "../src/todos/dynamodb-todo-store.ts";
import type { StoredTodo } from "../src/todos/todo.ts";
import { loadCfnTemplate } from "./local/cfn-template.ts";
import { localDynamoDbClient } from "./local/dynamodb.ts";
import { createTableInput, ensureTable, findTableResource } from "./local/dynamodb-table.ts";
import type { SeedTarget } from "./local/index.ts";

// UUIDv7 ids from early 2026: newer todos list before them.
const sampleTodos: StoredTodo[] = [
  {
    id: "019b7b5c-2c00-7000-8000-000000000001",
    title: "Read the README",
    description: "Two commands: npm install && npm start, then npm test.",
    status: "done",
    created_at: "2026-01-01T09:00:00.000Z",
    updated_at: "2026-01-01T09:00:00.000Z",
    version: 1,
  },
  {
    id: "019b7b5c-2c00-7000-8000-000000000002",
    title: "Try it out in Swagger UI",
    description: "Open http://127.0.0.1:3000/docs and send GET /todos.",
    status: "pending",
    created_at: "2026-01-01T09:00:00.001Z",
    updated_at: "2026-01-01T09:00:00.001Z",
    version: 1,
  },
  {
    id: "019b7b5c-2c00-7000-8000-000000000003",
    title: "Create a todo with curl",
    description: null,
    status: "pending",
    created_at: "2026-01-01T09:00:00.002Z",
    updated_at: "2026-01-01T09:00:00.002Z",
    version: 1,
  },
];

/**
 * Whose the samples are: a user's `sub` (SEED_OWNER). Every todo belongs to a signed-in user,
 * so samples of the default owner are seen by no one until a user with that `sub` signs in.
 */
export const sampleOwner = process.env.SEED_OWNER || "sample-todos";

/** Creates the table if needed and adds the samples that are missing. Returns how many it added. */
export async function seedSampleTodos(
  { endpoint, tableName }: SeedTarget,
  owner = sampleOwner,
): Promise<number> {
  const template = loadCfnTemplate(new URL("../template.yaml", import.meta.url).pathname);
  const client = localDynamoDbClient(endpoint, process.env.AWS_REGION ?? "us-east-1");
  const documentClient = createDocumentClient({ endpoint });
  try {
    await ensureTable(client, createTableInput(template, findTableResource(template), tableName));
    const store = new DynamoDbTodoStore(documentClient, tableName);
    let added = 0;
    for (const todo of sampleTodos) {
      // Already there from an earlier run (or changed since by its user): leave it alone.
      if (await store.get(owner, todo.id)) continue;
      await store.create(owner, todo);
      added++;
    }
    return added;
  } finally {
    client.destroy();
    documentClient.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const target = {
    endpoint: process.env.DDB_ENDPOINT || "http://localhost:8000",
    tableName: process.env.TABLE_NAME || "TodosTable",
  };
  try {
    const added = await seedSampleTodos(target);
    console.log(
      `${target.tableName} at ${target.endpoint}: ${added} sample todos added (${sampleTodos.length - added} already there)`,
    );
  } catch (error) {
    console.error(
      `seed failed: is DynamoDB listening at ${target.endpoint}? (${(error as Error).message})`,
    );
    process.exitCode = 1;
  }
}
