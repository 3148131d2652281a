// The Idempotency-Key protocol (draft-ietf-httpapi-idempotency-key-header): a request made
// again with the same key answers what the first one did, and does its work once.
// Claim the key (a conditional write) with the answer already fixed, do the work, then mark
// the claim completed. A retry finds the claim: same request → the first answer again; another
// request → IdempotencyKeyReusedError; first still running → wait a little, then
// IdempotencyKeyInUseError; first dead (its lease is over) → finish or redo its work.
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { IdempotencyKeyInUseError, IdempotencyKeyReusedError } from "./errors.ts";
import type { IdempotencyRecord, IdempotencyStore } from "./idempotency-store.ts";

export interface IdempotencyTimings {
  /** How long a key is remembered (the IETF draft's suggestion: 24 hours). */
  keyLifetimeMs: number;
  /** How long a duplicate waits for the first request to finish before it is refused as in use. */
  inFlightWaitMs: number;
  /**
   * How long a claim holds when the caller gives no deadline of its own (the Lambda passes the
   * end of its invocation): after it, an unfinished first request is taken as dead.
   */
  defaultLeaseMs: number;
}

const defaultTimings: IdempotencyTimings = {
  keyLifetimeMs: 24 * 60 * 60 * 1000,
  inFlightWaitMs: 2000,
  defaultLeaseMs: 30_000,
};

/** The work made idempotent, in the steps the protocol needs. */
export interface IdempotentWork<Input, Result> {
  /** Two inputs that mean the same request have the same fingerprint (see fingerprintOf). */
  fingerprint(input: Input): string;
  /** The answer, fixed before anything is written. */
  prepare(input: Input): Result;
  perform(owner: string, result: Result): Promise<void>;
  /** Whether the work for this answer was done (by a first attempt that died after it). */
  wasPerformed(owner: string, result: Result): Promise<boolean>;
}

export interface IdempotentAnswer<Result> {
  result: Result;
  /** True when this answers a retry of an earlier request with the same key. */
  replayed: boolean;
}

/** A stable hash of a JSON value: equal values give equal fingerprints. */
export function fingerprintOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("base64url");
}

export class Idempotency<Input, Result> {
  readonly #store: IdempotencyStore<Result>;
  readonly #work: IdempotentWork<Input, Result>;
  readonly #timings: IdempotencyTimings;
  readonly #now: () => number;

  constructor(
    store: IdempotencyStore<Result>,
    work: IdempotentWork<Input, Result>,
    options: { timings?: Partial<IdempotencyTimings> | undefined; now?: () => number } = {},
  ) {
    this.#store = store;
    this.#work = work;
    this.#timings = { ...defaultTimings, ...options.timings };
    this.#now = options.now ?? Date.now;
  }

  /**
   * `deadline` (epoch ms) is when the caller's own time runs out, such as the end of the Lambda
   * invocation: a retry that finds this request's claim unfinished after it may take over.
   */
  run(
    owner: string,
    key: string,
    input: Input,
    deadline?: number,
  ): Promise<IdempotentAnswer<Result>> {
    return this.#runOnce(owner, key, input, this.#work.prepare(input), deadline);
  }

  async #runOnce(
    owner: string,
    key: string,
    input: Input,
    result: Result,
    deadline: number | undefined,
  ): Promise<IdempotentAnswer<Result>> {
    const fingerprint = this.#work.fingerprint(input);
    const now = this.#now();
    const claim: IdempotencyRecord<Result> = {
      key,
      fingerprint,
      result,
      state: "in_progress",
      claimedAt: now,
      leaseExpiresAt: deadline ?? now + this.#timings.defaultLeaseMs,
      expiresAt: now + this.#timings.keyLifetimeMs,
    };
    if (await this.#store.claim(owner, claim)) {
      return { result: await this.#performClaimed(owner, claim), replayed: false };
    }

    const waitUntil = now + this.#timings.inFlightWaitMs;
    for (;;) {
      const existing = await this.#store.get(owner, key);
      const checkedAt = this.#now();
      if (!existing || existing.expiresAt <= checkedAt) {
        // Expired between our claim and this read: start afresh (bounded by the lifetime).
        return this.#runOnce(owner, key, input, result, deadline);
      }
      if (existing.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError();
      if (existing.state === "completed") return { result: existing.result, replayed: true };
      if (checkedAt > existing.leaseExpiresAt) {
        return this.#takeOverAbandoned(owner, existing, claim);
      }
      if (checkedAt >= waitUntil) throw new IdempotencyKeyInUseError();
      await sleep(25);
    }
  }

  async #performClaimed(owner: string, claim: IdempotencyRecord<Result>): Promise<Result> {
    try {
      await this.#work.perform(owner, claim.result);
    } catch (error) {
      // Nothing was done: free the key so that the client's retry is not refused as in use.
      await this.#store.release(owner, claim.key, claim.claimedAt).catch(() => {});
      throw error;
    }
    await this.#store.complete(owner, claim.key);
    return claim.result;
  }

  async #takeOverAbandoned(
    owner: string,
    abandoned: IdempotencyRecord<Result>,
    fresh: IdempotencyRecord<Result>,
  ): Promise<IdempotentAnswer<Result>> {
    // The first request may have died after doing its work: then its answer is the answer.
    if (await this.#work.wasPerformed(owner, abandoned.result)) {
      await this.#store.complete(owner, abandoned.key);
      return { result: abandoned.result, replayed: true };
    }
    if (!(await this.#store.reclaim(owner, abandoned, fresh))) {
      throw new IdempotencyKeyInUseError();
    }
    return { result: await this.#performClaimed(owner, fresh), replayed: false };
  }
}
