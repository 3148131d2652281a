// What can go wrong in the Todo rules and their storage, in the domain's words.
// src/http/problem.ts turns each into its HTTP answer.

export class TodoNotFoundError extends Error {
  readonly id: string;
  constructor(id: string) {
    super(`No todo has the id ${id}.`);
    this.name = "TodoNotFoundError";
    this.id = id;
  }
}

export class TodoVersionMismatchError extends Error {
  /** The version the todo has now, so the client learns its current ETag. */
  readonly currentVersion: number;
  constructor(currentVersion: number) {
    super("If-Match names another version of this todo; read it again and retry.");
    this.name = "TodoVersionMismatchError";
    this.currentVersion = currentVersion;
  }
}

export class InvalidPageTokenError extends Error {
  constructor() {
    super("nextToken is not one this API gave for this listing; start again without it.");
    this.name = "InvalidPageTokenError";
  }
}

export class IdempotencyKeyInUseError extends Error {
  constructor() {
    super("A request with this Idempotency-Key is still in progress; retry after it is answered.");
    this.name = "IdempotencyKeyInUseError";
  }
}

export class IdempotencyKeyReusedError extends Error {
  constructor() {
    super("This Idempotency-Key was used with a different body; use a new key for another todo.");
    this.name = "IdempotencyKeyReusedError";
  }
}

/** The store could not be reached, answered too slowly, or throttled us past the retries. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super("The todo store is not answering right now; retry shortly.", { cause });
    this.name = "StoreUnavailableError";
  }
}
