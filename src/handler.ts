// The Lambda entry point (template.yaml: Handler handler.handler). Everything here runs once
// per instance, at cold start: one DynamoDB client, reused by every request.
import { createApp } from "./app.ts";
import { configFromEnvironment } from "./config.ts";
import { createLogger } from "./http/logger.ts";
import { createDocumentClient } from "./todos/dynamodb-client.ts";
import { DynamoDbTodoStore } from "./todos/dynamodb-todo-store.ts";
import { PageTokenCodec } from "./todos/page-token.ts";
import { TodoService } from "./todos/todo-service.ts";

const config = configFromEnvironment();
const documentClient = createDocumentClient({
  endpoint: config.ddbEndpoint,
  region: config.region,
});

export const handler = createApp({
  todos: new TodoService(
    new DynamoDbTodoStore(documentClient, config.tableName),
    new PageTokenCodec(config.pageTokenKey),
  ),
  logger: createLogger(config.logLevel),
  allowedOrigins: config.allowedOrigins,
});
