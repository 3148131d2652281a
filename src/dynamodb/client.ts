// One DocumentClient per Lambda instance, created at load and reused by every request.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export interface DynamoDbClientOptions {
  /** A local DynamoDB (dynalite, DynamoDB Local); undefined talks to AWS. */
  endpoint?: string | undefined;
  region?: string | undefined;
  /** Milliseconds to open a connection; the SDK's default waits forever. */
  connectionTimeoutMs?: number;
  /** Milliseconds to wait for an answer once connected; the SDK's default waits forever. */
  requestTimeoutMs?: number;
  maxAttempts?: number;
}

// With 3 attempts of at most ~1.5 s each plus the SDK's backoff, a dead or hanging database is
// answered 503 in about 5 s, well inside the function's 10 s Timeout (template.yaml).
const defaults = { connectionTimeoutMs: 500, requestTimeoutMs: 1000, maxAttempts: 3 };

export function createDocumentClient(options: DynamoDbClientOptions): DynamoDBDocumentClient {
  const { endpoint, region, connectionTimeoutMs, requestTimeoutMs, maxAttempts } = {
    ...defaults,
    ...options,
  };
  const client = new DynamoDBClient({
    endpoint,
    region: region ?? "us-east-1",
    maxAttempts,
    requestHandler: {
      connectionTimeout: connectionTimeoutMs,
      requestTimeout: requestTimeoutMs,
      // Without it the handler only logs a warning when requestTimeout passes, and a hanging
      // database holds the request until the Lambda itself times out.
      throwOnRequestTimeout: true,
    },
    // A local endpoint needs no real credentials; never let the SDK hunt for them there.
    ...(endpoint && !process.env.AWS_ACCESS_KEY_ID
      ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}
