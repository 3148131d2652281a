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

interface IdempotencyItem<Result> {
  owner: string;
  id: string;
  fingerprint: string;
  result: Result;
  state: IdempotencyRecord<Result>["state"];
  claimedAt: number;
  leaseExpiresAt: number;
  /** Epoch seconds. */
  expiresAt: number;
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

export class DynamoDbIdempotencyStore<Result> implements IdempotencyStore<Result> {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
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
    const item = Item as IdempotencyItem<Result>;
    return {
      key: item.id,
      fingerprint: item.fingerprint,
      result: item.result,
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
    const item: IdempotencyItem<Result> = {
      owner: partitionOf(owner),
      id: record.key,
      fingerprint: record.fingerprint,
      result: record.result,
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
