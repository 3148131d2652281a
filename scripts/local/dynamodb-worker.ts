// dynalite in a thread of its own: its request parsing and expression evaluation run
// beside the HTTP front and the Lambda instances instead of between their requests, and
// an error it throws from a callback ends this thread, not the whole runtime.
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { parentPort, workerData } from "node:worker_threads";

export interface DynamoDbWorkerData {
  host: string;
  port: number;
  /** LevelDB folder, or undefined for in memory. */
  path: string | undefined;
}

export type FromDynamoDbWorker =
  | { type: "listening"; port: number }
  | { type: "error"; code?: string; message: string }
  | { type: "closed"; error?: string };

type Dynalite = (options: Record<string, unknown>) => Server;

const data = workerData as DynamoDbWorkerData;
const port = parentPort;
if (!port) throw new Error("dynamodb-worker runs only as a worker thread");

// dynalite is CommonJS without types.
const dynalite = createRequire(import.meta.url)("dynalite") as Dynalite;
const server = dynalite({
  path: data.path,
  // Tables are ACTIVE at once: the runtime creates its table on every start.
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
});
server.once("error", (error: NodeJS.ErrnoException) => {
  port.postMessage({
    type: "error",
    code: error.code,
    message: error.message,
  } satisfies FromDynamoDbWorker);
});
server.listen(data.port, data.host, () => {
  const { port: listening } = server.address() as AddressInfo;
  port.postMessage({ type: "listening", port: listening } satisfies FromDynamoDbWorker);
});
port.on("message", (message: { type: string }) => {
  if (message.type !== "close") return;
  // dynalite's close() stops the HTTP server, then closes LevelDB once its writes are done.
  server.close((error) => {
    port.postMessage({ type: "closed", error: error?.message } satisfies FromDynamoDbWorker);
    port.close();
  });
  server.closeIdleConnections();
});
