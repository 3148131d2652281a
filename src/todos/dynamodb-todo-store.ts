// The TodoStore on DynamoDB: one table (template.yaml), partition key `owner`, sort key the
// time-ordered `id`, and the index `byStatus` (owner, `status#id`) for the status filter.
// Every operation is one request on its success path: conditional writes with ReturnValues,
// never a read before a write. Attribute names always go through ExpressionAttributeNames
// (`status` and `owner` are reserved words) and values through ExpressionAttributeValues.
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { StoreUnavailableError, TodoNotFoundError, TodoVersionMismatchError } from "./errors.ts";
import type { StoredTodo, TodoPatch, TodoStatus } from "./todo.ts";
import type {
  IdempotencyRecord,
  ListOptions,
  TodoPage,
  TodoStore,
  WriteCondition,
} from "./todo-store.ts";

const statusIndex = "byStatus";

interface TodoItem {
  owner: string;
  id: string;
  statusId: string;
  title: string;
  description?: string;
  status: TodoStatus;
  created_at: string;
  updated_at: string;
  version: number;
}

interface IdempotencyItem {
  owner: string;
  id: string;
  fingerprint: string;
  todo: StoredTodo;
  state: IdempotencyRecord["state"];
  claimedAt: number;
  leaseExpiresAt: number;
  /** Epoch seconds, the unit of DynamoDB's TTL, which may delete the item (late) after it. */
  expiresAt: number;
}

const statusIdOf = (status: TodoStatus, id: string) => `${status}#${id}`;
// Idempotency records live in a partition of their own per owner, so listings never see them.
const idempotencyPartitionOf = (owner: string) => `idempotency#${owner}`;

function toItem(owner: string, todo: StoredTodo): TodoItem {
  const { description, ...rest } = todo;
  return {
    owner,
    statusId: statusIdOf(todo.status, todo.id),
    ...rest,
    // A cleared description is no attribute at all, as an update's REMOVE leaves it.
    ...(description === null ? {} : { description }),
  };
}

function fromItem(item: Record<string, unknown>): StoredTodo {
  const todo = item as unknown as TodoItem;
  return {
    id: todo.id,
    title: todo.title,
    description: todo.description ?? null,
    status: todo.status,
    created_at: todo.created_at,
    updated_at: todo.updated_at,
    version: todo.version,
  };
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

function conditionFailed(error: unknown): error is ConditionalCheckFailedException {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === "ConditionalCheckFailedException")
  );
}

