// The embedded DynamoDB: dynalite on DynamoDB Local's port, its LevelDB files under a
// data folder (or in memory), or an existing DynamoDB endpoint used as it is.
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDbWorkerData, FromDynamoDbWorker } from "./dynamodb-worker.ts";
import { localAwsCredentials, localRegion } from "./local-aws.ts";

export interface LocalDynamoDbOptions {
  /** Use this DynamoDB (e.g. DynamoDB Local from docker compose) instead of dynalite. */
  endpoint?: string;
  host: string;
  /** 8000 by default, as DynamoDB Local; 0 picks a free port. */
  port: number;
  /** LevelDB folder; ignored with inMemory. */
  dataDir: string;
  inMemory: boolean;
}

export interface LocalDynamoDb {
  endpoint: string;
  /** The data folder, or undefined when nothing is kept. */
  dataDir: string | undefined;
  close(): Promise<void>;
}

/** A client of a local DynamoDB, with the local region and credentials unless told otherwise. */
export function localDynamoDbClient(endpoint: string, region = localRegion): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region,
    credentials: {
      accessKeyId: localAwsCredentials.AWS_ACCESS_KEY_ID,
      secretAccessKey: localAwsCredentials.AWS_SECRET_ACCESS_KEY,
    },
  });
}

export class DynamoDbStartError extends Error {
  override name = "DynamoDbStartError";
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}

interface LevelDatabase {
  open(): Promise<void>;
  close(): Promise<void>;
}

/**
 * dynalite opens its LevelDB lazily and throws from a callback when another process
 * holds the folder's lock; opening it first turns that crash into a message.
 */
async function checkDataDirFree(dataDir: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const levelPath = require.resolve("level", { paths: [require.resolve("dynalite")] });
  const { Level } = require(levelPath) as { Level: new (path: string) => LevelDatabase };
  const database = new Level(dataDir);
  try {
    await database.open();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code === "LEVEL_LOCKED") {
      throw new DynamoDbStartError(
        `the data folder ${dataDir} is in use by another process (another npm start?): stop it, or use --data-dir DIR or --in-memory`,
        "DATA_DIR_LOCKED",
      );
    }
    throw error;
  }
  await database.close();
}

export async function startLocalDynamoDb(options: LocalDynamoDbOptions): Promise<LocalDynamoDb> {
  if (options.endpoint) {
    return { endpoint: options.endpoint, dataDir: undefined, close: async () => {} };
  }
  if (!options.inMemory) {
    await mkdir(options.dataDir, { recursive: true });
    await checkDataDirFree(options.dataDir);
  }
  const workerData: DynamoDbWorkerData = {
    host: options.host,
    port: options.port,
    path: options.inMemory ? undefined : options.dataDir,
  };
  const worker = new Worker(new URL("./dynamodb-worker.ts", import.meta.url), { workerData });
  let onClosed: ((error?: string) => void) | undefined;
  let closed = false;
  const listening = new Promise<number>((resolve, reject) => {
    worker.on("message", (message: FromDynamoDbWorker) => {
      if (message.type === "listening") resolve(message.port);
      else if (message.type === "closed") onClosed?.(message.error);
      else if (message.type === "error") {
        reject(
          message.code === "EADDRINUSE"
            ? new DynamoDbStartError(
                `port ${options.port} is in use (DynamoDB Local running?): use --ddb-port 0 for a free port, or --ddb-endpoint http://localhost:${options.port} to use that DynamoDB`,
                "EADDRINUSE",
              )
            : new DynamoDbStartError(
                `the embedded DynamoDB failed: ${message.message}`,
                message.code,
              ),
        );
      }
    });
    worker.on("error", (error) => {
      reject(error);
      if (!closed) console.error(`the embedded DynamoDB stopped: ${error.stack ?? error.message}`);
    });
    worker.on("exit", () => {
      closed = true;
      reject(new DynamoDbStartError("the embedded DynamoDB exited"));
      onClosed?.();
    });
  });
  let port: number;
  try {
    port = await listening;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`,
    dataDir: options.inMemory ? undefined : options.dataDir,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        if (closed) {
          resolve();
          return;
        }
        onClosed = (error) => {
          onClosed = undefined;
          closed = true;
          if (error) reject(new Error(error));
          else resolve();
        };
        worker.postMessage({ type: "close" });
      });
      return closing;
    },
  };
}
