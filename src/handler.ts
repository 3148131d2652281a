// The Lambda entry point (template.yaml: Handler handler.handler). Everything here runs once
// per instance, at cold start: one DynamoDB client, reused by every request.
import { composeApp } from "./compose.ts";
import { configFromEnvironment } from "./config.ts";
import { createLogger } from "./http/logger.ts";

const config = configFromEnvironment();

export const { handler } = composeApp({
  dynamoDb: { endpoint: config.ddbEndpoint, region: config.region },
  tableName: config.tableName,
  pageTokenKey: config.pageTokenKey,
  logger: createLogger(config.logLevel),
  allowedOrigins: config.allowedOrigins,
});
