// The answers API Gateway gives on its own, without the function: its errors (403 for an
// unrouted path, 413, 502, 504), shaped by the Api's GatewayResponses, and the CORS
// preflight that SAM's Cors setting makes a mock integration.
import type { HttpAnswer } from "./proxy-result.ts";
import type { RouteMatch } from "./routing.ts";
import type { ApiDefinition, CorsSettings } from "./template.ts";

/** An answer of API Gateway's own: unlike an integration's, its headers are sent as they are. */
export interface GatewayAnswer extends HttpAnswer {
  fromGateway: true;
}

const allMethods = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

/** An answer API Gateway gives on its own, shaped by the Api's GatewayResponses. */
export interface GatewayError {
  /** The GatewayResponses type; without one, DEFAULT_4XX or DEFAULT_5XX applies. */
  type?: string;
  statusCode: number;
  message: string;
  errorType: string;
}

export const missingAuthenticationToken: GatewayError = {
  type: "MISSING_AUTHENTICATION_TOKEN",
  statusCode: 403,
  message: "Missing Authentication Token",
  errorType: "MissingAuthenticationTokenException",
};
export const requestTooLarge: GatewayError = {
  type: "REQUEST_TOO_LARGE",
  statusCode: 413,
  message: "Request Too Long",
  errorType: "RequestTooLongException",
};
export const integrationTimeout: GatewayError = {
  type: "INTEGRATION_TIMEOUT",
  statusCode: 504,
  message: "Endpoint request timed out",
  errorType: "InternalServerErrorException",
};
/** A failed invocation, a malformed result or a Lambda timeout. */
export const internalServerError: GatewayError = {
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
): GatewayAnswer {
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
    fromGateway: true,
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
export function preflightAnswer(cors: CorsSettings, match: RouteMatch): GatewayAnswer {
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
  return { fromGateway: true, statusCode: 200, headers, body: Buffer.alloc(0) };
}
