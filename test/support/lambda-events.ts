// API Gateway REST (payload v1) events for in-process tests, made by the local runtime's own
// translation (buildRestEvent, scripts/local/), so the tests feed the Lambda exactly what
// `npm start` and its instances do; and a Lambda context to go with them. Every event is
// signed in, as API Gateway's Cognito authorizer passes a verified token's claims, as the
// default test user unless the input names other claims (or null: none).
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { buildRestEvent } from "../../scripts/local/index.ts";
import { defaultTestUser, type TokenClaims } from "./sign-in.ts";

export interface EventInput {
  method: string;
  /** The path as the function sees it (the event's decoded `path`). */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** An object is sent as JSON (with Content-Type application/json unless headers say otherwise). */
  body?: unknown;
  /** The route template API Gateway matched, e.g. /todos/{id}. */
  resource?: string;
  /** The authorizer's claims (test/support/sign-in.ts); null: none, as if no authorizer ran. */
  claims?: TokenClaims | null;
}

type GatewayInput = Parameters<typeof buildRestEvent>[0];

// The template's one Api (stage v1) and its function, as the runtime resolves them.
const api: GatewayInput["api"] = {
  logicalId: "ServerlessRestApi",
  restApiId: "localapi",
  stageName: "v1",
  binaryMediaTypes: [],
  gatewayResponses: {},
};

// The request target a client sends for that path: API Gateway decodes it back to `path`.
const rawPathOf = (path: string) => path.replace(/[%?#]/g, (c) => encodeURIComponent(c));

const queryString = (query: Record<string, string> | undefined) =>
  Object.entries(query ?? {})
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join("&");

export function apiGatewayEvent(input: EventInput): APIGatewayProxyEvent {
  const headers: Record<string, string> = { "User-Agent": "vitest", ...input.headers };
  let body = "";
  if (typeof input.body === "string") body = input.body;
  else if (input.body !== undefined) {
    body = JSON.stringify(input.body);
    if (!Object.keys(headers).some((name) => name.toLowerCase() === "content-type")) {
      headers["Content-Type"] = "application/json";
    }
  }
  const query = queryString(input.query);
  const resourcePath = input.resource ?? input.path;
  const event = buildRestEvent({
    request: {
      method: input.method,
      rawUrl: query ? `${rawPathOf(input.path)}?${query}` : rawPathOf(input.path),
      rawHeaders: Object.entries(headers).flat(),
      body: Buffer.from(body),
      sourceIp: "127.0.0.1",
      httpVersion: "1.1",
    },
    route: {
      apiLogicalId: api.logicalId,
      functionLogicalId: "TodoFunction",
      resourcePath,
      method: input.method,
      resourceId: "resource",
    },
    api,
    // @middy/http-router reads the path parameters from the path itself.
    pathParameters: null,
    requestId: randomUUID(),
    requestTimeEpoch: Date.now(),
  });
  const claims = input.claims === undefined ? defaultTestUser.claims : input.claims;
  // A CORS preflight reaches the function without an authorizer (AddDefaultAuthorizerToCorsPreflight: false).
  if (claims && input.method !== "OPTIONS") event.requestContext.authorizer = { claims };
  return event;
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
