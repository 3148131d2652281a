// Cold-start baseline: a Lambda that only creates a DynamoDB DocumentClient at load (as the
// product does) and makes one GetItem per request: the floor for any DynamoDB function.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event: { pathParameters?: { id?: string } }) => {
  const { Item } = await client.send(
    new GetCommand({
      TableName: process.env.TABLE_NAME,
      Key: { owner: "anonymous", id: event.pathParameters?.id },
    }),
  );
  return { statusCode: Item ? 200 : 404, body: JSON.stringify(Item ?? {}) };
};
