// Two ways to call the API with the same request shape: in process (the Lambda handler built
// by composeApp, fed API Gateway v1 events, on a real dynalite) and over HTTP (the local
// runtime). Both answer ApiResponse and pass every answer through observe().
import { type AttributeValue, DynamoDBClient, paginateScan } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { decodeJwt } from "jose";
import { composeApp } from "../../../src/compose.ts";
import type { ApiResponse } from "../../support/contract.ts";
import { startDynalite } from "../../support/dynalite.ts";
import { apiGatewayEvent, lambdaContext } from "../../support/lambda-events.ts";
import { defaultTestUser, type TokenClaims } from "../../support/sign-in.ts";
import { devToken } from "../../support/tokens.ts";
import { observe, type SentRequest } from "./exposure.ts";

export interface ApiRequest extends SentRequest {
  /** A raw body: sent exactly as given. */
  body?: string | undefined;
  /** In process only: the body is base64 (as API Gateway marks binary bodies). */
  isBase64Encoded?: boolean;
  /**
   * In process only: the authorizer's claims (null: none; unset: the default test user). Any
   * value, to see what the function makes of claims it was never meant to get.
   */
  claims?: unknown;
}

export interface CallOptions {
  /** This test provokes 503 on purpose (database faults): do not count 503 as a failure. */
  expect503?: boolean;
  /** In process only: the invocation's time left (the Lambda context's), 10 s by default. */
  remainingTimeMs?: number;
}

export interface CheckedResponse extends ApiResponse {
  /** Exposure and security-header problems of this answer (must be empty). */
  exposure: string[];
  elapsedMs: number;
  json(): unknown;
}

export type CallApi = (request: ApiRequest, options?: CallOptions) => Promise<CheckedResponse>;

// ROBUSTNESS_LOG=1 shows the Lambda's error log (what a 5xx was about) while replaying a case.
const silentLogger = {
  debug() {},
  info() {},
  warn() {},
  error(message: string, fields?: Record<string, unknown>) {
    if (process.env.ROBUSTNESS_LOG) console.error(message, JSON.stringify(fields));
  },
};

export const jsonHeaders = { "Content-Type": "application/json" };

/** A request with a JSON body (serialized here) and Content-Type application/json. */
export function jsonRequest(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): ApiRequest {
  return body === undefined
    ? { method, path, headers }
    : { method, path, headers: { ...jsonHeaders, ...headers }, body: JSON.stringify(body) };
}

function checked(
  request: ApiRequest,
  response: ApiResponse,
  elapsedMs: number,
  secrets: string[],
  options: CallOptions,
): CheckedResponse {
  const exposure = observe(request, response, { secrets, ...options });
  return {
    ...response,
    exposure,
    elapsedMs,
    json: () => JSON.parse(response.body) as unknown,
  };
}

const lowerCased = (headers: Record<string, unknown> | undefined) =>
  Object.fromEntries(
    Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]),
  );

