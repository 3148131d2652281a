// The TodoStore on DynamoDB: one table (template.yaml), partition key `owner`, sort key the
// time-ordered `id`, and the index `byStatus` (owner, `status#id`) for the status filter.
// Every operation is one request on its success path: conditional writes with ReturnValues,
// never a read before a write. Attribute names always go through ExpressionAttributeNames
// (`status` and `owner` are reserved words) and values through ExpressionAttributeValues.
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { conditionFailed, guarded } from "../dynamodb/requests.ts";
import { TodoNotFoundError, TodoVersionMismatchError } from "./errors.ts";
import type { StoredTodo, TodoPatch, TodoStatus, VersionCondition } from "./todo.ts";
import type { ListOptions, TodoPage, TodoStore } from "./todo-store.ts";

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

const statusIdOf = (status: TodoStatus, id: string) => `${status}#${id}`;

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

type Expression = {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
};

/** The todo exists, at a version the condition allows. */
function existsAt(condition: VersionCondition): Expression {
  const exists: Expression = {
    ConditionExpression: "attribute_exists(#id)",
    ExpressionAttributeNames: { "#id": "id" },
    ExpressionAttributeValues: {},
  };
  switch (condition.kind) {
    case "any":
      return exists;
    case "none":
      // Nothing can hold this: the write fails as for a changed todo, and its answer (the
      // current item, or none) still tells 404 from 412.
      return {
        ...exists,
        ConditionExpression: "attribute_exists(#id) AND attribute_not_exists(#id)",
      };
    case "one-of": {
      const placeholders = condition.versions.map((_, index) => `:version${index}`);
      return {
        ConditionExpression: `attribute_exists(#id) AND #version IN (${placeholders.join(", ")})`,
        ExpressionAttributeNames: { "#id": "id", "#version": "version" },
        ExpressionAttributeValues: Object.fromEntries(
          condition.versions.map((version, index) => [`:version${index}`, version]),
        ),
      };
    }
  }
}

/** A write's own names and values joined with its condition's (neither map is changed). */
function withCondition(
  condition: Expression,
  names: Record<string, string> = {},
  values: Record<string, unknown> = {},
) {
  const allValues = { ...values, ...condition.ExpressionAttributeValues };
  return {
    ConditionExpression: condition.ConditionExpression,
    ExpressionAttributeNames: { ...names, ...condition.ExpressionAttributeNames },
    ...(Object.keys(allValues).length ? { ExpressionAttributeValues: allValues } : {}),
    // DynamoDB answers with the current item when the condition fails, which tells 404 from
    // 412 without a second request (dynalite ignores it; then we read the item).
    ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
  };
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
    await guarded(() =>
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
    const { Item } = await guarded(() =>
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
    condition: VersionCondition,
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
          ...withCondition(existsAt(condition), names, values),
          ReturnValues: "ALL_NEW",
        }),
      ),
    );
    return fromItem(Attributes as Record<string, unknown>);
  }

  async delete(owner: string, id: string, condition: VersionCondition): Promise<void> {
    await this.#conditionalWrite(owner, id, condition, () =>
      this.#client.send(
        new DeleteCommand({
          TableName: this.#tableName,
          Key: { owner, id },
          ...withCondition(existsAt(condition)),
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
    const { Items = [], LastEvaluatedKey } = await guarded(() =>
      this.#client.send(new QueryCommand(input)),
    );
    const items = Items.slice(0, limit).map(fromItem);
    const last = items.at(-1);
    // DynamoDB also stops a page at 1 MB read: then LastEvaluatedKey marks the last item read.
    const more = Items.length > limit || LastEvaluatedKey !== undefined;
    return more && last ? { items, next: { id: last.id } } : { items };
  }

  async #conditionalWrite<T>(
    owner: string,
    id: string,
    condition: VersionCondition,
    write: () => Promise<T>,
  ): Promise<T> {
    try {
      return await guarded(write);
    } catch (error) {
      if (!conditionFailed(error)) throw error;
      if (condition.kind === "any") throw new TodoNotFoundError(id);
      const current = error.Item ? fromItem(unmarshall(error.Item)) : await this.get(owner, id);
      throw current ? new TodoVersionMismatchError(current.version) : new TodoNotFoundError(id);
    }
  }
}
