// One Lambda execution environment, run as a worker thread: it loads the built handler
// once (the init phase), then runs one invocation at a time as the parent sends them,
// as the Node.js Lambda runtime does. It imports nothing of the runtime besides Node.
import { existsSync, writeSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";

export interface InstanceWorkerData {
  artifactDir: string;
  handler: string;
  functionName: string;
  memoryMb: number;
  logGroupName: string;
  logStreamName: string;
  invokedFunctionArn: string;
  /** nodejs18.x... nodejs24.x: from nodejs24.x on callback-style handlers are gone. */
  runtime: string;
  /**
   * The function's console output goes to the process's own stdout/stderr (fd 1 and 2),
   * written from this thread; otherwise it goes to the parent, which pipes it on.
   */
  directOutput: boolean;
}

export type ToInstance = {
  type: "invoke";
  event: string;
  requestId: string;
  deadlineMs: number;
  /** Send back the times of this invocation's steps (request-trace.ts: instanceSteps). */
  trace?: boolean;
};

export type FromInstance =
  | { type: "ready" }
  | { type: "init-error"; errorType: string; errorMessage: string; stack?: string[] }
  | { type: "result"; requestId: string; payload: string; marks?: number[] }
  | {
      type: "error";
      requestId: string;
      errorType: string;
      errorMessage: string;
      stack?: string[];
      /** The instance is ending (an unhandled rejection or exception): do not reuse it. */
      fatal?: boolean;
    };

type Handler = (event: unknown, context: object, callback?: unknown) => unknown;

const data = workerData as InstanceWorkerData;
const port = parentPort;
if (!port) throw new Error("instance-worker runs only as a worker thread");

/** Blocks this thread (only this instance) for a moment. */
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Writes the whole chunk to fd, as Lambda's runtime writes a log line before it goes on.
 * The fd may be non-blocking (a pipe the server's libuv opened): a full pipe makes this
 * instance wait, never the server's thread. A closed one (EPIPE...) drops the output.
 */
function writeFully(fd: number, chunk: Buffer): void {
  let offset = 0;
  while (offset < chunk.length) {
    try {
      offset += writeSync(fd, chunk, offset, chunk.length - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return;
      pause(1);
    }
  }
}

// A worker's process.stdout/stderr normally post every write to the parent thread, which
// writes it out: for a function that logs each request that is one more hop, and one more
// wake-up of the server's thread, per request. Writing from here keeps the stream (its
// callbacks, 'finish', cork()) and only changes where its chunks go.
if (data.directOutput) {
  for (const [stream, fd] of [
    [process.stdout, 1],
    [process.stderr, 2],
  ] as const) {
    const writable = stream as unknown as {
      _writev(
        chunks: Array<{ chunk: Buffer | string; encoding: BufferEncoding }>,
        cb: () => void,
      ): void;
    };
    writable._writev = (chunks, callback) => {
      for (const { chunk, encoding } of chunks) {
        writeFully(fd, typeof chunk === "string" ? Buffer.from(chunk, encoding) : chunk);
      }
      callback();
    };
  }
}

function errorFields(error: unknown, fallbackType: string) {
  if (error instanceof Error) {
    return {
      errorType: error.name && error.name !== "Error" ? error.name : fallbackType,
      errorMessage: error.message,
      stack: error.stack?.split("\n"),
    };
  }
  return { errorType: fallbackType, errorMessage: String(error) };
}

function runtimeMajor(runtime: string): number {
  return Number(/nodejs(\d+)/.exec(runtime)?.[1] ?? 24);
}

/** Lambda's lookup: LAMBDA_TASK_ROOT/<module>.{js,mjs,cjs}, then the export path. */
async function loadHandler(): Promise<Handler> {
  const lastDot = data.handler.lastIndexOf(".");
  const modulePath = data.handler.slice(0, lastDot);
  const exportPath = data.handler.slice(lastDot + 1);
  const file = [".js", ".mjs", ".cjs"]
    .map((extension) => join(data.artifactDir, `${modulePath}${extension}`))
    .find((candidate) => existsSync(candidate));
  if (!file) {
    const error = new Error(`Cannot find module '${modulePath}' in ${data.artifactDir}`);
    error.name = "Runtime.ImportModuleError";
    throw error;
  }
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const handler =
    module[exportPath] ?? (module.default as Record<string, unknown> | undefined)?.[exportPath];
  if (typeof handler !== "function") {
    const error = new Error(`${data.handler} is undefined or not exported`);
    error.name = "Runtime.HandlerNotFound";
    throw error;
  }
  return handler as Handler;
}

let currentRequestId: string | undefined;

function fail(error: unknown, fallbackType: string, fatal = false) {
  if (currentRequestId) {
    port?.postMessage({
      type: "error",
      requestId: currentRequestId,
      ...errorFields(error, fallbackType),
      fatal,
    } satisfies FromInstance);
    currentRequestId = undefined;
  }
}

// The Lambda runtime ends the environment on an unhandled rejection or exception, even
// one raised after the result was sent; the parent replaces this instance when it exits.
process.on("unhandledRejection", (reason) => {
  console.error("Unhandled Promise Rejection", reason);
  fail(reason, "Runtime.UnhandledPromiseRejection", true);
  process.exit(1);
});
process.on("uncaughtException", (error) => {
  console.error("Uncaught Exception", error);
  fail(error, "Runtime.UncaughtException", true);
  process.exit(1);
});

/** The trace's clock (request-trace.ts): CLOCK_MONOTONIC, as in the server's thread. */
const traceClock = () => Number(process.hrtime.bigint()) / 1e6;

async function invoke(handler: Handler, message: ToInstance, marks?: number[]): Promise<unknown> {
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: data.functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: data.invokedFunctionArn,
    memoryLimitInMB: String(data.memoryMb),
    awsRequestId: message.requestId,
    logGroupName: data.logGroupName,
    logStreamName: data.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, message.deadlineMs - Date.now()),
  };
  const event = JSON.parse(message.event) as unknown;
  marks?.push(traceClock());
  if (handler.length >= 3) {
    if (runtimeMajor(data.runtime) >= 24) {
      const error = new Error(
        "Callback-based function handlers are not supported on nodejs24.x: make the handler async",
      );
      error.name = "Runtime.CallbackHandlerDeprecated";
      throw error;
    }
    return await new Promise((resolve, reject) => {
      const returned = handler(event, context, (error: unknown, result: unknown) =>
        error ? reject(error) : resolve(result),
      );
      if (returned && typeof (returned as Promise<unknown>).then === "function") {
        (returned as Promise<unknown>).then(resolve, reject);
      }
    });
  }
  return await handler(event, context);
}

let handler: Handler | undefined;
try {
  handler = await loadHandler();
  port.postMessage({ type: "ready" } satisfies FromInstance);
} catch (error) {
  console.error(error);
  port.postMessage({
    type: "init-error",
    ...errorFields(error, "Runtime.ImportModuleError"),
  } satisfies FromInstance);
}

port.on("message", async (message: ToInstance) => {
  if (message.type !== "invoke" || !handler) return;
  const marks = message.trace ? [traceClock()] : undefined;
  currentRequestId = message.requestId;
  try {
    const result = await invoke(handler, message, marks);
    marks?.push(traceClock());
    // Lambda serializes the result as JSON: undefined becomes null, Dates strings...
    const payload = JSON.stringify(result) ?? "null";
    marks?.push(traceClock());
    if (currentRequestId === message.requestId) {
      const answer: FromInstance = { type: "result", requestId: message.requestId, payload };
      if (marks) answer.marks = marks;
      port.postMessage(answer);
    }
  } catch (error) {
    // Lambda logs a failed invocation this way before API Gateway answers 502.
    console.error(
      `${new Date().toISOString()}\t${message.requestId}\tERROR\tInvoke Error\t${JSON.stringify(
        errorFields(error, "Error"),
      )}`,
    );
    fail(error, "Error");
  } finally {
    currentRequestId = undefined;
  }
});
