// The Lambda built in-process against a table of its own on a test DynamoDB, called with
// API Gateway v1 events: the HTTP contract without any server in between.

import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyResult } from "aws-lambda";
import { composeApp } from "../../src/compose.ts";
import type { DynamoDbClientOptions } from "../../src/dynamodb/client.ts";
import { createLogger } from "../../src/http/logger.ts";
import type { IdempotencyTimings } from "../../src/idempotency/idempotency.ts";
import type { ApiResponse } from "./contract.ts";
import { apiGatewayEvent, type EventInput, lambdaContext } from "./lambda-events.ts";

export interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  /** The parsed body (undefined when empty); tests read it as the contract describes it. */
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked against openapi.yaml, not typed
  json: any;
}

/** The answer as the contract checks see it (test/support/contract.ts): header names in lower case. */
export function asApiResponse(answer: Answer): ApiResponse {
  return {
    status: answer.statusCode,
    headers: Object.fromEntries(
      Object.entries(answer.headers).map(([name, value]) => [name.toLowerCase(), value]),
    ),
    body: answer.body,
  };
}

export interface TestApp {
  /** `remainingTimeMs`: what the Lambda context says is left of the invocation (default 10 s). */
  call(input: EventInput, options?: { remainingTimeMs?: number }): Promise<Answer>;
  /** Every item in the table, todos and idempotency records alike. */
  scanTable(): Promise<Record<string, unknown>[]>;
  tableName: string;
  documentClient: ReturnType<typeof composeApp>["documentClient"];
}

export function buildTestApp(options: {
  endpoint: string;
  tableName: string;
  allowedOrigins?: string[];
  idempotency?: Partial<IdempotencyTimings>;
  clientTimeouts?: Omit<DynamoDbClientOptions, "endpoint" | "region">;
}): TestApp {
  const { handler, documentClient } = composeApp({
    dynamoDb: { endpoint: options.endpoint, ...options.clientTimeouts },
    tableName: options.tableName,
    pageTokenKey: "test-key",
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? "silent"),
    allowedOrigins: options.allowedOrigins ?? ["http://allowed.test"],
    idempotency: options.idempotency,
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
