// The Lambda entry point (template.yaml: Handler handler.handler). Everything here runs once
// per instance, at cold start: one DynamoDB client, reused by every request.
import { operations } from "../generated/operations.ts";
import { composeApp } from "./compose.ts";
import { configFromEnvironment } from "./config.ts";
import { createLogger } from "./http/logger.ts";
import type { BearerVerifier } from "./http/sign-in.ts";

const config = configFromEnvironment();
const logger = createLogger(config.logLevel);

// Under `sam local start-api` (AWS_SAM_LOCAL=true) two things differ, both in a second entry
// point of the build (template.yaml's EntryPoints) imported by a computed name that esbuild
// leaves alone, so that the bundle Lambda loads on AWS holds neither it nor jose:
// - no Cognito authorizer runs (the SAM CLI skips them): the function verifies tokens itself;
// - a forgotten --env-vars leaves DDB_ENDPOINT empty, which would reach the AWS profile's real
//   table: then every request is answered 503 naming the fix, and nothing is served.
async function loadSamLocal() {
  // Beside this module and with its extension: .mjs when built, .ts in the sources.
  const extension = import.meta.url.slice(import.meta.url.lastIndexOf("."));
  const specifier = new URL(`http/sam-local-sign-in${extension}`, import.meta.url).href;
  return (await import(specifier)) as typeof import("./http/sam-local-sign-in.ts");
}

function samLocalVerifier(
  samLocal: Awaited<ReturnType<typeof loadSamLocal>>,
  refusal: string | undefined,
): BearerVerifier {
  if (refusal) return samLocal.refuseEveryRequest(refusal);
  return samLocal.createBearerVerifier({
    ...samLocal.samLocalIssuerFrom(process.env),
    // Any of the API's scopes, as the template's authorizer; each operation checks its own.
    scopes: [...new Set(operations.flatMap((operation) => operation.scopes))],
    onRefusal: (reason) => logger.warn("sign-in refused", { reason }),
  });
}

const samLocal = config.samLocal ? await loadSamLocal() : undefined;
const refusal = samLocal?.samLocalRefusal(process.env);
if (refusal) logger.error("refusing every request", { reason: refusal });

export const { handler } = composeApp({
  dynamoDb: { endpoint: config.ddbEndpoint, region: config.region },
  tableName: config.tableName,
  pageTokenKey: config.pageTokenKey,
  logger,
  allowedOrigins: config.allowedOrigins,
  verifyBearer: samLocal && samLocalVerifier(samLocal, refusal),
});
