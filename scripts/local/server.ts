// The HTTP front: what API Gateway does between a client and the function. Docs first,
// then the template's routes (403 for what it does not route, CORS preflight from the
// Api's Cors), then the event to an instance and its result back as the answer.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { handleDocsRequest } from "./docs.ts";
import {
  buildRestEvent,
  type HttpAnswer,
  MalformedResultError,
  mapLambdaResult,
  newRequestId,
  requestRawPath,
} from "./events.ts";
import type { RouteMatch, Router } from "./routing.ts";
import type { ApiDefinition, CorsSettings } from "./template.ts";
import type { InstancePool } from "./workers.ts";

export interface ApiServerOptions {
  router: Router;
  apis: Map<string, ApiDefinition>;
  /** By function logical id. */
  pools: Map<string, InstancePool>;
  openapiPath: string;
  log: (line: string) => void;
  logError: (line: string) => void;
}

export interface ApiServer {
  server: Server;
  /** Stops accepting, lets requests in flight be answered, then closes every connection. */
  close(): Promise<void>;
}

/** API Gateway's limit on a request's payload. */
const maxRequestBytes = 10 * 1024 * 1024;
/** Lambda's limit on a synchronous invocation's response. */
const maxResponseBytes = 6 * 1024 * 1024;
/** API Gateway's integration timeout: past it the client gets 504 while the function runs on. */
const integrationTimeoutMs = 29_000;

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

const allMethods = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

/** An answer API Gateway gives on its own, shaped by the Api's GatewayResponses. */
interface GatewayError {
  /** The GatewayResponses type; without one, DEFAULT_4XX or DEFAULT_5XX applies. */
  type?: string;
  statusCode: number;
  message: string;
  errorType: string;
}

const missingAuthenticationToken: GatewayError = {
  type: "MISSING_AUTHENTICATION_TOKEN",
  statusCode: 403,
  message: "Missing Authentication Token",
  errorType: "MissingAuthenticationTokenException",
};
const requestTooLarge: GatewayError = {
  type: "REQUEST_TOO_LARGE",
  statusCode: 413,
  message: "Request Too Long",
  errorType: "RequestTooLongException",
};
const integrationTimeout: GatewayError = {
  type: "INTEGRATION_TIMEOUT",
  statusCode: 504,
  message: "Endpoint request timed out",
  errorType: "InternalServerErrorException",
};
/** A failed invocation, a malformed result or a Lambda timeout. */
const internalServerError: GatewayError = {
  statusCode: 502,
  message: "Internal server error",
  errorType: "InternalServerErrorException",
};

/** The few $context variables a gateway response template can use that are known here. */
function renderGatewayTemplate(template: string, error: GatewayError, requestId: string): string {
  const values: Record<string, string> = {
    "context.error.messageString": JSON.stringify(error.message),
    "context.error.message": error.message,
    "context.error.responseType":
      error.type ?? (error.statusCode >= 500 ? "DEFAULT_5XX" : "DEFAULT_4XX"),
    "context.error.validationErrorString": "",
    "context.requestId": requestId,
  };
  return template.replace(
    /\$\{?(context(?:\.\w+)+)\}?/g,
    (whole, name: string) => values[name] ?? whole,
  );
}

export function gatewayAnswer(
  error: GatewayError,
  api: ApiDefinition | undefined,
  requestId: string,
): HttpAnswer {
  const responses = api?.gatewayResponses ?? {};
  const settings =
    (error.type ? responses[error.type] : undefined) ??
    responses[error.statusCode >= 500 ? "DEFAULT_5XX" : "DEFAULT_4XX"];
  const [contentType, template] =
    Object.entries(settings?.templates ?? {}).find(([type]) => type === "application/json") ??
    Object.entries(settings?.templates ?? {})[0] ??
    [];
  const headers = new Map<string, string[]>([
    ["Content-Type", [contentType ?? "application/json"]],
    ["x-amzn-ErrorType", [error.errorType]],
  ]);
  for (const [name, value] of Object.entries(settings?.headers ?? {})) headers.set(name, [value]);
  return {
    statusCode: settings?.statusCode ?? error.statusCode,
    headers,
    body: Buffer.from(
      template === undefined
        ? JSON.stringify({ message: error.message })
        : renderGatewayTemplate(template, error, requestId),
    ),
  };
}

