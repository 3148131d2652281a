// The Lambda entry point (template.yaml: Handler handler.handler). Everything here runs once
// per instance, at cold start: one DynamoDB client, reused by every request.
import { operations } from "../generated/operations.ts";
import { composeApp } from "./compose.ts";
import { configFromEnvironment } from "./config.ts";
import { createLogger, type Logger } from "./http/logger.ts";
import type { BearerVerifier } from "./http/sign-in.ts";

const config = configFromEnvironment();
const logger = createLogger(config.logLevel);

// Under `sam local start-api` no Cognito authorizer runs (the SAM CLI skips them), so there the
// function verifies the bearer token itself. That code and jose are a second entry point of the
// build (template.yaml's EntryPoints), imported by a computed name that esbuild leaves alone:
// on AWS, where API Gateway has verified the token, the bundle holds neither.
async function samLocalVerifier(log: Logger): Promise<BearerVerifier> {
  // Beside this module and with its extension: .mjs when built, .ts in the sources.
  const { pathname } = new URL(import.meta.url);
  const extension = pathname.slice(pathname.lastIndexOf("."));
  const specifier = new URL(`http/sam-local-sign-in${extension}`, import.meta.url).href;
  const { createBearerVerifier, samLocalIssuerFrom } = (await import(
    specifier
  )) as typeof import("./http/sam-local-sign-in.ts");
  return createBearerVerifier({
    ...samLocalIssuerFrom(process.env),
    // Any of the API's scopes, as the template's authorizer; each operation checks its own.
    scopes: [...new Set(operations.flatMap((operation) => operation.scopes))],
    onRefusal: (reason) => log.warn("sign-in refused", { reason }),
  });
}

// A refused configuration (Config.refusal) answers every request 503 through the app's own error
// path (problem+json, security headers, CORS, the request log), its detail naming the fix; it
// needs no verifier, since nothing is served.
if (config.refusal) logger.error("refusing every request", { reason: config.refusal });
export const { handler } = composeApp({
  dynamoDb: { endpoint: config.ddbEndpoint, region: config.region },
  tableName: config.tableName,
  pageTokenKey: config.pageTokenKey,
  logger,
  allowedOrigins: config.allowedOrigins,
  verifyBearer: config.samLocal && !config.refusal ? await samLocalVerifier(logger) : undefined,
  refusal: config.refusal,
});
