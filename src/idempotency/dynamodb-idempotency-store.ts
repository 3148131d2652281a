// The IdempotencyStore on DynamoDB: the records share the todos' table (template.yaml) but live
// in a partition of their own per owner (`idempotency#<owner>`), so listings never see them.
// `expiresAt` is stored in epoch seconds, the unit of DynamoDB's TTL, which may delete an
// expired record (late); until it does, the conditions below treat it as gone.
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { conditionFailed, guarded } from "../dynamodb/requests.ts";
import type { IdempotencyRecord, IdempotencyStore } from "./idempotency-store.ts";

interface IdempotencyItem {
  owner: string;
  id: string;
  fingerprint: string;
  state: "in_progress" | "completed";
  claimedAt: number;
  leaseExpiresAt: number;
  /** Epoch seconds. */
  expiresAt: number;
  /** The result, under the attribute name the store was given. */
  [resultAttribute: string]: unknown;
}

const partitionOf = (owner: string) => `idempotency#${owner}`;

type Condition = Pick<
  PutCommandInput,
  "ConditionExpression" | "ExpressionAttributeNames" | "ExpressionAttributeValues"
>;

/** The claim named by its claimedAt, and still unfinished. */
const unfinishedClaim = (claimedAt: number): Condition => ({
  ConditionExpression: "#claimedAt = :claimedAt AND #state = :inProgress",
  ExpressionAttributeNames: { "#claimedAt": "claimedAt", "#state": "state" },
  ExpressionAttributeValues: { ":claimedAt": claimedAt, ":inProgress": "in_progress" },
});

export interface DynamoDbIdempotencyOptions {
  /**
   * The attribute that holds the result ("result" by default). As Powertools' persistence
   * layer lets its data attribute be named, so that records written before keep working.
   */
  resultAttribute?: string;
}

export class DynamoDbIdempotencyStore<Result> implements IdempotencyStore<Result> {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #resultAttribute: string;

  constructor(
    client: DynamoDBDocumentClient,
    tableName: string,
    options: DynamoDbIdempotencyOptions = {},
  ) {
    this.#client = client;
    this.#tableName = tableName;
    this.#resultAttribute = options.resultAttribute ?? "result";
  }

  claim(owner: string, record: IdempotencyRecord<Result>): Promise<boolean> {
    return this.#putIf(owner, record, {
      ConditionExpression: "attribute_not_exists(#id) OR #expiresAt <= :now",
      ExpressionAttributeNames: { "#id": "id", "#expiresAt": "expiresAt" },
      ExpressionAttributeValues: { ":now": Math.floor(record.claimedAt / 1000) },
    });
  }

  async get(owner: string, key: string): Promise<IdempotencyRecord<Result> | undefined> {
    const { Item } = await guarded(() =>
      this.#client.send(
        new GetCommand({
          TableName: this.#tableName,
          Key: { owner: partitionOf(owner), id: key },
          ConsistentRead: true,
        }),
      ),
    );
    if (!Item) return undefined;
    const item = Item as IdempotencyItem;
    return {
      key: item.id,
      fingerprint: item.fingerprint,
      result: item[this.#resultAttribute] as Result,
      state: item.state,
      claimedAt: item.claimedAt,
      leaseExpiresAt: item.leaseExpiresAt,
      expiresAt: item.expiresAt * 1000,
    };
  }

  async complete(owner: string, key: string): Promise<void> {
    await guarded(() =>
      this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: { owner: partitionOf(owner), id: key },
          UpdateExpression: "SET #state = :completed",
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: { ":completed": "completed" },
        }),
      ),
    );
  }

  reclaim(
    owner: string,
    stale: IdempotencyRecord<Result>,
    fresh: IdempotencyRecord<Result>,
  ): Promise<boolean> {
    return this.#putIf(owner, fresh, unfinishedClaim(stale.claimedAt));
  }

  async release(owner: string, key: string, claimedAt: number): Promise<void> {
    try {
      await guarded(() =>
        this.#client.send(
          new DeleteCommand({
            TableName: this.#tableName,
            Key: { owner: partitionOf(owner), id: key },
            ...unfinishedClaim(claimedAt),
          }),
        ),
      );
    } catch (error) {
      if (!conditionFailed(error)) throw error;
    }
  }

  /** Writes the record if the condition holds; false when it does not. */
  async #putIf(
    owner: string,
    record: IdempotencyRecord<Result>,
    condition: Condition,
  ): Promise<boolean> {
    const item: IdempotencyItem = {
      owner: partitionOf(owner),
      id: record.key,
      fingerprint: record.fingerprint,
      [this.#resultAttribute]: record.result,
      state: record.state,
      claimedAt: record.claimedAt,
      leaseExpiresAt: record.leaseExpiresAt,
      expiresAt: Math.floor(record.expiresAt / 1000),
    };
    try {
      await guarded(() =>
        this.#client.send(new PutCommand({ TableName: this.#tableName, Item: item, ...condition })),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  }
}
