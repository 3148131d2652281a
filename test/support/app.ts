// The Lambda built in-process against a table of its own on a test DynamoDB, called with
// API Gateway v1 events: the HTTP contract without any server in between.

import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyResult } from "aws-lambda";
import { createApp } from "../../src/app.ts";
import { createLogger } from "../../src/http/logger.ts";
import { createDocumentClient } from "../../src/todos/dynamodb-client.ts";
import { DynamoDbTodoStore } from "../../src/todos/dynamodb-todo-store.ts";
import { PageTokenCodec } from "../../src/todos/page-token.ts";
import { type IdempotencyTimings, TodoService } from "../../src/todos/todo-service.ts";
import { apiGatewayEvent, type EventInput, lambdaContext } from "./api-gateway-event.ts";

export interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  /** The parsed body (undefined when empty); tests read it as the contract describes it. */
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked against openapi.yaml, not typed
  json: any;
}

export interface TestApp {
  /** `remainingTimeMs`: what the Lambda context says is left of the invocation (default 10 s). */
  call(input: EventInput, options?: { remainingTimeMs?: number }): Promise<Answer>;
  /** Every item in the table, todos and idempotency records alike. */
  scanTable(): Promise<Record<string, unknown>[]>;
  tableName: string;
  documentClient: ReturnType<typeof createDocumentClient>;
}

export function buildTestApp(options: {
  endpoint: string;
  tableName: string;
  allowedOrigins?: string[];
  idempotency?: Partial<IdempotencyTimings>;
  clientTimeouts?: {
    connectionTimeoutMs?: number;
    requestTimeoutMs?: number;
    maxAttempts?: number;
  };
}): TestApp {
  const documentClient = createDocumentClient({
    endpoint: options.endpoint,
    ...options.clientTimeouts,
  });
  const handler = createApp({
    todos: new TodoService(
      new DynamoDbTodoStore(documentClient, options.tableName),
      new PageTokenCodec("test-key"),
      options.idempotency ? { idempotency: options.idempotency } : {},
    ),
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? "silent"),
    allowedOrigins: options.allowedOrigins ?? ["http://allowed.test"],
  });
  return {
    tableName: options.tableName,
    documentClient,
    async call(input, { remainingTimeMs } = {}) {
      const context = lambdaContext(remainingTimeMs);
      const result = (await handler(apiGatewayEvent(input), context)) as APIGatewayProxyResult;
      const headers = Object.fromEntries(
        Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)]),
      );
      return {
        statusCode: result.statusCode,
        headers,
        body: result.body,
        json: result.body ? JSON.parse(result.body) : undefined,
      };
    },
    async scanTable() {
      const items: Record<string, unknown>[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await documentClient.send(
          new ScanCommand({
            TableName: options.tableName,
            ExclusiveStartKey,
            ConsistentRead: true,
          }),
        );
        items.push(...(page.Items ?? []));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return items;
    },
  };
}
