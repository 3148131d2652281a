// The Todo operations as the API offers them: create, read, partial update, delete and paged
// listing. HTTP lives in src/http, storage behind TodoStore; retries with an idempotency key
// go through src/idempotency, which todoCreation below tells how a todo is created.
import {
  fingerprintOf as fingerprintOfValue,
  type IdempotentWork,
} from "../idempotency/idempotency.ts";
import { TodoNotFoundError } from "./errors.ts";
import type { PageTokenCodec } from "./page-token.ts";
import {
  anyVersion,
  newStoredTodo,
  normalizeNewTodo,
  type StoredTodo,
  type TodoCreate,
  type TodoPatch,
  type TodoStatus,
  type VersionCondition,
} from "./todo.ts";
import type { TodoStore } from "./todo-store.ts";

export interface ListRequest {
  limit: number;
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

  constructor(store: TodoStore, pageTokens: PageTokenCodec, options: { now?: () => Date } = {}) {
    this.#store = store;
    this.#pageTokens = pageTokens;
    this.#now = options.now ?? (() => new Date());
  }

  /** The todo that creating `input` writes, with its id and timestamps fixed now. */
  prepare(input: TodoCreate): StoredTodo {
    return newStoredTodo(input, this.#now());
  }

  /** Writes a prepared todo. */
  async insert(owner: string, todo: StoredTodo): Promise<StoredTodo> {
    await this.#store.create(owner, todo);
    return todo;
  }

  create(owner: string, input: TodoCreate): Promise<StoredTodo> {
    return this.insert(owner, this.prepare(input));
  }

  find(owner: string, id: string): Promise<StoredTodo | undefined> {
    return this.#store.get(owner, id);
  }

  async get(owner: string, id: string): Promise<StoredTodo> {
    const todo = await this.find(owner, id);
    if (!todo) throw new TodoNotFoundError(id);
    return todo;
  }

  update(
    owner: string,
    id: string,
    patch: TodoPatch,
    condition: VersionCondition = anyVersion,
  ): Promise<StoredTodo> {
    return this.#store.update(owner, id, patch, this.#now().toISOString(), condition);
  }

  delete(owner: string, id: string, condition: VersionCondition = anyVersion): Promise<void> {
    return this.#store.delete(owner, id, condition);
  }

  async list(owner: string, { limit, status, nextToken }: ListRequest): Promise<ListResult> {
    const after = nextToken ? this.#pageTokens.decode(owner, nextToken, status) : undefined;
    const page = await this.#store.list(owner, {
      limit,
      ...(status ? { status } : {}),
      ...(after ? { after: { id: after.id } } : {}),
    });
    return page.next
      ? {
          items: page.items,
          nextToken: this.#pageTokens.encode(owner, {
            ...page.next,
            ...(status ? { status } : {}),
          }),
        }
      : { items: page.items };
  }
}

/** Two bodies that mean the same todo (defaults written out or not) fingerprint alike. */
export function fingerprintOf(input: TodoCreate): string {
  return fingerprintOfValue(normalizeNewTodo(input));
}

/** Creating a todo, in the steps the idempotency protocol takes. */
export function todoCreation(todos: TodoService): IdempotentWork<TodoCreate, StoredTodo> {
  return {
    fingerprint: fingerprintOf,
    prepare: (input) => todos.prepare(input),
    perform: async (owner, todo) => {
      await todos.insert(owner, todo);
    },
    wasPerformed: async (owner, todo) => (await todos.find(owner, todo.id)) !== undefined,
  };
}
