// The table's keys and indexes are written once, in template.yaml; every local
// DynamoDB (tests, seed, npm start) creates its table from that definition.
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
} from "@aws-sdk/client-dynamodb";
import type { CfnTemplate } from "./cfn-template.ts";

export function findTableResource(template: CfnTemplate): string {
  const ids = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === "AWS::DynamoDB::Table")
    .map(([logicalId]) => logicalId);
  if (ids.length !== 1) {
    throw new Error(`expected one AWS::DynamoDB::Table in the template, found ${ids.length}`);
  }
  return ids[0] as string;
}

/** CreateTable input for the template's table resource, under a local name. */
export function createTableInput(
  template: CfnTemplate,
  logicalId: string,
  tableName: string,
): CreateTableCommandInput {
  const properties = template.Resources[logicalId]?.Properties as
    | Omit<CreateTableCommandInput, "TableName">
    | undefined;
  if (!properties) throw new Error(`no table resource ${logicalId} in the template`);
  const { AttributeDefinitions, KeySchema, GlobalSecondaryIndexes, LocalSecondaryIndexes } =
    properties;
  return {
    TableName: tableName,
    AttributeDefinitions,
    KeySchema,
    GlobalSecondaryIndexes,
    LocalSecondaryIndexes,
    BillingMode: "PAY_PER_REQUEST",
  };
}

/** Creates the table when it is missing and waits until it is ACTIVE. Returns true when it created it. */
export async function ensureTable(
  client: DynamoDBClient,
  input: CreateTableCommandInput,
): Promise<boolean> {
  let created = false;
  try {
    await client.send(new DescribeTableCommand({ TableName: input.TableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    try {
      await client.send(new CreateTableCommand(input));
      created = true;
    } catch (createError) {
      // Another process created it between our describe and create: that is fine.
      if (!(createError instanceof ResourceInUseException)) throw createError;
    }
  }
  for (let attempt = 0; attempt < 200; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === "ACTIVE",
    );
    if (Table?.TableStatus === "ACTIVE" && indexesActive) return created;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`table ${input.TableName} did not become ACTIVE`);
}
