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
  /** Only under `sam local start-api`: the local issuer whose tokens the function verifies. */
  samLocalSignIn: SamLocalIssuer | undefined;
}

export interface SamLocalIssuer {
  issuer: string;
  jwksUrl: string;
  clientIds: string[];
}

const list = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

// The SAM CLI sets AWS_SAM_LOCAL=true in its containers; Lambda on AWS never does. Without an
// issuer to verify against, the function refuses to start rather than take unverified tokens.
function samLocalIssuerFrom(env: NodeJS.ProcessEnv): SamLocalIssuer | undefined {
  if (env.AWS_SAM_LOCAL !== "true") return undefined;
  const issuer = env.LOCAL_ISSUER_URL?.replace(/\/+$/, "");
  const clientIds = list(env.LOCAL_CLIENT_IDS);
  if (!issuer || clientIds.length === 0) {
    throw new Error(
      "Under sam local start-api the function verifies tokens itself: set LOCAL_ISSUER_URL and LOCAL_CLIENT_IDS (env_local.json)",
    );
  }
  return {
    issuer,
    jwksUrl: env.LOCAL_JWKS_URL || `${issuer}/.well-known/jwks.json`,
    clientIds,
  };
}

export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): Config {
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new Error("TABLE_NAME is not set");
  return {
    tableName,
    ddbEndpoint: env.DDB_ENDPOINT || undefined,
    region: env.AWS_REGION,
    allowedOrigins: list(env.ALLOWED_ORIGINS),
    pageTokenKey: env.PAGE_TOKEN_KEY || `todo-api:${tableName}`,
    logLevel: env.LOG_LEVEL,
    samLocalSignIn: samLocalIssuerFrom(env),
  };
}
