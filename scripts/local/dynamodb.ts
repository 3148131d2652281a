// The embedded DynamoDB: dynalite on DynamoDB Local's port, its LevelDB files under a
// data folder (or in memory), or an existing DynamoDB endpoint used as it is.

import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

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

/** Credentials and region that keep the SDK from looking for real ones. */
export const localAwsCredentials = {
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  AWS_SESSION_TOKEN: "local",
};

export function localDynamoDbClient(endpoint: string, region: string): DynamoDBClient {
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

type Dynalite = (options: Record<string, unknown>) => Server;

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
  // dynalite is CommonJS without types.
  const dynalite = createRequire(import.meta.url)("dynalite") as Dynalite;
  if (!options.inMemory) {
    await mkdir(options.dataDir, { recursive: true });
    await checkDataDirFree(options.dataDir);
  }
  const server = dynalite({
    path: options.inMemory ? undefined : options.dataDir,
    // Tables are ACTIVE at once: the runtime creates its table on every start.
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new DynamoDbStartError(
              `port ${options.port} is in use (DynamoDB Local running?): use --ddb-port 0 for a free port, or --ddb-endpoint http://localhost:${options.port} to use that DynamoDB`,
              "EADDRINUSE",
            )
          : error,
      );
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`,
    dataDir: options.inMemory ? undefined : options.dataDir,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        // dynalite's close() stops the HTTP server, then closes LevelDB once its writes are done.
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
