// What every DynamoDB-backed store does with a request's failure: a database that cannot
// answer becomes StoreUnavailableError (the client may retry), and a failed condition is told
// apart from every other error.
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";

/** The store could not be reached, answered too slowly, or throttled us past the retries. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super("The store is not answering right now.", { cause });
    this.name = "StoreUnavailableError";
  }
}

const unavailableErrorNames = new Set([
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);

/** True for failures the client can only wait out: network, timeouts, throttling, 5xx. */
function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (unavailableErrorNames.has(error.name)) return true;
  if (status !== undefined) return status >= 500;
  // No HTTP answer at all: refused, reset, or cut off.
  return typeof (error as { code?: unknown }).code === "string" || error.name === "AbortError";
}

export function conditionFailed(error: unknown): error is ConditionalCheckFailedException {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === "ConditionalCheckFailedException")
  );
}

/** Sends the request; a database that cannot answer becomes StoreUnavailableError. */
export async function guarded<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (isUnavailable(error)) throw new StoreUnavailableError(error);
    throw error;
  }
}
