// The middlewares around every request, each in Middy's shape: {before, after, onError}.
import type middy from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import type { Logger } from "./logger.ts";
import { HttpProblem, plainProblem, problemFor, problemResponse } from "./problem.ts";

type Request = middy.Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>;
type Middleware = middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>;

/**
 * API Gateway passes header names as the client wrote them; HTTP says they are
 * case-insensitive. Everything after this reads them in lower case.
 */
export function lowerCaseHeaders(): Middleware {
  return {
    before: ({ event }: Request) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(event.headers ?? {})) {
        if (value !== undefined) headers[name.toLowerCase()] = value;
      }
      event.headers = headers;
    },
  };
}

/** Refuses an oversized body before anything parses it. */
export function bodySizeLimit(maxBytes: number): Middleware {
  return {
    before: ({ event }: Request) => {
      if (!event.body) return;
      const bytes = event.isBase64Encoded
        ? Buffer.from(event.body, "base64").byteLength
        : Buffer.byteLength(event.body);
      if (bytes > maxBytes) {
        throw new HttpProblem(
          plainProblem(413, `The body has ${bytes} bytes; the limit is ${maxBytes}.`),
        );
      }
    },
  };
}

/** The one error path: every error becomes problem+json; 5xx are logged, never explained. */
export function problemErrors(logger: Logger): Middleware {
  return {
    onError: (request: Request) => {
      const { problem, headers } = problemFor(request.error);
      problem.instance = request.event.requestContext?.requestId ?? request.context.awsRequestId;
      if (problem.status >= 500) {
        const error = request.error;
        logger.error("request failed", {
          requestId: request.context.awsRequestId,
          error:
            error instanceof Error
              ? { name: error.name, message: error.message, stack: error.stack }
              : String(error),
          cause:
            error instanceof Error && error.cause instanceof Error
              ? { name: error.cause.name, message: error.cause.message }
              : undefined,
        });
      }
      request.response = problemResponse(problem, headers);
    },
  };
}

/**
 * What a browser may do with an answer of this API: nothing but read it as data. The values
 * are the ones @middy/http-security-headers (helmet's set) computes for a JSON API with
 * `default-src 'none'`; written out once here, because building helmet's options at every
 * cold start cost more than a constant and no request ever needed them to vary.
 */
const securityHeaderValues: Readonly<Record<string, string>> = Object.freeze({
  "Content-Security-Policy":
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Origin-Agent-Cluster": "?1",
  "Referrer-Policy": "no-referrer",
  "Strict-Transport-Security": "max-age=15552000; includeSubDomains",
  "X-Content-Type-Options": "nosniff",
  "X-DNS-Prefetch-Control": "off",
  "X-Download-Options": "noopen",
  "X-Frame-Options": "DENY",
  "X-Permitted-Cross-Domain-Policies": "none",
});

/**
 * Headers every answer carries, errors included: the security headers above (they replace any
 * a handler set) and Cache-Control: no-store unless a handler chose otherwise.
 */
export function fixedHeaders(): Middleware {
  const addHeaders = (request: Request) => {
    if (!request.response) return;
    request.response.headers = {
      "Cache-Control": "no-store",
      ...request.response.headers,
      ...securityHeaderValues,
    };
  };
  return { after: addHeaders, onError: addHeaders };
}

export interface CorsOptions {
  /** Exact origins (scheme://host[:port]) whose browser pages may call the API. */
  origins: readonly string[];
  methods: string;
  headers: string;
  exposeHeaders: string;
  maxAgeSeconds: number;
}

/**
 * CORS for a list of exact origins: an allowed Origin is echoed in
 * Access-Control-Allow-Origin, any other gets none. Every answer says `Vary: Origin`, since
 * whether it carries that header depends on the Origin. (@middy/http-cors also handles
 * wildcards, credentials and punycode; the template offers none of them, and its code was a
 * tenth of everything this function adds to its bundle.)
 */
export function cors(options: CorsOptions): Middleware {
  const allowed = new Set(options.origins);
  const fixed = {
    "Access-Control-Allow-Headers": options.headers,
    "Access-Control-Allow-Methods": options.methods,
    "Access-Control-Expose-Headers": options.exposeHeaders,
    "Access-Control-Max-Age": String(options.maxAgeSeconds),
  };
  const addHeaders = (request: Request) => {
    const response = request.response;
    if (!response) return;
    const headers: Record<string, string | number | boolean> = { ...fixed, ...response.headers };
    // lowerCaseHeaders has run: no middleware before it can throw.
    const origin = request.event.headers?.origin;
    if (origin !== undefined && allowed.has(origin)) {
      headers["Access-Control-Allow-Origin"] = origin;
    }
    const vary = headers.Vary;
    headers.Vary = vary ? `${vary}, Origin` : "Origin";
    response.headers = headers;
  };
  return { after: addHeaders, onError: addHeaders };
}

/** One log line per request: method, path, status, duration and both request ids. */
export function requestLog(logger: Logger): Middleware {
  const started = new WeakMap<object, number>();
  const log = (request: Request) => {
    const { event, context, response } = request;
    logger.info("request", {
      requestId: context.awsRequestId,
      apiRequestId: event.requestContext?.requestId,
      method: event.httpMethod,
      path: event.path,
      status: response?.statusCode,
      durationMs: Math.round(performance.now() - (started.get(request) ?? performance.now())),
    });
  };
  return {
    before: (request: Request) => {
      started.set(request, performance.now());
    },
    after: log,
    onError: log,
  };
}
