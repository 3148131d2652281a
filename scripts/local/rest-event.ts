// What API Gateway (REST API, Lambda proxy integration, payload 1.0) hands the function:
// the HTTP request as the proxy event. Its way back, the result, is in proxy-result.ts.
import { randomFillSync, randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { localAccountId } from "./local-aws.ts";
import type { ApiDefinition, RouteDefinition } from "./template.ts";

export interface IncomingRequest {
  method: string;
  /** Path and query as sent, percent-encoded. */
  rawUrl: string;
  /** Node's rawHeaders: name, value, name, value... with the client's spelling. */
  rawHeaders: string[];
  body: Buffer;
  sourceIp: string;
  httpVersion: string;
}

export interface EventInput {
  request: IncomingRequest;
  route: RouteDefinition;
  api: ApiDefinition;
  pathParameters: Record<string, string> | null;
  /** Fresh for every request (the SAM CLI reuses them: aws-sam-cli#9279). */
  requestId: string;
  requestTimeEpoch: number;
}

export function newRequestId(): string {
  return randomUUID();
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function splitUrl(requestTarget: string): { rawPath: string; rawQuery: string } {
  // HTTP/1.1 allows the absolute form (GET http://host/path); only its path counts here.
  const rawUrl = requestTarget.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, "");
  const question = rawUrl.indexOf("?");
  return question < 0
    ? { rawPath: rawUrl, rawQuery: "" }
    : { rawPath: rawUrl.slice(0, question), rawQuery: rawUrl.slice(question + 1) };
}

export function requestRawPath(rawUrl: string): string {
  return splitUrl(rawUrl).rawPath || "/";
}

function multiValueQuery(rawQuery: string): Record<string, string[]> | null {
  if (!rawQuery) return null;
  const values: Record<string, string[]> = {};
  for (const pair of rawQuery.split("&")) {
    if (!pair) continue;
    const equals = pair.indexOf("=");
    // API Gateway decodes %XX but keeps "+" as it is (it is not a form post).
    const name = decodeComponent(equals < 0 ? pair : pair.slice(0, equals));
    const value = equals < 0 ? "" : decodeComponent(pair.slice(equals + 1));
    const list = values[name] ?? [];
    list.push(value);
    values[name] = list;
  }
  return Object.keys(values).length > 0 ? values : null;
}

function lastValues(multi: Record<string, string[]> | null): Record<string, string> | null {
  if (!multi) return null;
  const last: Record<string, string> = {};
  for (const name in multi) {
    const list = multi[name] as string[];
    last[name] = list[list.length - 1] as string;
  }
  return last;
}

const months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");

/** API Gateway's request-time format: 28/Nov/2026:04:20:41 +0000. */
function apiGatewayTime(epochMs: number): string {
  const date = new Date(epochMs);
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

// Random bytes for the trace and extended request ids, drawn from a pool refilled 4 KB at a
// time (as randomUUID does) rather than from a call into the CSPRNG per request.
const randomPool = Buffer.alloc(4096);
let randomOffset = randomPool.length;

function random(size: number): Buffer {
  if (randomOffset + size > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  randomOffset += size;
  return randomPool.subarray(randomOffset - size, randomOffset);
}

function traceId(epochMs: number): string {
  return `Root=1-${Math.floor(epochMs / 1000).toString(16)}-${random(12).toString("hex")}`;
}

const textualTypes = [
  /^text\//,
  /[/+]json\b/,
  /[/+]xml\b/,
  /[/+]yaml\b/,
  /^application\/(javascript|ecmascript|x-www-form-urlencoded|graphql)\b/,
];

/**
 * Whether API Gateway would hand this body to the function base64-encoded: when the Api
 * lists BinaryMediaTypes, exactly those; when it lists none, every content type that is
 * not text (so an upload never arrives mangled, the way it would without the setting).
 */
export function isBinaryContentType(contentType: string | undefined, api: ApiDefinition): boolean {
  if (!contentType) return false;
  const type = (contentType.split(";")[0] as string).trim().toLowerCase();
  if (api.binaryMediaTypes.length > 0) {
    return api.binaryMediaTypes.some((pattern) => {
      const [wantType, wantSubtype] = pattern.toLowerCase().split("/");
      const [gotType, gotSubtype] = type.split("/");
      return (
        (wantType === "*" || wantType === gotType) &&
        (wantSubtype === "*" || wantSubtype === gotSubtype)
      );
    });
  }
  return !textualTypes.some((pattern) => pattern.test(type));
}

export function buildRestEvent(input: EventInput): APIGatewayProxyEvent {
  const { request, route, api } = input;
  const { rawPath, rawQuery } = splitUrl(request.rawUrl);
  const multiValueHeaders: Record<string, string[]> = {};
  // Lower-cased name to the spelling the event uses (the first one the client sent): one
  // lookup per header, where a scan of the keys made many headers quadratic.
  const spellings = new Map<string, string>();
  const findHeader = (name: string) => spellings.get(name.toLowerCase());
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index] as string;
    const value = request.rawHeaders[index + 1] as string;
    const lower = name.toLowerCase();
    const key = spellings.get(lower);
    if (key === undefined) {
      spellings.set(lower, name);
      multiValueHeaders[name] = [value];
    } else {
      (multiValueHeaders[key] as string[]).push(value);
    }
  }
  const host = multiValueHeaders[findHeader("host") ?? ""]?.[0] ?? "localhost";
  const userAgent = multiValueHeaders[findHeader("user-agent") ?? ""]?.[0] ?? null;
  // Headers API Gateway adds on its way to the integration.
  const added: Record<string, string> = {
    "X-Forwarded-For": request.sourceIp,
    "X-Forwarded-Port": host.includes(":") ? (host.split(":").pop() as string) : "80",
    "X-Forwarded-Proto": "http",
    "X-Amzn-Trace-Id": traceId(input.requestTimeEpoch),
  };
  for (const [name, value] of Object.entries(added)) {
    const existing = findHeader(name);
    if (name === "X-Forwarded-For" && existing) {
      const list = multiValueHeaders[existing] as string[];
      list[list.length - 1] = `${list[list.length - 1]}, ${value}`;
    } else if (!existing) {
      spellings.set(name.toLowerCase(), name);
      multiValueHeaders[name] = [value];
    }
  }

  const multiValueQueryStringParameters = multiValueQuery(rawQuery);
  const contentType = multiValueHeaders[findHeader("content-type") ?? ""]?.[0];
  const hasBody = request.body.length > 0;
  const isBase64Encoded = hasBody && isBinaryContentType(contentType, api);
  const path = decodeComponent(rawPath);

  return {
    resource: route.resourcePath,
    path,
    httpMethod: request.method,
    headers: lastValues(multiValueHeaders) ?? {},
    multiValueHeaders,
    queryStringParameters: lastValues(multiValueQueryStringParameters),
    multiValueQueryStringParameters,
    pathParameters: input.pathParameters,
    stageVariables: api.stageVariables ?? null,
    requestContext: {
      resourceId: route.resourceId,
      resourcePath: route.resourcePath,
      httpMethod: request.method,
      extendedRequestId: random(8).toString("base64url").slice(0, 11).concat("="),
      requestTime: apiGatewayTime(input.requestTimeEpoch),
      // Unlike the top-level path, API Gateway's own path keeps the stage and the encoding.
      path: `/${api.stageName}${rawPath}`,
      accountId: localAccountId,
      protocol: `HTTP/${request.httpVersion}`,
      stage: api.stageName,
      domainPrefix: host.split(".")[0]?.split(":")[0] ?? host,
      requestTimeEpoch: input.requestTimeEpoch,
      requestId: input.requestId,
      identity: {
        cognitoIdentityPoolId: null,
        accountId: null,
        cognitoIdentityId: null,
        caller: null,
        sourceIp: request.sourceIp,
        principalOrgId: null,
        accessKey: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: null,
        userAgent,
        user: null,
        apiKey: null,
        apiKeyId: null,
        clientCert: null,
      },
      domainName: host,
      apiId: api.restApiId,
      authorizer: undefined,
    },
    body: hasBody
      ? isBase64Encoded
        ? request.body.toString("base64")
        : request.body.toString("utf8")
      : null,
    isBase64Encoded,
  };
}
