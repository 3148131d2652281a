// The one composition root: DynamoDB client → stores → page-token codec → Todo service →
// idempotent creation → the Middy app. The Lambda (handler.ts), the tests and the benchmarks
// all build the app here, so that what they test is what is deployed.
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createApp } from "./app.ts";
import { createDocumentClient, type DynamoDbClientOptions } from "./dynamodb/client.ts";
import type { Logger } from "./http/logger.ts";
import type { BearerVerifier } from "./http/sign-in.ts";
import { DynamoDbIdempotencyStore } from "./idempotency/dynamodb-idempotency-store.ts";
import { Idempotency, type IdempotencyTimings } from "./idempotency/idempotency.ts";
import { DynamoDbTodoStore } from "./todos/dynamodb-todo-store.ts";
import { PageTokenCodec } from "./todos/page-token.ts";
import type { StoredTodo } from "./todos/todo.ts";
import { TodoService, todoCreation } from "./todos/todo-service.ts";

export interface AppSettings {
  dynamoDb: DynamoDbClientOptions;
  tableName: string;
  /** Signs nextTokens. */
  pageTokenKey: string;
  logger: Logger;
  /** Exact origins allowed by CORS. */
  allowedOrigins: string[];
  /** Only under `sam local start-api`: verifies the bearer token where no authorizer did. */
  verifyBearer?: BearerVerifier | undefined;
  /** Shorter idempotency timings, for tests that wait them out. */
  idempotency?: Partial<IdempotencyTimings> | undefined;
}

export interface ComposedApp {
  handler: ReturnType<typeof createApp>;
  /** The app's own client: the caller destroys it when done (the Lambda never is). */
  documentClient: DynamoDBDocumentClient;
}

export function composeApp(settings: AppSettings): ComposedApp {
  const documentClient = createDocumentClient(settings.dynamoDb);
  const todos = new TodoService(
    new DynamoDbTodoStore(documentClient, settings.tableName),
    new PageTokenCodec(settings.pageTokenKey),
  );
  const idempotentCreation = new Idempotency(
    // Records have kept the todo as `todo` since the first release: a key claimed before a
    // deploy still replays after it.
    new DynamoDbIdempotencyStore<StoredTodo>(documentClient, settings.tableName, {
      resultAttribute: "todo",
    }),
    todoCreation(todos),
    { timings: settings.idempotency },
  );
  const handler = createApp({
    todos,
    idempotentCreation,
    logger: settings.logger,
    allowedOrigins: settings.allowedOrigins,
    verifyBearer: settings.verifyBearer,
  });
  return { handler, documentClient };
}
