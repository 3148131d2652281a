// What the idempotency protocol refuses, in its own words; src/http/problem.ts turns each
// into its HTTP answer.

export class IdempotencyKeyInUseError extends Error {
  constructor() {
    super("A request with this idempotency key is still in progress.");
    this.name = "IdempotencyKeyInUseError";
  }
}

export class IdempotencyKeyReusedError extends Error {
  constructor() {
    super("This idempotency key was used for a different request.");
    this.name = "IdempotencyKeyReusedError";
  }
}
