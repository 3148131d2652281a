// Scale: listing pages of 50 (first page and one deep in the list, all todos and status=done)
// with 1,000 and then 50,000 stored todos. The todos are written straight into the store with
// BatchWriteItem, shaped as src/todos/dynamodb-todo-store.ts writes them (same keys, the
// byStatus index's statusId, version 1), with time-ordered ids as the API makes them.
import { BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient } from "../../src/dynamodb/client.ts";
import { PageTokenCodec } from "../../src/todos/page-token.ts";
import { uuidv7 } from "../../src/todos/uuid-v7.ts";
import { benchOwner } from "./events.ts";
import { runLoad } from "./load.ts";
import { pooledFigures, type RawRun, type RunFigures, round } from "./stats.ts";

const owner = benchOwner;
const pageSize = 50;

export interface ScaleQuery {
  key: string;
  label: string;
}

export const scaleQueries: ScaleQuery[] = [
  { key: "first", label: "GET /todos?limit=50" },
  { key: "deep", label: "GET /todos?limit=50&nextToken=(90% down)" },
  { key: "done-first", label: "GET /todos?limit=50&status=done" },
  { key: "done-deep", label: "GET /todos?limit=50&status=done&nextToken=(90% down)" },
];

export interface ScaleFigures extends RunFigures {
  query: string;
  storedTodos: number;
}

/** What is stored, newest last (ids grow with time). */
interface Stored {
  ids: string[];
  doneIds: string[];
}

const startedAt = Date.parse("2026-01-01T00:00:00Z");

async function writeBatch(client: DynamoDBDocumentClient, tableName: string, items: object[]) {
  let requests = items.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 0; requests.length > 0; attempt++) {
    if (attempt > 20) throw new Error("BatchWriteItem kept leaving items unprocessed");
    const { UnprocessedItems } = await client.send(
      new BatchWriteCommand({ RequestItems: { [tableName]: requests } }),
    );
    requests = (UnprocessedItems?.[tableName] ?? []) as typeof requests;
  }
}

/** Adds todos until `total` are stored; every 4th is done. */
async function fillTo(
  client: DynamoDBDocumentClient,
  tableName: string,
  stored: Stored,
  total: number,
): Promise<void> {
  const items: object[] = [];
  for (let index = stored.ids.length; index < total; index++) {
    const at = new Date(startedAt + index * 1000).toISOString();
    const id = uuidv7(startedAt + index * 1000);
    const status = index % 4 === 3 ? "done" : "pending";
    stored.ids.push(id);
    if (status === "done") stored.doneIds.push(id);
    items.push({
      owner,
      statusId: `${status}#${id}`,
      id,
      title: `Todo number ${index}`,
      ...(index % 2 === 0 ? { description: `Loaded by npm run bench (${index})` } : {}),
      status,
      created_at: at,
      updated_at: at,
      version: 1,
    });
  }
  const batches: object[][] = [];
  for (let index = 0; index < items.length; index += 25)
    batches.push(items.slice(index, index + 25));
  // A few batches in flight: dynalite is one process, more only queue.
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++] as object[];
      await writeBatch(client, tableName, batch);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

/** The path of each query: the deep ones start 90% of the way down the newest-first list. */
function queryPaths(stored: Stored, codec: PageTokenCodec): Record<string, string> {
  // ids are oldest first: 90% down the newest-first list is 10% up from the oldest, and a
  // full page must remain below it.
  const deepAfter = (ids: string[]) =>
    ids[Math.max(pageSize, Math.floor(ids.length * 0.1))] as string;
  const token = (id: string, status?: "done") =>
    encodeURIComponent(codec.encode(owner, status ? { id, status } : { id }));
  return {
    first: `/todos?limit=${pageSize}`,
    deep: `/todos?limit=${pageSize}&nextToken=${token(deepAfter(stored.ids))}`,
    "done-first": `/todos?limit=${pageSize}&status=done`,
    "done-deep": `/todos?limit=${pageSize}&status=done&nextToken=${token(deepAfter(stored.doneIds), "done")}`,
  };
}

export interface ScaleTable {
  storedTodos: number;
  tableName: string;
  /** A local runtime serving this table. */
  runtimeUrl: string;
  /** A signed-in client's headers there (the bench user's token). */
  runtimeHeaders: Record<string, string>;
}

/**
 * Fills each table to its size, then measures every query on every table in turns
 * (`rounds` of them), so that the sizes are compared under the same conditions.
 */
export async function measureScale(options: {
  ddbEndpoint: string;
  tables: ScaleTable[];
  /** Seconds per query and size, split over the rounds. */
  durationS: number;
  rounds: number;
  log: (message: string) => void;
}): Promise<{ figures: ScaleFigures[]; loadSeconds: Record<string, number> }> {
  const { ddbEndpoint, tables, durationS, rounds, log } = options;
  const client = createDocumentClient({
    endpoint: ddbEndpoint,
    region: "us-east-1",
    requestTimeoutMs: 30_000,
  });
  const loadSeconds: Record<string, number> = {};
  const paths = new Map<ScaleTable, Record<string, string>>();
  try {
    for (const table of tables) {
      const started = performance.now();
      const stored: Stored = { ids: [], doneIds: [] };
      await fillTo(client, table.tableName, stored, table.storedTodos);
      loadSeconds[String(table.storedTodos)] = round((performance.now() - started) / 1000);
      log(
        `  loaded ${table.storedTodos} todos with BatchWriteItem in ${loadSeconds[String(table.storedTodos)]} s`,
      );
      // The runtime's key: template.yaml sets no PAGE_TOKEN_KEY, so the per-table default.
      paths.set(table, queryPaths(stored, new PageTokenCodec(`todo-api:${table.tableName}`)));
    }
  } finally {
    client.destroy();
  }

  const urlOf = (table: ScaleTable, query: ScaleQuery) =>
    `${table.runtimeUrl}${paths.get(table)?.[query.key]}`;
  // A wrong token or path would measure an error page: check each answer first.
  for (const table of tables) {
    for (const query of scaleQueries) {
      const answer = await fetch(urlOf(table, query), { headers: table.runtimeHeaders });
      const page = (await answer.json()) as { items?: unknown[] };
      if (answer.status !== 200 || page.items?.length !== pageSize) {
        throw new Error(
          `${query.label} with ${table.storedTodos} todos answered ${answer.status} with ${page.items?.length} items`,
        );
      }
    }
  }

  const figures: ScaleFigures[] = [];
  for (const query of scaleQueries) {
    const raw = new Map<ScaleTable, RawRun[]>(tables.map((table) => [table, []]));
    for (let turn = 0; turn < rounds; turn++) {
      for (const table of tables) {
        raw.get(table)?.push(
          await runLoad({
            url: urlOf(table, query),
            method: "GET",
            headers: table.runtimeHeaders,
            connections: 1,
            durationS: durationS / rounds,
          }),
        );
      }
    }
    for (const table of tables) {
      const run = pooledFigures(raw.get(table) ?? []);
      log(
        `  ${query.label.padEnd(52)} ${String(table.storedTodos).padStart(6)} todos  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms${run.failures ? `  (${run.failures} failed)` : ""}`,
      );
      figures.push({ query: query.key, storedTodos: table.storedTodos, ...run });
    }
  }
  return { figures, loadSeconds };
}