export interface InProcessApi {
  call: CallApi;
  tableName: string;
  /** The dynalite endpoint itself (not the one the app uses, when that is a faulty proxy). */
  dynamoEndpoint: string;
  /** Every item of the table, read straight from dynalite, sorted by key. */
  scan(): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

export interface InProcessOptions {
  /** Where the app's DynamoDB client goes (a fault proxy); dynalite itself by default. */
  appEndpoint?: (dynamoEndpoint: string) => Promise<string> | string;
  allowedOrigins?: string[];
}

/** dynalite in memory, the template's table, and the Lambda built as src/handler.ts builds it. */
export async function startInProcessApi(options: InProcessOptions = {}): Promise<InProcessApi> {
  const dynamo = await startDynalite();
  const tableName = await dynamo.createTable();
  const appEndpoint = options.appEndpoint
    ? await options.appEndpoint(dynamo.endpoint)
    : dynamo.endpoint;
  const { handler, documentClient } = composeApp({
    dynamoDb: { endpoint: appEndpoint, region: "us-east-1" },
    tableName,
    pageTokenKey: `robustness:${tableName}`,
    logger: silentLogger,
    allowedOrigins: options.allowedOrigins ?? ["http://localhost:3000"],
  });
  const scanClient = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  const secrets = [tableName, dynamo.endpoint, appEndpoint];

  const call: CallApi = async (request, callOptions = {}) => {
    const event = apiGatewayEvent({
      method: request.method,
      path: request.path,
      resource: request.path.startsWith("/todos/") ? "/todos/{id}" : request.path,
      ...(request.query ? { query: request.query } : {}),
      headers: request.headers ?? {},
      ...(request.body !== undefined ? { body: request.body } : {}),
      ...(request.claims !== undefined ? { claims: request.claims as TokenClaims | null } : {}),
    });
    if (request.isBase64Encoded) event.isBase64Encoded = true;
    const started = performance.now();
    const result = await handler(event, lambdaContext(callOptions.remainingTimeMs));
    const elapsed = performance.now() - started;
    const response: ApiResponse = {
      status: result.statusCode,
      headers: lowerCased(result.headers),
      body: result.body ?? "",
    };
    return checked(request, response, elapsed, secrets, callOptions);
  };

  return {
    call,
    tableName,
    dynamoEndpoint: dynamo.endpoint,
    scan: () => scanTable(scanClient, tableName),
    async stop() {
      documentClient.destroy();
      scanClient.destroy();
      await dynamo.stop();
    },
  };
}

export async function scanTable(
  client: DynamoDBClient,
  tableName: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan(
    { client },
    { TableName: tableName, ConsistentRead: true },
  )) {
    for (const item of page.Items ?? []) {
      items.push(unmarshall(item as Record<string, AttributeValue>));
    }
  }
  return items.sort((a, b) => `${a.owner}\n${a.id}`.localeCompare(`${b.owner}\n${b.id}`));
}

/**
 * A user's todos as the table holds them (idempotency records left out): the in-process test
 * user's by default; over HTTP, the owner is the local issuer's sub (HttpApi.subject()).
 */
export const todoItems = (items: Record<string, unknown>[], owner = defaultTestUser.sub) =>
  items.filter((item) => item.owner === owner);

export interface HttpApi extends CallApi {
  /** The signed-in test user's `sub`: the owner of what this API's calls create. */
  subject(): Promise<string>;
  /** The access token the calls send (for requests made another way). */
  token(): Promise<string>;
}

/**
 * The API over HTTP (the local runtime), signed in as a client is: an access token of the
 * runtime's own issuer for `username` (POST /auth/dev/token, once), sent as
 * Authorization: Bearer unless the request names its own Authorization. Bodies are sent as
 * the raw bytes given.
 */
export function httpApi(baseUrl: string, secrets: string[] = [], username = "test-user"): HttpApi {
  let token: Promise<string> | undefined;
  const tokenOnce = () => {
    token ??= devToken(baseUrl, username);
    return token;
  };
  const call: CallApi = async (request, callOptions = {}) => {
    const sent = new Headers(request.headers ?? {});
    if (!sent.has("authorization")) sent.set("Authorization", `Bearer ${await tokenOnce()}`);
    const url = new URL(request.path, baseUrl);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      url.searchParams.set(name, value);
    }
    const started = performance.now();
    const answer = await fetch(url, {
      method: request.method,
      headers: sent,
      ...(request.body !== undefined ? { body: request.body } : {}),
    });
    const body = await answer.text();
    const elapsed = performance.now() - started;
    const headers: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return checked(
      request,
      { status: answer.status, headers, body },
      elapsed,
      secrets,
      callOptions,
    );
  };
  return Object.assign(call, {
    subject: async () => decodeJwt(await tokenOnce()).sub as string,
    token: tokenOnce,
  });
}
