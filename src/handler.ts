// The Lambda entry point (template.yaml: Handler handler.handler). Everything here runs once
// per instance, at cold start: one DynamoDB client, reused by every request.
import { createApp } from "./app.ts";
import { configFromEnvironment } from "./config.ts";
import { createLogger } from "./http/logger.ts";
import { HttpProblem, plainProblem, retryAfterSeconds } from "./http/problem.ts";
import { createDocumentClient } from "./todos/dynamodb-client.ts";
import { DynamoDbTodoStore } from "./todos/dynamodb-todo-store.ts";
import { PageTokenCodec } from "./todos/page-token.ts";
import { TodoService } from "./todos/todo-service.ts";

const config = configFromEnvironment();
const documentClient = createDocumentClient({
  endpoint: config.ddbEndpoint,
  region: config.region,
});

const logger = createLogger(config.logLevel);
const app = createApp({
  todos: new TodoService(
    new DynamoDbTodoStore(documentClient, config.tableName),
    new PageTokenCodec(config.pageTokenKey),
  ),
  logger,
  allowedOrigins: config.allowedOrigins,
});
if (config.refusal) logger.error("refusing every request", { reason: config.refusal });

// A refused configuration answers every request 503 through the app's own error path (problem
// +json, security headers, CORS, the request log), its detail naming the fix.
export const handler = config.refusal
  ? app.use({
      before: () => {
        throw new HttpProblem(
          { ...plainProblem(503, config.refusal as string), type: "/problems/service-unavailable" },
          { "Retry-After": String(retryAfterSeconds) },
        );
      },
    })
  : app;
