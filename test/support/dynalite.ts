// A real DynamoDB-compatible server for tests: dynalite, in memory, on a random loopback port,
// with the table created from template.yaml's own definition.
import type { AddressInfo } from "node:net";
import dynalite from "dynalite";
import { loadCfnTemplate } from "../../scripts/local/cfn-template.ts";
import { localDynamoDbClient } from "../../scripts/local/dynamodb.ts";
import {
  createTableInput,
  ensureTable,
  findTableResource,
} from "../../scripts/local/dynamodb-table.ts";

export const templatePath = new URL("../../template.yaml", import.meta.url).pathname;

export interface TestDynamoDb {
  endpoint: string;
  /** Creates a fresh table (from the template) and returns its name. */
  createTable(name?: string): Promise<string>;
  stop(): Promise<void>;
}

let tableCounter = 0;

/** Creates the template's table at an endpoint (any DynamoDB-compatible server). */
export async function createTemplateTable(endpoint: string, name?: string): Promise<string> {
  const template = loadCfnTemplate(templatePath);
  const tableName = name ?? `todos-${process.pid}-${++tableCounter}`;
  const client = localDynamoDbClient(endpoint, "us-east-1");
  try {
    await ensureTable(client, createTableInput(template, findTableResource(template), tableName));
  } finally {
    client.destroy();
  }
  return tableName;
}

export async function startDynalite(): Promise<TestDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    createTable: (name) => createTemplateTable(endpoint, name),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
