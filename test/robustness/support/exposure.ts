// What every answer must show and must not show, whatever the request: the security headers,
// and none of the server's insides (stacks, SDK messages, table or file names).
import type { ApiResponse } from "../../support/contract.ts";
import { figures } from "./figures.ts";

export interface SentRequest {
  method: string;
  path: string;
  query?: Record<string, string> | undefined;
  headers?: Record<string, string> | undefined;
  body?: string | undefined;
}

const internals: Array<[string, RegExp]> = [
  ["a stack frame", /\n\s+at \S|\bat [^\s(]+ \([^)]*:\d+:\d+\)|\bat (?:file|node):/],
  ["an exception name", /Exception|Error:/],
  ["a source file", /\.(?:ts|js|mjs|cjs):\d|node_modules|\/work\/|\/tmp\//],
  [
    "an AWS or SDK detail",
    /__type|com\.amazonaws|\$metadata|aws-sdk|ECONNREFUSED|ETIMEDOUT|ECONNRESET/,
  ],
  ["a DynamoDB expression", /ConditionExpression|ExpressionAttribute|attribute_not_exists/],
];

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function requestText(request: SentRequest): string {
  return [
    request.path,
    decoded(request.path),
    ...Object.entries(request.query ?? {}).flat(),
    ...Object.entries(request.headers ?? {}).flat(),
    request.body ?? "",
  ].join("\n");
}

/** Problems with what an answer exposes; text the client itself sent does not count. */
export function exposureProblems(
  request: SentRequest,
  response: ApiResponse,
  secrets: string[] = [],
): string[] {
  const problems: string[] = [];
  const sent = requestText(request);
  const body = response.body;
  for (const secret of secrets) {
    if (secret && body.includes(secret) && !sent.includes(secret)) {
      problems.push(`the body names ${JSON.stringify(secret)}`);
    }
  }
  // Error answers are where internals leak; a 2xx body holds todos (the contract allows no
  // other field), whose free text may hold anything clients wrote in earlier requests.
  if (response.status >= 400) {
    for (const [what, pattern] of internals) {
      const match = pattern.exec(body);
      if (match && !sent.includes(match[0])) {
        problems.push(`the body contains ${what}: ${match[0]}`);
      }
    }
  }
  const h = response.headers;
  if (h["x-content-type-options"] !== "nosniff")
    problems.push("no X-Content-Type-Options: nosniff");
  if (!/\bno-store\b/.test(h["cache-control"] ?? "")) problems.push("no Cache-Control: no-store");
  const csp = h["content-security-policy"] ?? "";
  if (!/default-src 'none'/.test(csp) || !/frame-ancestors 'none'/.test(csp)) {
    problems.push(`no restrictive Content-Security-Policy (${csp || "none"})`);
  }
  if (!/max-age=\d{6,}/.test(h["strict-transport-security"] ?? "")) {
    problems.push("no Strict-Transport-Security with a long max-age");
  }
  return problems;
}

/**
 * Every answer the suite sees passes through here: it is counted, 5xx are recorded (but a 503
 * that a database fault provoked on purpose), and its exposure problems are returned.
 */
export function observe(
  request: SentRequest,
  response: ApiResponse,
  options: { secrets?: string[]; expect503?: boolean } = {},
): string[] {
  figures.answers++;
  if (response.status >= 500 && !(options.expect503 && response.status === 503)) {
    figures.serverErrors++;
    if (figures.serverErrorSamples.length < 5) {
      figures.serverErrorSamples.push(
        `${request.method} ${request.path} → ${response.status} ${response.body.slice(0, 120)}`,
      );
    }
  }
  // API Gateway's own answers (403 for a path it does not route, …) never reach the
  // function: counted apart, as the template's gateway responses decide their headers.
  if (response.headers["x-amzn-errortype"] !== undefined) {
    figures.inputsByClass["answered by API Gateway itself"] =
      (figures.inputsByClass["answered by API Gateway itself"] ?? 0) + 1;
    return [];
  }
  const problems = exposureProblems(request, response, options.secrets);
  if (problems.length) figures.exposures++;
  return problems;
}
