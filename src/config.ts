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
   * Under `sam local start-api` (the SAM CLI sets AWS_SAM_LOCAL=true in its containers; Lambda
   * on AWS never does): no authorizer runs there, so the function verifies tokens itself.
   */
  samLocal: boolean;
}

export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): Config {
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new Error("TABLE_NAME is not set");
  return {
    tableName,
    ddbEndpoint: env.DDB_ENDPOINT || undefined,
    region: env.AWS_REGION,
    allowedOrigins: (env.ALLOWED_ORIGINS ?? "")
      .split(",")
      .map((origin) => origin.trim())
      .filter(Boolean),
    pageTokenKey: env.PAGE_TOKEN_KEY || `todo-api:${tableName}`,
    logLevel: env.LOG_LEVEL,
    samLocal: env.AWS_SAM_LOCAL === "true",
  };
}
