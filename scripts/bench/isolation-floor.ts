// Baseline (d), the floor under any runtime that keeps the isolation: node:http handing each
// request to the built handler in a worker thread (one per core, one request per worker at a
// time, the runtime's heap limits), and answering with its result, doing nothing else. The
// events are the runtime's own (events.ts), made once per method and URL and only given the
// body; no routing, no authorizer, no logging, no timeouts, no header checks. What this
// floor loses against plain node:http (b) is the cost of isolation with this handler; what
// the runtime loses beyond it is the runtime's own work.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Worker } from "node:worker_threads";
import { defaultMaxInstances, instanceResourceLimits } from "../local/instance-pool.ts";
import { restEventObject } from "./events.ts";

const handlerFile = process.env.BENCH_HANDLER_FILE as string;
const memoryMb = Number(process.env.BENCH_MEMORY_MB ?? 1024);

// CommonJS evaluated in the worker: the handler's bundle is imported once, then each message
// is one invocation answered with its JSON result.
const instanceSource = `
const { parentPort, workerData } = require("node:worker_threads");
const { pathToFileURL } = require("node:url");
const context = { functionName: "TodoFunction", awsRequestId: "isolation-floor", getRemainingTimeInMillis: () => 10000 };
import(pathToFileURL(workerData.handlerFile).href).then((module) => {
  parentPort.on("message", async (event) => {
    parentPort.postMessage(JSON.stringify(await module.handler(JSON.parse(event), context)));
  });
  parentPort.postMessage("ready");
});`;

// Not the runtime's InstancePool: its timers, generations and traces are the runtime's work,
// which this floor leaves out; only its limits are taken.
const idle: Worker[] = [];
const waiting: Array<(worker: Worker) => void> = [];
for (let index = 0; index < defaultMaxInstances(); index++) {
  const worker = new Worker(instanceSource, {
    eval: true,
    workerData: { handlerFile },
    env: process.env,
    resourceLimits: instanceResourceLimits(memoryMb),
  });
  await new Promise((resolve) => worker.once("message", resolve));
  idle.push(worker);
}
const acquire = () =>
  new Promise<Worker>((resolve) => {
    const worker = idle.pop();
    if (worker) resolve(worker);
    else waiting.push(resolve);
  });
const release = (worker: Worker) => {
  const next = waiting.shift();
  if (next) next(worker);
  else idle.push(worker);
};

const events = new Map<string, ReturnType<typeof restEventObject>>();
function eventFor(request: IncomingMessage, body: string) {
  const key = `${request.method} ${request.url}`;
  let event = events.get(key);
  if (!event) {
    // The first body gives the event its Content-Type; later ones only replace the body.
    event = restEventObject({
      method: request.method ?? "GET",
      rawUrl: request.url ?? "/",
      body: body || undefined,
    });
    events.set(key, event);
  }
  return JSON.stringify(body ? { ...event, body } : event);
}

const server = createServer(async (request, response) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const event = eventFor(request, Buffer.concat(chunks).toString("utf8"));
  const worker = await acquire();
  worker.once("message", (payload: string) => {
    release(worker);
    const result = JSON.parse(payload) as {
      statusCode: number;
      headers?: Record<string, string>;
      body?: string;
    };
    response.writeHead(result.statusCode, result.headers);
    response.end(result.body);
  });
  worker.postMessage(event);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(`isolation floor listening on http://127.0.0.1:${port}`);
});
process.on("SIGTERM", () => process.exit(0));