/** What SAM's Cors setting makes API Gateway answer to OPTIONS: a mock integration. */
function preflightAnswer(cors: CorsSettings, match: RouteMatch): HttpAnswer {
  const methods = match.methods.includes("ANY")
    ? allMethods
    : [...new Set([...match.methods, "OPTIONS"])].sort();
  const headers = new Map<string, string[]>([
    ["Content-Type", ["application/json"]],
    ["Access-Control-Allow-Origin", [cors.allowOrigin]],
    ["Access-Control-Allow-Methods", [cors.allowMethods ?? methods.join(",")]],
  ]);
  if (cors.allowHeaders) headers.set("Access-Control-Allow-Headers", [cors.allowHeaders]);
  if (cors.maxAge) headers.set("Access-Control-Max-Age", [cors.maxAge]);
  if (cors.allowCredentials) headers.set("Access-Control-Allow-Credentials", ["true"]);
  return { statusCode: 200, headers, body: Buffer.alloc(0) };
}

class RequestTooLargeError extends Error {}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxRequestBytes) {
        reject(new RequestTooLargeError());
        request.removeAllListeners("data");
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function writeAnswer(
  response: ServerResponse,
  answer: HttpAnswer,
  requestId: string,
  closeConnection: boolean,
) {
  for (const [name, values] of answer.headers) {
    const lower = name.toLowerCase();
    if (lower === "content-length") continue;
    response.setHeader(remappedHeaders.has(lower) ? `x-amzn-Remapped-${name}` : name, values);
  }
  // API Gateway answers JSON when the function names no type.
  if (!response.hasHeader("content-type")) response.setHeader("Content-Type", "application/json");
  response.setHeader("x-amzn-RequestId", requestId);
  response.setHeader("Content-Length", answer.body.length);
  if (closeConnection) response.setHeader("Connection", "close");
  response.writeHead(answer.statusCode);
  response.end(answer.body);
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | undefined;

  /** The only Api, for answers to requests that match none of its routes. */
  const soleApi = options.apis.size === 1 ? [...options.apis.values()][0] : undefined;

  const answer = async (
    request: IncomingMessage,
    response: ServerResponse,
    requestId: string,
    requestTimeEpoch: number,
    served: { api?: ApiDefinition },
  ): Promise<HttpAnswer | GatewayError | undefined> => {
    const rawUrl = request.url ?? "/";
    const rawPath = requestRawPath(rawUrl);
    if (await handleDocsRequest(request, response, rawPath, { openapiPath: options.openapiPath })) {
      return undefined;
    }
    const method = request.method ?? "GET";
    const match = options.router.match(rawPath, method);
    if (!match) return missingAuthenticationToken;
    const firstRoute = match.route ?? undefined;
    const apiLogicalId =
      firstRoute?.apiLogicalId ??
      [...options.apis.values()].find((api) => api.cors)?.logicalId ??
      "";
    const api = options.apis.get(apiLogicalId);
    served.api = api ?? soleApi;
    if (method === "OPTIONS" && api?.cors && !match.methods.includes("OPTIONS")) {
      return preflightAnswer(api.cors, match);
    }
    const route = match.route;
    if (!route || !api) return missingAuthenticationToken;

    let body: Buffer;
    try {
      body = await readBody(request);
    } catch (error) {
      if (error instanceof RequestTooLargeError) {
        return requestTooLarge;
      }
      throw error;
    }
    const event = buildRestEvent({
      request: {
        method,
        rawUrl,
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
    const pool = options.pools.get(route.functionLogicalId);
    if (!pool) return internalServerError;
    let integrationTimer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      pool.invoke(JSON.stringify(event), requestId),
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
          return mapLambdaResult(outcome.payload);
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

  const server = createServer((request, response) => {
    inFlight++;
    const started = performance.now();
    const requestTimeEpoch = Date.now();
    const requestId = newRequestId();
    // Counted until the answer has left (or the client went away), not just been written.
    response.on("close", () => {
      inFlight--;
      if (closing && inFlight === 0) drained?.();
    });
    const served: { api?: ApiDefinition } = { api: soleApi };
    answer(request, response, requestId, requestTimeEpoch, served)
      .catch((error: unknown) => {
        options.logError(`${requestId} ${(error as Error).stack ?? String(error)}`);
        return internalServerError;
      })
      .then((result) => {
        if (result && !response.headersSent) {
          const httpAnswer =
            "body" in result ? result : gatewayAnswer(result, served.api, requestId);
          writeAnswer(response, httpAnswer, requestId, closing);
        }
        const duration = (performance.now() - started).toFixed(1);
        options.log(
          `${request.method} ${request.url} ${response.statusCode} ${duration} ms ${requestId}`,
        );
      });
  });
  // Keep-alive sockets of clients that went quiet must not hold a shutdown open.
  server.keepAliveTimeout = 5_000;

  return {
    server,
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
  };
}
