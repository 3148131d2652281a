// The HTTP front: what API Gateway does between a client and the function. Pages given
// from outside first (Swagger UI...), then the template's routes (403 for what it does not
// route, CORS preflight from the Api's Cors), then the event to an instance and its result
// back as the answer.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AuthorizerOutcome, RequestHeaders } from "./auth/authorizer.ts";
import type { RouteOfRequest } from "./auth/sign-in.ts";
import {
  type GatewayAnswer,
  type GatewayError,
  gatewayAnswer,
  integrationTimeout,
  internalServerError,
  missingAuthenticationToken,
  preflightAnswer,
  requestTooLarge,
} from "./gateway-responses.ts";
import type { InstancePool } from "./instance-pool.ts";
import { type HttpAnswer, MalformedResultError, mapLambdaResult } from "./proxy-result.ts";
import { BodyTooLargeError, readRequestBody } from "./request-body.ts";
import { requestTrace } from "./request-trace.ts";
import { buildRestEvent, newRequestId, requestRawPath } from "./rest-event.ts";
import type { RouteMatch, Router } from "./routing.ts";
import type { ApiDefinition } from "./template.ts";

/**
 * A page served beside the API, before routing (e.g. Swagger UI at /docs): it answers the
 * request and returns true, or returns false for a path that is not its own.
 */
export type LocalPage = (
  request: IncomingMessage,
  response: ServerResponse,
  rawPath: string,
) => Promise<boolean>;

export interface ApiServerOptions {
  router: Router;
  apis: Map<string, ApiDefinition>;
  /** By function logical id. */
  pools: Map<string, InstancePool>;
  pages: LocalPage[];
  /**
   * The Api's authorizer for a routed request (the local sign-in's `authorize`): undefined
   * when none guards the route. Without it, no route is guarded.
   */
  authorize?: (
    route: RouteOfRequest,
    headers: RequestHeaders,
  ) => Promise<AuthorizerOutcome | undefined>;
  log: (line: string) => void;
  logError: (line: string) => void;
}

export interface ApiServer {
  server: Server;
  /** How many requests have been received and not yet answered. */
  readonly inFlight: number;
  /**
   * Stops accepting, lets requests in flight be answered (bodies still uploading
   * included), then closes every connection.
   */
  close(): Promise<void>;
  /** Closes every connection now, answered or not. */
  closeNow(): void;
}

/** API Gateway's limit on a request's payload. */
const maxRequestBytes = 10 * 1024 * 1024;
/** Lambda's limit on a synchronous invocation's response. */
const maxResponseBytes = 6 * 1024 * 1024;
/** API Gateway's integration timeout: past it the client gets 504 while the function runs on. */
export const integrationTimeoutMs = 29_000;

// Response headers API Gateway does not pass through as they are: it renames them
// x-amzn-Remapped-<name> (its documented list for REST APIs), and sets Content-Length itself.
const remappedHeaders = new Set(
  [
    "authorization",
    "connection",
    "content-md5",
    "date",
    "expect",
    "host",
    "max-forwards",
    "proxy-authenticate",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "via",
    "warn",
    "www-authenticate",
  ].map((name) => name.toLowerCase()),
);

const noBody = Buffer.alloc(0);

/**
 * Whether the request has a body to read: by HTTP/1.1's framing (RFC 9112 6.3), only with
 * Transfer-Encoding or a Content-Length above 0. Read from rawHeaders, which Node has already
 * (request.headers is built on first use).
 */
function hasBody(rawHeaders: string[]): boolean {
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index] as string;
    if (name.length === 14 && name.toLowerCase() === "content-length") {
      if (rawHeaders[index + 1] !== "0") return true;
    } else if (name.length === 17 && name.toLowerCase() === "transfer-encoding") {
      return true;
    }
  }
  return false;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  if (!hasBody(request.rawHeaders)) return Promise.resolve(noBody);
  return readRequestBody(request, maxRequestBytes);
}

/** The function's answer, or one of API Gateway's own (whose headers it does not remap). */
type Answer = HttpAnswer | GatewayAnswer;

