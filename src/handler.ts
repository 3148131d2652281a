// The Lambda entry point (template.yaml: Handler handler.handler). Everything here runs once
// per instance, at cold start: one DynamoDB client, reused by every request.
import { composeApp } from "./compose.ts";
import { configFromEnvironment } from "./config.ts";
import { createLogger } from "./http/logger.ts";
import { HttpProblem, plainProblem, retryAfterSeconds } from "./http/problem.ts";

const config = configFromEnvironment();

const logger = createLogger(config.logLevel);
const { handler: app } = composeApp({
  dynamoDb: { endpoint: config.ddbEndpoint, region: config.region },
  tableName: config.tableName,
  pageTokenKey: config.pageTokenKey,
  logger,
  allowedOrigins: config.allowedOrigins,
});
if (config.refusal) logger.error("refusing every request", { reason: config.refusal });

// A refused configuration answers every request 503 through the app's own error path (problem
// +json, security headers, CORS, the request log), its detail naming the fix.
export const handler = config.refusal
  ? app.use({
      before: () => {
        throw new HttpProblem(
          { ...plainProblem(503, config.refusal as string), type: "/problems/service-unavailable" },
          { "Retry-After": String(retryAfterSeconds) },
        );
      },
    })
  : app;
