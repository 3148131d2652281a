// Storage behind an interface: the rules (todo-service.ts) never see DynamoDB.
import type { StoredTodo, TodoPatch, TodoStatus } from "./todo.ts";

/** Where a listing stopped: the last todo returned, in the listing's own order. */
export interface PagePosition {
  id: string;
  status?: TodoStatus;
}

export interface TodoPage {
  items: StoredTodo[];
  /** Absent on the last page. */
  next?: PagePosition;
}

export interface ListOptions {
  limit: number;
  status?: TodoStatus;
  after?: PagePosition;
}

export interface WriteCondition {
  /** When set, the write happens only if the stored version is one of these. */
  versions?: number[];
}

/** What the store remembers of a POST made with an Idempotency-Key. */
export interface IdempotencyRecord {
  key: string;
  /** Hash of the normalized request body: a retry must send the same todo. */
  fingerprint: string;
  /** The todo the first request creates, fixed before it is written, so a replay answers the same. */
  todo: StoredTodo;
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

export interface TodoStore {
  /** Writes a new todo; never overwrites one. */
  create(owner: string, todo: StoredTodo): Promise<void>;
  get(owner: string, id: string): Promise<StoredTodo | undefined>;
  /**
   * Applies the patch to an existing todo and bumps its version, in one conditional write.
   * Throws TodoNotFoundError, or TodoVersionMismatchError when `condition.versions` is stale.
   */
  update(
    owner: string,
    id: string,
    patch: TodoPatch,
    updatedAt: string,
    condition: WriteCondition,
  ): Promise<StoredTodo>;
  /** Same errors as update. */
  delete(owner: string, id: string, condition: WriteCondition): Promise<void>;
  /** Newest first. */
  list(owner: string, options: ListOptions): Promise<TodoPage>;

  /** Stores the record unless a live one exists for the key; returns false when one does. */
  claimIdempotencyKey(owner: string, record: IdempotencyRecord, now: number): Promise<boolean>;
  getIdempotencyRecord(owner: string, key: string): Promise<IdempotencyRecord | undefined>;
  completeIdempotencyKey(owner: string, key: string): Promise<void>;
  /** Takes over a claim whose first request died, if it is still the one we saw. */
  reclaimIdempotencyKey(
    owner: string,
    stale: IdempotencyRecord,
    fresh: IdempotencyRecord,
  ): Promise<boolean>;
  /** Forgets an in-progress claim whose todo could not be written, so the client can retry. */
  releaseIdempotencyKey(owner: string, key: string, claimedAt: number): Promise<void>;
}
