// Everything the Lambda reads from its environment (template.yaml declares each variable).
export interface Config {
  tableName: string;
  /** DynamoDB Local or the embedded store; unset talks to AWS. */
  ddbEndpoint: string | undefined;
  region: string | undefined;
  allowedOrigins: string[];
  /** Signs nextTokens. Falls back to a per-table key: tokens are integrity-checked either way. */
  pageTokenKey: string;
  logLevel: string | undefined;
  /**
   * Why the function must answer no request, naming the fix: under the SAM CLI
   * (AWS_SAM_LOCAL=true) an empty DDB_ENDPOINT would reach the real table of whatever AWS
   * profile the user has, so it is refused unless USE_AWS_DYNAMODB=true says that is meant.
   */
  refusal: string | undefined;
  /**
   * Under `sam local start-api` (the SAM CLI sets AWS_SAM_LOCAL=true in its containers; Lambda
   * on AWS never does): no authorizer runs there, so the function verifies tokens itself.
   */
  samLocal: boolean;
}

const localRunWithoutEndpoint =
  "DDB_ENDPOINT is empty under the SAM CLI, so this function would use the real DynamoDB table " +
  "of your AWS profile. Start it with `--env-vars env_local.json` (DDB_ENDPOINT pointing at " +
  "a local DynamoDB), or set USE_AWS_DYNAMODB=true to use AWS on purpose.";

export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): Config {
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new Error("TABLE_NAME is not set");
  const ddbEndpoint = env.DDB_ENDPOINT || undefined;
  const refuse = env.AWS_SAM_LOCAL === "true" && !ddbEndpoint && env.USE_AWS_DYNAMODB !== "true";
  return {
    tableName,
    ddbEndpoint,
    region: env.AWS_REGION,
    allowedOrigins: (env.ALLOWED_ORIGINS ?? "")
      .split(",")
      .map((origin) => origin.trim())
      .filter(Boolean),
    pageTokenKey: env.PAGE_TOKEN_KEY || `todo-api:${tableName}`,
    logLevel: env.LOG_LEVEL,
    refusal: refuse ? localRunWithoutEndpoint : undefined,
    samLocal: env.AWS_SAM_LOCAL === "true",
  };
}