export class DynamoDbTodoStore implements TodoStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async create(owner: string, todo: StoredTodo): Promise<void> {
    try {
      await this.#putNew(owner, todo);
    } catch (error) {
      // The SDK retries a write whose answer was lost; the retry then meets the write it
      // retries. A todo already there with this fresh UUIDv7 and every field equal is this
      // very write, done; anything else is a real conflict.
      if (!conditionFailed(error)) throw error;
      const stored = await this.get(owner, todo.id);
      const fields = Object.keys(todo) as (keyof StoredTodo)[];
      if (!stored || fields.some((field) => stored[field] !== todo[field])) throw error;
    }
  }

  async #putNew(owner: string, todo: StoredTodo): Promise<void> {
    await this.#guard(() =>
      this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: toItem(owner, todo),
          // Ids are fresh UUIDv7s; the condition makes "never overwrite" a guarantee, not a hope.
          ConditionExpression: "attribute_not_exists(#id)",
          ExpressionAttributeNames: { "#id": "id" },
        }),
      ),
    );
  }

  async get(owner: string, id: string): Promise<StoredTodo | undefined> {
    const { Item } = await this.#guard(() =>
      this.#client.send(
        new GetCommand({ TableName: this.#tableName, Key: { owner, id }, ConsistentRead: true }),
      ),
    );
    return Item ? fromItem(Item) : undefined;
  }

  async update(
    owner: string,
    id: string,
    patch: TodoPatch,
    updatedAt: string,
    condition: WriteCondition,
  ): Promise<StoredTodo> {
    const names: Record<string, string> = {
      "#id": "id",
      "#version": "version",
      "#updated_at": "updated_at",
    };
    const values: Record<string, unknown> = { ":updated_at": updatedAt, ":one": 1 };
    const sets = ["#updated_at = :updated_at", "#version = #version + :one"];
    const removes: string[] = [];
    if (patch.title !== undefined) {
      names["#title"] = "title";
      values[":title"] = patch.title;
      sets.push("#title = :title");
    }
    if (patch.description !== undefined) {
      names["#description"] = "description";
      if (patch.description === null) {
        removes.push("#description");
      } else {
        values[":description"] = patch.description;
        sets.push("#description = :description");
      }
    }
    if (patch.status !== undefined) {
      Object.assign(names, { "#status": "status", "#statusId": "statusId" });
      Object.assign(values, {
        ":status": patch.status,
        ":statusId": statusIdOf(patch.status, id),
      });
      sets.push("#status = :status", "#statusId = :statusId");
    }
    const update = `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`;
    const { Attributes } = await this.#conditionalWrite(owner, id, condition, () =>
      this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: { owner, id },
          UpdateExpression: update,
          ...this.#existsCondition(condition, names, values),
          ReturnValues: "ALL_NEW",
        }),
      ),
    );
    return fromItem(Attributes as Record<string, unknown>);
  }

  async delete(owner: string, id: string, condition: WriteCondition): Promise<void> {
    await this.#conditionalWrite(owner, id, condition, () =>
      this.#client.send(
        new DeleteCommand({
          TableName: this.#tableName,
          Key: { owner, id },
          ...this.#existsCondition(condition, { "#id": "id" }, {}),
        }),
      ),
    );
  }

  async list(owner: string, { limit, status, after }: ListOptions): Promise<TodoPage> {
    const input: QueryCommandInput = {
      TableName: this.#tableName,
      ScanIndexForward: false,
      // One more than asked: when it comes back, there is a next page, and when it does not,
      // the last page ends without a nextToken that would only lead to an empty page.
      Limit: limit + 1,
      ExpressionAttributeNames: { "#owner": "owner" },
      ExpressionAttributeValues: { ":owner": owner },
      KeyConditionExpression: "#owner = :owner",
    };
    if (status) {
      input.IndexName = statusIndex;
      input.KeyConditionExpression = "#owner = :owner AND begins_with(#statusId, :statusPrefix)";
      Object.assign(input.ExpressionAttributeNames as object, { "#statusId": "statusId" });
      Object.assign(input.ExpressionAttributeValues as object, { ":statusPrefix": `${status}#` });
    }
    if (after) {
      input.ExclusiveStartKey = status
        ? { owner, id: after.id, statusId: statusIdOf(status, after.id) }
        : { owner, id: after.id };
    }
    const { Items = [], LastEvaluatedKey } = await this.#guard(() =>
      this.#client.send(new QueryCommand(input)),
    );
    const items = Items.slice(0, limit).map(fromItem);
    const last = items.at(-1);
    // DynamoDB also stops a page at 1 MB read: then LastEvaluatedKey marks the last item read.
    const more = Items.length > limit || LastEvaluatedKey !== undefined;
    return more && last
      ? { items, next: { id: last.id, ...(status ? { status } : {}) } }
      : { items };
  }

  claimIdempotencyKey(owner: string, record: IdempotencyRecord, now: number): Promise<boolean> {
    // An expired record may still be there (TTL deletes late): it no longer counts.
    return this.#putIdempotencyItemIf(owner, record, {
      ConditionExpression: "attribute_not_exists(#id) OR #expiresAt <= :now",
      ExpressionAttributeNames: { "#id": "id", "#expiresAt": "expiresAt" },
      ExpressionAttributeValues: { ":now": Math.floor(now / 1000) },
    });
  }

  async getIdempotencyRecord(owner: string, key: string): Promise<IdempotencyRecord | undefined> {
    const { Item } = await this.#guard(() =>
      this.#client.send(
        new GetCommand({
          TableName: this.#tableName,
          Key: { owner: idempotencyPartitionOf(owner), id: key },
          ConsistentRead: true,
        }),
      ),
    );
    if (!Item) return undefined;
    const item = Item as IdempotencyItem;
    return {
      key: item.id,
      fingerprint: item.fingerprint,
      todo: item.todo,
      state: item.state,
      claimedAt: item.claimedAt,
      leaseExpiresAt: item.leaseExpiresAt,
      expiresAt: item.expiresAt * 1000,
    };
  }

  async completeIdempotencyKey(owner: string, key: string): Promise<void> {
    await this.#guard(() =>
      this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: { owner: idempotencyPartitionOf(owner), id: key },
          UpdateExpression: "SET #state = :completed",
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: { ":completed": "completed" },
        }),
      ),
    );
  }

  reclaimIdempotencyKey(
    owner: string,
    stale: IdempotencyRecord,
    fresh: IdempotencyRecord,
  ): Promise<boolean> {
    return this.#putIdempotencyItemIf(owner, fresh, {
      ConditionExpression: "#claimedAt = :staleClaimedAt AND #state = :inProgress",
      ExpressionAttributeNames: { "#claimedAt": "claimedAt", "#state": "state" },
      ExpressionAttributeValues: {
        ":staleClaimedAt": stale.claimedAt,
        ":inProgress": "in_progress",
      },
    });
  }

  async releaseIdempotencyKey(owner: string, key: string, claimedAt: number): Promise<void> {
    try {
      await this.#guard(() =>
        this.#client.send(
          new DeleteCommand({
            TableName: this.#tableName,
            Key: { owner: idempotencyPartitionOf(owner), id: key },
            ConditionExpression: "#claimedAt = :claimedAt AND #state = :inProgress",
            ExpressionAttributeNames: { "#claimedAt": "claimedAt", "#state": "state" },
            ExpressionAttributeValues: { ":claimedAt": claimedAt, ":inProgress": "in_progress" },
          }),
        ),
      );
    } catch (error) {
      if (!conditionFailed(error)) throw error;
    }
  }

  /** Writes the record if the condition holds; false when it does not. */
  async #putIdempotencyItemIf(
    owner: string,
    record: IdempotencyRecord,
    condition: Pick<
      PutCommandInput,
      "ConditionExpression" | "ExpressionAttributeNames" | "ExpressionAttributeValues"
    >,
  ): Promise<boolean> {
    try {
      await this.#guard(() =>
        this.#client.send(
          new PutCommand({
            TableName: this.#tableName,
            Item: this.#toIdempotencyItem(owner, record),
            ...condition,
          }),
        ),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  }

  #toIdempotencyItem(owner: string, record: IdempotencyRecord): IdempotencyItem {
    return {
      owner: idempotencyPartitionOf(owner),
      id: record.key,
      fingerprint: record.fingerprint,
      todo: record.todo,
      state: record.state,
      claimedAt: record.claimedAt,
      leaseExpiresAt: record.leaseExpiresAt,
      expiresAt: Math.floor(record.expiresAt / 1000),
    };
  }

  #existsCondition(
    condition: WriteCondition,
    names: Record<string, string>,
    values: Record<string, unknown>,
  ) {
    let expression = "attribute_exists(#id)";
    if (condition.versions?.length) {
      names["#version"] = "version";
      const placeholders = condition.versions.map((version, index) => {
        values[`:version${index}`] = version;
        return `:version${index}`;
      });
      expression += ` AND #version IN (${placeholders.join(", ")})`;
    } else if (condition.versions) {
      // An If-Match that names no version of ours can never hold.
      expression += " AND attribute_not_exists(#id)";
    }
    return {
      ConditionExpression: expression,
      ExpressionAttributeNames: names,
      ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
      // DynamoDB answers with the current item when the condition fails, which tells 404 from
      // 412 without a second request (dynalite ignores it; then we read the item).
      ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
    };
  }

  async #conditionalWrite<T>(
    owner: string,
    id: string,
    condition: WriteCondition,
    write: () => Promise<T>,
  ): Promise<T> {
    try {
      return await this.#guard(write);
    } catch (error) {
      if (!conditionFailed(error)) throw error;
      if (!condition.versions) throw new TodoNotFoundError(id);
      const current = error.Item ? fromItem(unmarshall(error.Item)) : await this.get(owner, id);
      throw current ? new TodoVersionMismatchError(current.version) : new TodoNotFoundError(id);
    }
  }

  async #guard<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (isUnavailable(error)) throw new StoreUnavailableError(error);
      throw error;
    }
  }
}
