// The Todo operations as the API offers them: create (with idempotent retries), read, partial
// update, delete and paged listing. HTTP lives in src/http, storage behind TodoStore.
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  IdempotencyKeyInUseError,
  IdempotencyKeyReusedError,
  TodoNotFoundError,
} from "./errors.ts";
import type { PageTokenCodec } from "./page-token.ts";
import {
  newStoredTodo,
  normalizeNewTodo,
  type StoredTodo,
  type TodoCreate,
  type TodoPatch,
  type TodoStatus,
  type VersionCondition,
} from "./todo.ts";
import type { IdempotencyRecord, TodoStore, WriteCondition } from "./todo-store.ts";

export const defaultPageSize = 20;

export interface IdempotencyTimings {
  /** How long a key is remembered (the IETF draft's suggestion: 24 hours). */
  keyLifetimeMs: number;
  /** How long a duplicate waits for the first request to finish before answering 409. */
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

export interface CreateResult {
  todo: StoredTodo;
  /** True when this answers a retry of an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

export interface ListRequest {
  limit?: number | undefined;
  status?: TodoStatus | undefined;
  nextToken?: string | undefined;
}

export interface ListResult {
  items: StoredTodo[];
  nextToken?: string;
}

export class TodoService {
  readonly #store: TodoStore;
  readonly #pageTokens: PageTokenCodec;
  readonly #now: () => Date;
  readonly #timings: IdempotencyTimings;

  constructor(
    store: TodoStore,
    pageTokens: PageTokenCodec,
    options: { now?: () => Date; idempotency?: Partial<IdempotencyTimings> } = {},
  ) {
    this.#store = store;
    this.#pageTokens = pageTokens;
    this.#now = options.now ?? (() => new Date());
    this.#timings = { ...defaultTimings, ...options.idempotency };
  }

  /**
   * `deadline` (epoch ms) is when the caller's own time runs out, such as the end of the Lambda
   * invocation: a retry that finds this request's claim unfinished after it may take over.
   */
  async create(
    owner: string,
    input: TodoCreate,
    idempotencyKey?: string,
    deadline?: number,
  ): Promise<CreateResult> {
    const todo = newStoredTodo(input, this.#now());
    if (idempotencyKey === undefined) {
      await this.#store.create(owner, todo);
      return { todo, replayed: false };
    }
    return this.#createOnce(owner, input, idempotencyKey, todo, deadline);
  }

  async get(owner: string, id: string): Promise<StoredTodo> {
    const todo = await this.#store.get(owner, id);
    if (!todo) throw new TodoNotFoundError(id);
    return todo;
  }

  update(
    owner: string,
    id: string,
    patch: TodoPatch,
    ifMatch?: VersionCondition,
  ): Promise<StoredTodo> {
    return this.#store.update(owner, id, patch, this.#now().toISOString(), writeCondition(ifMatch));
  }

  delete(owner: string, id: string, ifMatch?: VersionCondition): Promise<void> {
    return this.#store.delete(owner, id, writeCondition(ifMatch));
  }

  async list(owner: string, request: ListRequest): Promise<ListResult> {
    const { status, nextToken } = request;
    const after = nextToken ? this.#pageTokens.decode(owner, nextToken, status) : undefined;
    const page = await this.#store.list(owner, {
      limit: request.limit ?? defaultPageSize,
      ...(status ? { status } : {}),
      ...(after ? { after } : {}),
    });
    return page.next
      ? { items: page.items, nextToken: this.#pageTokens.encode(owner, page.next) }
      : { items: page.items };
  }

  // Claim the key (a conditional write), create the todo, then mark the claim completed.
  // A retry finds the claim: same body → the first answer again; other body → 422;
  // first still running → wait a little, then 409.
  async #createOnce(
    owner: string,
    input: TodoCreate,
    key: string,
    todo: StoredTodo,
    deadline: number | undefined,
  ): Promise<CreateResult> {
    const fingerprint = fingerprintOf(input);
    const now = this.#now().getTime();
    const claim: IdempotencyRecord = {
      key,
      fingerprint,
      todo,
      state: "in_progress",
      claimedAt: now,
      leaseExpiresAt: deadline ?? now + this.#timings.defaultLeaseMs,
      expiresAt: now + this.#timings.keyLifetimeMs,
    };
    if (await this.#store.claimIdempotencyKey(owner, claim, now)) {
      return { todo: await this.#createClaimed(owner, claim), replayed: false };
    }

    const waitUntil = now + this.#timings.inFlightWaitMs;
    for (;;) {
      const existing = await this.#store.getIdempotencyRecord(owner, key);
      const checkedAt = this.#now().getTime();
      if (!existing || existing.expiresAt <= checkedAt) {
        // Expired between our claim and this read: start afresh (bounded by the lifetime).
        return this.#createOnce(owner, input, key, todo, deadline);
      }
      if (existing.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError();
      if (existing.state === "completed") return { todo: existing.todo, replayed: true };
      if (checkedAt > existing.leaseExpiresAt) {
        return this.#takeOverAbandoned(owner, existing, claim);
      }
      if (checkedAt >= waitUntil) throw new IdempotencyKeyInUseError();
      await sleep(25);
    }
  }

  async #createClaimed(owner: string, claim: IdempotencyRecord): Promise<StoredTodo> {
    try {
      await this.#store.create(owner, claim.todo);
    } catch (error) {
      // Nothing was created: free the key so that the client's retry is not told 409.
      await this.#store.releaseIdempotencyKey(owner, claim.key, claim.claimedAt).catch(() => {});
      throw error;
    }
    await this.#store.completeIdempotencyKey(owner, claim.key);
    return claim.todo;
  }

  async #takeOverAbandoned(
    owner: string,
    abandoned: IdempotencyRecord,
    fresh: IdempotencyRecord,
  ): Promise<CreateResult> {
    // The first request may have died after writing its todo: then that todo is the answer.
    if (await this.#store.get(owner, abandoned.todo.id)) {
      await this.#store.completeIdempotencyKey(owner, abandoned.key);
      return { todo: abandoned.todo, replayed: true };
    }
    if (!(await this.#store.reclaimIdempotencyKey(owner, abandoned, fresh))) {
      throw new IdempotencyKeyInUseError();
    }
    return { todo: await this.#createClaimed(owner, fresh), replayed: false };
  }
}

function writeCondition(ifMatch: VersionCondition | undefined): WriteCondition {
  return ifMatch === undefined || ifMatch === "any" ? {} : { versions: ifMatch };
}

export function fingerprintOf(input: TodoCreate): string {
  return createHash("sha256")
    .update(JSON.stringify(normalizeNewTodo(input)))
    .digest("base64url");
}
