// API Gateway REST (payload v1) events as AWS sends them to the Lambda, for in-process tests.
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";

export interface EventInput {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** An object is sent as JSON (with Content-Type application/json unless headers say otherwise). */
  body?: unknown;
  /** The route template API Gateway matched, e.g. /todos/{id}. */
  resource?: string;
}

export function apiGatewayEvent(input: EventInput): APIGatewayProxyEvent {
  const headers: Record<string, string> = { ...input.headers };
  let body: string | null = null;
  if (typeof input.body === "string") body = input.body;
  else if (input.body !== undefined) {
    body = JSON.stringify(input.body);
    if (!Object.keys(headers).some((name) => name.toLowerCase() === "content-type")) {
      headers["Content-Type"] = "application/json";
    }
  }
  const query = input.query && Object.keys(input.query).length ? input.query : null;
  const requestId = randomUUID();
  return {
    resource: input.resource ?? input.path,
    path: input.path,
    httpMethod: input.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query,
    multiValueQueryStringParameters: query
      ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]]))
      : null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: "123456789012",
      apiId: "localapi",
      authorizer: null,
      protocol: "HTTP/1.1",
      httpMethod: input.method,
      identity: {
        sourceIp: "127.0.0.1",
        userAgent: "vitest",
      } as APIGatewayProxyEvent["requestContext"]["identity"],
      path: `/v1${input.path}`,
      stage: "v1",
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: "resource",
      resourcePath: input.resource ?? input.path,
    },
  };
}

export function lambdaContext(remainingTimeMs = 10_000): Context {
  const awsRequestId = randomUUID();
  const deadline = Date.now() + remainingTimeMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: "TodoFunction",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:TodoFunction",
    memoryLimitInMB: "1024",
    awsRequestId,
    logGroupName: "/aws/lambda/TodoFunction",
    logStreamName: "test",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
