// Every error becomes one RFC 9457 answer (application/problem+json). Nothing internal
// reaches the client: no stack, no SDK message, no table name.
import type { APIGatewayProxyResult } from "aws-lambda";
import { StoreUnavailableError } from "../dynamodb/requests.ts";
import { IdempotencyKeyInUseError, IdempotencyKeyReusedError } from "../idempotency/errors.ts";
import {
  InvalidPageTokenError,
  TodoNotFoundError,
  TodoVersionMismatchError,
} from "../todos/errors.ts";
import { etagOf } from "./conditional-requests.ts";
import type { FieldProblem } from "./request-validation.ts";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldProblem[];
}

/** An HTTP answer that the handlers or middlewares decided on, with the problem to send. */
export class HttpProblem extends Error {
  readonly problem: Problem;
  readonly headers: Record<string, string>;
  constructor(problem: Problem, headers: Record<string, string> = {}) {
    super(problem.detail ?? problem.title);
    this.name = "HttpProblem";
    this.problem = problem;
    this.headers = headers;
  }
}

// The statuses answered with a plain problem (the others have problem types of their own).
const statusTitles: Record<number, string> = {
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** A problem that its status says all about (type about:blank, the status phrase as title). */
export function plainProblem(status: number, detail: string): Problem {
  return { type: "about:blank", title: statusTitles[status] ?? "Error", status, detail };
}

export function validationProblem(errors: FieldProblem[]): Problem {
  return {
    type: "/problems/validation-error",
    title: "Your request is not valid",
    status: 400,
    detail:
      errors.length === 1
        ? `${errors[0]?.pointer} ${errors[0]?.detail}.`
        : `The request has ${errors.length} problems.`,
    errors,
  };
}

/** How long a client should wait before retrying after a 503. */
export const retryAfterSeconds = 1;

interface MiddyCause {
  package?: string;
  data?: unknown;
  /** Set by the JSON body parser on a body that is not JSON (JSON.parse's message). */
  message?: string;
}

// The keys @middy/util's jsonParseProtectProto refuses; its error names the key in cause.data.
const forbiddenBodyKeys = new Set(["__proto__", "constructor"]);

/** Every 503: the database or the clock ran out, and the client may retry after a second. */
const serviceUnavailable = {
  type: "/problems/service-unavailable",
  title: "Service Unavailable",
  status: 503,
  headers: { "Retry-After": String(retryAfterSeconds) },
};

type Described = Problem & { headers?: Record<string, string> };

type ProblemAnswer = { problem: Problem; headers: Record<string, string> };

// Each domain error, in HTTP: its problem type, title, status and detail (in the words of
// the request's headers and parameters), and any header it adds.
const domainProblems: [new (...args: never[]) => Error, (error: never) => Described][] = [
  [
    TodoNotFoundError,
    (error: TodoNotFoundError) => ({
      type: "about:blank",
      title: "Not Found",
      status: 404,
      detail: error.message,
    }),
  ],
  [
    TodoVersionMismatchError,
    (error: TodoVersionMismatchError) => ({
      type: "/problems/precondition-failed",
      title: "The todo has changed",
      status: 412,
      detail: "If-Match names another version of this todo; read it again and retry.",
      headers: { ETag: etagOf({ version: error.currentVersion }) },
    }),
  ],
  [
    IdempotencyKeyInUseError,
    () => ({
      type: "/problems/idempotency-key-in-use",
      title: "A request with this Idempotency-Key is in progress",
      status: 409,
      detail:
        "A request with this Idempotency-Key is still in progress; retry after it is answered.",
    }),
  ],
  [
    IdempotencyKeyReusedError,
    () => ({
      type: "/problems/idempotency-key-reused",
      title: "The Idempotency-Key was used for another request",
      status: 422,
      detail:
        "This Idempotency-Key was used with a different body; use a new key for another todo.",
    }),
  ],
  [
    StoreUnavailableError,
    () => ({
      ...serviceUnavailable,
      detail: "The todo store is not answering right now; retry shortly.",
    }),
  ],
];

/** The problem (and extra headers) for any error thrown while answering a request. */
export function problemFor(error: unknown): ProblemAnswer {
  // By name, not instanceof: the sam local entry point (src/http/sam-local-sign-in.ts) is a bundle
  // of its own, whose HttpProblem is another copy of the class.
  if (error instanceof Error && error.name === "HttpProblem") {
    const { problem, headers } = error as HttpProblem;
    return { problem, headers };
  }
  if (error instanceof InvalidPageTokenError) {
    return {
      problem: validationProblem([
        {
          pointer: "/query/nextToken",
          detail: "is not one this API gave for this listing; start again without it",
        },
      ]),
      headers: {},
    };
  }
  for (const [errorClass, describe] of domainProblems) {
    if (error instanceof errorClass) {
      const { headers = {}, ...problem } = describe(error as never);
      return { problem, headers };
    }
  }
  return (
    middyProblem(error) ?? {
      problem: plainProblem(500, "Something went wrong on our side."),
      headers: {},
    }
  );
}

// Errors that Middy's own middlewares throw, told apart by the package in their cause.
function middyProblem(error: unknown): ProblemAnswer | undefined {
  if (!(error instanceof Error)) return undefined;
  const { statusCode } = error as { statusCode?: number };
  const cause = (error.cause ?? {}) as MiddyCause;
  switch (cause.package) {
    case "@middy/validator":
      return { problem: validationProblem(cause.data as FieldProblem[]), headers: {} };
    case "@middy/http-json-body-parser":
      if (statusCode === 415) {
        return { problem: plainProblem(415, "Send the body as application/json."), headers: {} };
      }
      // The parser says 422; a body that is not JSON at all is a plain bad request.
      return {
        problem: validationProblem([
          {
            pointer: "/body",
            detail:
              cause.message === undefined && forbiddenBodyKeys.has(cause.data as string)
                ? `must not contain the key ${JSON.stringify(cause.data)}`
                : "is not valid JSON",
          },
        ]),
        headers: {},
      };
    case "@middy/core":
      // Middy answers shortly before the Lambda's own timeout would cut the request off.
      if (error.name !== "TimeoutError") return undefined;
      {
        const { headers, ...problem } = serviceUnavailable;
        return {
          problem: { ...problem, detail: "The request took too long; retry shortly." },
          headers,
        };
      }
    default:
      return undefined;
  }
}

export function problemResponse(
  problem: Problem,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode: problem.status,
    headers: { "Content-Type": "application/problem+json", ...headers },
    body: JSON.stringify(problem),
  };
}
