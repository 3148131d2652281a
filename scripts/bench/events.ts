// API Gateway events for in-process invocation, made by the local runtime's own routing and
// translation (scripts/local/routing.ts, rest-event.ts), so that baseline (a) and the request
// count see exactly the events the runtime's instances see.
import { join } from "node:path";
import { openIssuerKeys } from "../local/auth/keys.ts";
import { loadCfnTemplate } from "../local/cfn-template.ts";
import { buildRestEvent, newRequestId, requestRawPath } from "../local/rest-event.ts";
import { Router } from "../local/routing.ts";
import { resolveLocalApp } from "../local/template.ts";
import { repoRoot, templatePath } from "./artifacts.ts";

export interface EventRequest {
  method: string;
  /** Path and query as a client sends them. */
  rawUrl: string;
  headers?: Record<string, string>;
  body?: string | undefined;
}

const app = resolveLocalApp(loadCfnTemplate(templatePath), { templatePath });

/**
 * The local issuer's keys the benchmark's runtimes sign in with (--issuer-keys): made once,
 * kept with the benchmark's other scratch files, so that the bench user's `sub` is known to
 * every process of the run (the baselines read and write the same user's todos).
 */
export const benchKeysFile = join(repoRoot, ".bench", "issuer", "keys.json");
/** The local user the benchmark signs in as. */
export const benchUsername = "bench";

/** Whose todos the benchmark reads and writes: the signed-in user of its requests and events. */
export const benchOwner = (await openIssuerKeys({ file: benchKeysFile })).subjectOf(benchUsername);

// What API Gateway's Cognito authorizer passes the function for a verified access token of
// that user (every value a string, as REST APIs pass claims).
const benchClaims = {
  sub: benchOwner,
  token_use: "access",
  scope: "todos/read todos/write",
  client_id: "benchclient",
  username: "bench",
};
const router = new Router(app.routes);

/** The event as an object (for in-process calls). */
export function restEventObject(request: EventRequest) {
  const match = router.match(requestRawPath(request.rawUrl), request.method);
  const route = match?.route;
  const api = app.apis.find((candidate) => candidate.logicalId === route?.apiLogicalId);
  if (!match || !route || !api) throw new Error(`template.yaml routes no ${request.rawUrl}`);
  const headers: Record<string, string> = {
    Host: "127.0.0.1:3000",
    "User-Agent": "npm-run-bench",
    ...(request.body === undefined ? {} : { "Content-Type": "application/json" }),
    ...request.headers,
  };
  const event = buildRestEvent({
    request: {
      method: request.method,
      rawUrl: request.rawUrl,
      rawHeaders: Object.entries(headers).flat(),
      body: Buffer.from(request.body ?? ""),
      sourceIp: "127.0.0.1",
      httpVersion: "1.1",
    },
    route,
    api,
    pathParameters: match.pathParameters,
    requestId: newRequestId(),
    requestTimeEpoch: Date.now(),
  });
  if (request.method !== "OPTIONS") event.requestContext.authorizer = { claims: benchClaims };
  return event;
}

/** The event as JSON, as the runtime posts it to an instance. */
export const restEvent = (request: EventRequest): string =>
  JSON.stringify(restEventObject(request));

/** A Lambda context for in-process calls. */
export const lambdaContext = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: "TodoFunction",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:TodoFunction",
  memoryLimitInMB: "1024",
  awsRequestId: "npm-run-bench",
  logGroupName: "/aws/lambda/TodoFunction",
  logStreamName: "npm-run-bench",
  getRemainingTimeInMillis: () => 10_000,
};
