// Where the Idempotency-Key protocol (idempotency.ts) keeps its records: behind an interface,
// as Powertools keeps its persistence layer apart from the handler that uses it.

/** What is remembered of one request made with an idempotency key. */
export interface IdempotencyRecord<Result> {
  key: string;
  /** Hash of the normalized request: a retry must send the same. */
  fingerprint: string;
  /** The answer, fixed before the work is done, so that a replay answers the same. */
  result: Result;
  state: "in_progress" | "completed";
  /** Epoch milliseconds. */
  claimedAt: number;
  /**
   * Epoch milliseconds when the request that holds the claim is over for sure (its Lambda
   * invocation's deadline): a claim still in progress after that was abandoned.
   */
  leaseExpiresAt: number;
  /** Epoch milliseconds after which the key may be used afresh. */
  expiresAt: number;
}

/** Records per owner: one owner's key never meets another's. */
export interface IdempotencyStore<Result> {
  /** Stores the record unless one exists for the key that has not expired by `record.claimedAt`; false when one has. */
  claim(owner: string, record: IdempotencyRecord<Result>): Promise<boolean>;
  get(owner: string, key: string): Promise<IdempotencyRecord<Result> | undefined>;
  complete(owner: string, key: string): Promise<void>;
  /** Takes over a claim whose first request died, if it is still the one we saw. */
  reclaim(
    owner: string,
    stale: IdempotencyRecord<Result>,
    fresh: IdempotencyRecord<Result>,
  ): Promise<boolean>;
  /** Forgets an in-progress claim whose work could not be done, so the client can retry. */
  release(owner: string, key: string, claimedAt: number): Promise<void>;
}