function writeAnswer(
  response: ServerResponse,
  answer: Answer,
  requestId: string,
  closeConnection: boolean,
) {
  // One flat name, value, name, value... list that writeHead renders as it is, rather than a
  // setHeader per header (each one validated, lower-cased and stored, then read back).
  const headers: string[] = [];
  let typed = false;
  for (const [name, values] of answer.headers) {
    const lower = name.toLowerCase();
    // Both are the gateway's own (below).
    if (lower === "content-length" || lower === "x-amzn-requestid") continue;
    if (lower === "content-type") typed = true;
    // The function's headers that API Gateway renames; its own answers' headers stay as they are.
    const remapped = !("fromGateway" in answer) && remappedHeaders.has(lower);
    const sentName = remapped ? `x-amzn-Remapped-${name}` : name;
    for (const value of values) headers.push(sentName, value);
  }
  // API Gateway answers JSON when the function names no type; not on a 304, which has no
  // body to type (RFC 9110 15.4.5: no representation metadata beyond what a 200 would
  // carry for caches). The SAM CLI's start-api sends none there either (werkzeug drops
  // a 304's entity headers).
  if (!typed && answer.statusCode !== 304) headers.push("Content-Type", "application/json");
  headers.push("x-amzn-RequestId", requestId, "Content-Length", String(answer.body.length));
  if (closeConnection) headers.push("Connection", "close");
  response.writeHead(answer.statusCode, headers);
  response.end(answer.body);
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | undefined;

  /** The only Api, for answers to requests that match none of its routes. */
  const soleApi = options.apis.size === 1 ? [...options.apis.values()][0] : undefined;

  /** The function's answer, or API Gateway's own error for a request it cannot pass on. */
  const invokeRoute = async (
    request: IncomingMessage,
    match: RouteMatch,
    api: ApiDefinition,
    requestId: string,
    requestTimeEpoch: number,
  ): Promise<HttpAnswer | GatewayError> => {
    const route = match.route;
    if (!route) return missingAuthenticationToken;
    // As on API Gateway, the authorizer decides before the body is read or anything invoked.
    const authorization = await options.authorize?.(route, request.headers);
    requestTrace?.mark(requestId, "authorized");
    if (authorization && !authorization.allowed) {
      options.log(`${requestId} refused by the authorizer: ${authorization.reason}`);
      return authorization.failure;
    }
    let body: Buffer;
    try {
      body = await readBody(request);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return requestTooLarge;
      throw error;
    }
    requestTrace?.mark(requestId, "body read");
    const event = buildRestEvent({
      request: {
        method: request.method ?? "GET",
        rawUrl: request.url ?? "/",
        rawHeaders: request.rawHeaders,
        body,
        sourceIp: (request.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""),
        httpVersion: request.httpVersion,
      },
      route,
      api,
      pathParameters: match.pathParameters,
      requestId,
      requestTimeEpoch,
    });
    // API Gateway REST passes a Cognito authorizer's claims as strings, under `claims`.
    if (authorization) event.requestContext.authorizer = { claims: authorization.claims };
    requestTrace?.mark(requestId, "event built");
    const payload = JSON.stringify(event);
    requestTrace?.mark(requestId, "event serialized");
    const pool = options.pools.get(route.functionLogicalId);
    if (!pool) return internalServerError;
    let integrationTimer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      pool.invoke(payload, requestId),
      new Promise<"integration-timeout">((resolve) => {
        integrationTimer = setTimeout(() => resolve("integration-timeout"), integrationTimeoutMs);
      }),
    ]).finally(() => clearTimeout(integrationTimer));
    if (outcome === "integration-timeout") {
      options.logError(
        `${route.functionLogicalId}: ${requestId} Execution failed: endpoint request timed out (29 s)`,
      );
      return integrationTimeout;
    }
    switch (outcome.kind) {
      case "result":
        if (outcome.payload.length > maxResponseBytes) {
          options.logError(`${route.functionLogicalId}: ${requestId} response larger than 6 MB`);
          return internalServerError;
        }
        try {
          const answer = mapLambdaResult(outcome.payload);
          requestTrace?.mark(requestId, "result mapped");
          return answer;
        } catch (error) {
          if (!(error instanceof MalformedResultError)) throw error;
          options.logError(
            `${route.functionLogicalId}: ${requestId} Malformed Lambda proxy response: ${error.message}`,
          );
          return internalServerError;
        }
      case "error":
        options.logError(
          `${route.functionLogicalId}: ${requestId} invocation failed: ${outcome.errorType}: ${outcome.errorMessage}`,
        );
        return internalServerError;
      case "timeout":
        // Lambda's own timeout fails the invocation, which API Gateway answers 502; its
        // 504 is for its own 29 s integration timeout (above), which only a function with
        // a longer Timeout reaches first.
        return internalServerError;
      case "crash":
        options.logError(`${route.functionLogicalId}: ${requestId} ${outcome.message}`);
        return internalServerError;
    }
  };

  /** The answer API Gateway gives, or undefined when a page has answered already. */
  const answer = async (
    request: IncomingMessage,
    response: ServerResponse,
    requestId: string,
    requestTimeEpoch: number,
  ): Promise<Answer | undefined> => {
    const rawPath = requestRawPath(request.url ?? "/");
    for (const page of options.pages) {
      if (await page(request, response, rawPath)) return undefined;
    }
    const method = request.method ?? "GET";
    const match = options.router.match(rawPath, method);
    if (!match) return gatewayAnswer(missingAuthenticationToken, soleApi, requestId);
    requestTrace?.mark(requestId, "routed", `${method} ${match.resourcePath}`);
    const apiLogicalId =
      match.route?.apiLogicalId ??
      [...options.apis.values()].find((api) => api.cors)?.logicalId ??
      "";
    const api = options.apis.get(apiLogicalId);
    if (method === "OPTIONS" && api?.cors && !match.methods.includes("OPTIONS")) {
      const authorization = await options.authorize?.(
        { apiLogicalId, resourcePath: match.resourcePath, method, corsPreflight: true },
        request.headers,
      );
      if (authorization && !authorization.allowed) {
        options.log(`${requestId} refused by the authorizer: ${authorization.reason}`);
        return gatewayAnswer(authorization.failure, api, requestId);
      }
      return preflightAnswer(api.cors, match);
    }
    const answeringApi = api ?? soleApi;
    let result: HttpAnswer | GatewayError;
    try {
      result = api
        ? await invokeRoute(request, match, api, requestId, requestTimeEpoch)
        : missingAuthenticationToken;
    } catch (error) {
      options.logError(`${requestId} ${(error as Error).stack ?? String(error)}`);
      result = internalServerError;
    }
    return "body" in result ? result : gatewayAnswer(result, answeringApi, requestId);
  };

  const server = createServer((request, response) => {
    inFlight++;
    const started = performance.now();
    const requestTimeEpoch = Date.now();
    const requestId = newRequestId();
    requestTrace?.begin(requestId);
    // Counted until the answer has left (or the client went away), not just been written.
    response.on("close", () => {
      inFlight--;
      if (closing && inFlight === 0) drained?.();
    });
    answer(request, response, requestId, requestTimeEpoch)
      .catch((error: unknown) => {
        options.logError(`${requestId} ${(error as Error).stack ?? String(error)}`);
        return gatewayAnswer(internalServerError, soleApi, requestId);
      })
      .then((result) => {
        if (result && !response.headersSent) writeAnswer(response, result, requestId, closing);
        requestTrace?.mark(requestId, "response written");
        const duration = (performance.now() - started).toFixed(1);
        options.log(
          `${request.method} ${request.url} ${response.statusCode} ${duration} ms ${requestId}`,
        );
        requestTrace?.end(requestId);
      });
  });
  // Keep-alive sockets of clients that went quiet must not hold a shutdown open.
  server.keepAliveTimeout = 5_000;

  return {
    server,
    get inFlight() {
      return inFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        server.closeIdleConnections();
        // Every request has its answer now; sockets still open are idle keep-alives.
        const whenDrained = () => server.closeAllConnections();
        if (inFlight === 0) whenDrained();
        else drained = whenDrained;
      }),
    closeNow: () => server.closeAllConnections(),
  };
}
