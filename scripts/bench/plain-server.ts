// Baseline (b), the ceiling: a plain node:http server that makes the same single DynamoDB call
// per request as the product (through the product's own store, so the request is identical),
// with no framework, no validation, no Lambda emulation.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { createDocumentClient } from "../../src/dynamodb/client.ts";
import { DynamoDbTodoStore } from "../../src/todos/dynamodb-todo-store.ts";
import {
  anyVersion,
  newStoredTodo,
  type TodoCreate,
  type TodoPatch,
  toApiTodo,
} from "../../src/todos/todo.ts";
import { benchOwner } from "./events.ts";

const tableName = process.env.TABLE_NAME as string;
const store = new DynamoDbTodoStore(
  createDocumentClient({ endpoint: process.env.DDB_ENDPOINT, region: "us-east-1" }),
  tableName,
);
const owner = benchOwner;

async function bodyOf(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

async function answer(request: IncomingMessage): Promise<[number, unknown]> {
  const url = new URL(request.url ?? "/", "http://localhost");
  const id = /^\/todos\/([^/]+)$/.exec(url.pathname)?.[1];
  if (url.pathname === "/todos" && request.method === "GET") {
    const page = await store.list(owner, { limit: Number(url.searchParams.get("limit") ?? 20) });
    return [200, { items: page.items.map(toApiTodo) }];
  }
  if (url.pathname === "/todos" && request.method === "POST") {
    const todo = newStoredTodo((await bodyOf(request)) as TodoCreate, new Date());
    await store.create(owner, todo);
    return [201, toApiTodo(todo)];
  }
  if (id && request.method === "GET") {
    const todo = await store.get(owner, id);
    return todo ? [200, toApiTodo(todo)] : [404, { title: "Not Found" }];
  }
  if (id && request.method === "PUT") {
    const patch = (await bodyOf(request)) as TodoPatch;
    return [
      200,
      toApiTodo(await store.update(owner, id, patch, new Date().toISOString(), anyVersion)),
    ];
  }
  return [404, { title: "Not Found" }];
}

const server = createServer((request, response) => {
  answer(request).then(
    ([status, body]) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    },
    (error: Error) => {
      response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ title: error.name }));
    },
  );
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(`plain server listening on http://127.0.0.1:${port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
