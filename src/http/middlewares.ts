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

/** Headers every answer of a JSON API carries, errors included, beside the security headers. */
export function noStore(): Middleware {
  const addHeaders = (request: Request) => {
    if (!request.response) return;
    request.response.headers = { "Cache-Control": "no-store", ...request.response.headers };
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
