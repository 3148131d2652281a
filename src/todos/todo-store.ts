// Storage behind an interface: the rules (todo-service.ts) never see DynamoDB.
import type { StoredTodo, TodoPatch, TodoStatus, VersionCondition } from "./todo.ts";

/** Where a listing stopped: the last todo returned, in the listing's own order. */
export interface PagePosition {
  id: string;
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

export interface TodoStore {
  /** Writes a new todo; never overwrites one. */
  create(owner: string, todo: StoredTodo): Promise<void>;
  get(owner: string, id: string): Promise<StoredTodo | undefined>;
  /**
   * Applies the patch to an existing todo and bumps its version, in one conditional write.
   * Throws TodoNotFoundError, or TodoVersionMismatchError when the stored version does not
   * meet `condition`.
   */
  update(
    owner: string,
    id: string,
    patch: TodoPatch,
    updatedAt: string,
    condition: VersionCondition,
  ): Promise<StoredTodo>;
  /** Same errors as update. */
  delete(owner: string, id: string, condition: VersionCondition): Promise<void>;
  /** Newest first. */
  list(owner: string, options: ListOptions): Promise<TodoPage>;
}
