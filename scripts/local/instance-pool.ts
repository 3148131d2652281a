// Lambda instances of one function: each a worker thread with its own environment,
// kept warm between requests, serving one request at a time; more instances for
// concurrent requests up to a limit, a queue beyond it.
//
// Why worker threads rather than child processes: an invocation is a postMessage of
// two strings within one process (tens of microseconds, no pipe, no second V8 heap to
// boot), a cold start costs the handler's own import and little else, and
// worker.terminate() stops even a busy loop at once, which is what a Lambda timeout
// needs. Each worker still gets its own process.env (Worker's `env` option), its own
// module graph and globals, and a heap limit from MemorySize.
import { availableParallelism } from "node:os";
import type { Writable } from "node:stream";
import { Worker } from "node:worker_threads";
import type { FromInstance, InstanceWorkerData, ToInstance } from "./instance-worker.ts";
import { localAccountId, localRegion } from "./local-aws.ts";
import { requestTrace } from "./request-trace.ts";

export interface PoolSpec {
  functionLogicalId: string;
  functionName: string;
  handler: string;
  runtime: string;
  timeoutMs: number;
  memoryMb: number;
  /** The environment each instance sees as process.env: nothing else of the server's. */
  environment: Record<string, string>;
  maxInstances: number;
  /**
   * How long an instance may spend loading the handler. Lambda allows 10 s; here cold
   * starts share a few cores with everything else, so the default is 30 s.
   */
  initTimeoutMs?: number;
  stdout?: Writable;
  stderr?: Writable;
  log: (message: string) => void;
}

export type InvokeOutcome =
  | { kind: "result"; payload: string }
  | { kind: "error"; errorType: string; errorMessage: string }
  | { kind: "timeout" }
  | { kind: "crash"; message: string };

const instanceWorkerUrl = new URL("./instance-worker.ts", import.meta.url);

/** Node options from NODE_OPTIONS that a worker thread accepts (source maps, mostly). */
function workerExecArgv(nodeOptions: string | undefined): string[] {
  const supported = ["--enable-source-maps", "--no-deprecation", "--trace-warnings"];
  return (nodeOptions ?? "").split(/\s+/).filter((option) => supported.includes(option));
}

/**
 * Instances per function unless told otherwise: one per core the process may use, at least
 * two. Each instance is a V8 isolate serving one request at a time, with its own JIT-compiled
 * copy of the handler and SDK, and its own heap; more of them than cores cannot run at once,
 * so they only add memory (tens of MB each) and split the traffic so that each stays colder.
 * Measured on 2 cores, GET /todos/{id} at 16 connections: 2 instances ~235 req/s, 3.3 ms of
 * CPU per request, 280 MB RSS; 10 instances ~175 req/s, 4.9-6.9 ms, 600 MB. Requests beyond
 * wait in the pool's queue, like requests beyond a reserved concurrency. A function that
 * spends its time waiting (a slow downstream) can use more: --max-instances N.
 */
export function defaultMaxInstances(): number {
  return Math.max(2, availableParallelism());
}

/** The heap limits of an instance of a function with this MemorySize. */
export function instanceResourceLimits(memoryMb: number) {
  return {
    // The heap is the part of MemorySize a leak would exhaust; exceeding it ends the
    // instance like Lambda's Runtime.OutOfMemory.
    maxOldGenerationSizeMb: Math.max(64, memoryMb),
    // The young generation is where a request's garbage lives and dies. V8's default
    // lets it grow to tens of MB per isolate, which every instance then keeps resident;
    // 8 MB is plenty for one request at a time. Measured (2 instances, GET at 16
    // connections): RSS 250 -> 341 MB over 11,600 requests by default, 236 -> 296 MB
    // with 8 MB, no slower (CPU per request 2.8-3.6 ms either way).
    maxYoungGenerationSizeMb: 8,
  };
}

interface Waiter {
  resolve: (instance: LambdaInstance) => void;
  reject: (error: Error) => void;
}

class LambdaInstance {
  readonly worker: Worker;
  readonly generation: number;
  readonly ready: Promise<void>;
  exited = false;
  #onMessage?: (message: FromInstance) => void;
  #onExit?: (reason: string) => void;

  constructor(spec: PoolSpec, artifactDir: string, generation: number, instanceNumber: number) {
    this.generation = generation;
    const logStreamName = `${new Date().toISOString().slice(0, 10).replaceAll("-", "/")}/[$LATEST]${generation}${String(instanceNumber).padStart(6, "0")}`;
    const workerData: InstanceWorkerData = {
      artifactDir,
      handler: spec.handler,
      functionName: spec.functionName,
      memoryMb: spec.memoryMb,
      logGroupName: `/aws/lambda/${spec.functionName}`,
      logStreamName,
      invokedFunctionArn: `arn:aws:lambda:${localRegion}:${localAccountId}:function:${spec.functionName}`,
      runtime: spec.runtime,
      directOutput: !spec.stdout && !spec.stderr,
    };
    this.worker = new Worker(instanceWorkerUrl, {
      workerData,
      env: {
        ...spec.environment,
        AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
        LAMBDA_TASK_ROOT: artifactDir,
      },
      execArgv: workerExecArgv(spec.environment.NODE_OPTIONS),
      resourceLimits: instanceResourceLimits(spec.memoryMb),
      stdout: Boolean(spec.stdout),
      stderr: Boolean(spec.stderr),
    });
    if (spec.stdout) this.worker.stdout.pipe(spec.stdout, { end: false });
    if (spec.stderr) this.worker.stderr.pipe(spec.stderr, { end: false });

    this.ready = new Promise<void>((resolve, reject) => {
      const initTimer = setTimeout(() => {
        reject(new Error(`init did not finish within ${spec.initTimeoutMs ?? 30_000} ms`));
        void this.stop();
      }, spec.initTimeoutMs ?? 30_000);
      this.#onMessage = (message) => {
        if (message.type === "ready") {
          clearTimeout(initTimer);
          resolve();
        } else if (message.type === "init-error") {
          clearTimeout(initTimer);
          reject(new Error(`${message.errorType}: ${message.errorMessage}`));
        }
      };
      this.#onExit = (reason) => {
        clearTimeout(initTimer);
        reject(new Error(reason));
      };
    });
    // A caller that never awaits `ready` (a pre-warmed instance) must not crash the server.
    this.ready.catch(() => {});

    this.worker.on("message", (message: FromInstance) => this.#onMessage?.(message));
    this.worker.on("error", (error) => this.#onExit?.(`the instance failed: ${error.message}`));
    this.worker.on("exit", (code) => {
      this.exited = true;
      this.#onExit?.(`the instance exited with code ${code}`);
    });
  }

  invoke(event: string, requestId: string, timeoutMs: number): Promise<InvokeOutcome> {
    return new Promise<InvokeOutcome>((resolve) => {
      const timer = setTimeout(() => {
        resolve({ kind: "timeout" });
        void this.stop();
      }, timeoutMs);
      const settle = (outcome: InvokeOutcome) => {
        clearTimeout(timer);
        this.#onMessage = undefined;
        this.#onExit = undefined;
        resolve(outcome);
      };
      this.#onMessage = (message) => {
        if (message.type === "result" && message.requestId === requestId) {
          if (message.marks) requestTrace?.instanceMarks(requestId, message.marks);
          requestTrace?.mark(requestId, "result received");
          settle({ kind: "result", payload: message.payload });
        } else if (message.type === "error" && message.requestId === requestId) {
          settle(
            message.fatal
              ? { kind: "crash", message: `${message.errorType}: ${message.errorMessage}` }
              : { kind: "error", errorType: message.errorType, errorMessage: message.errorMessage },
          );
        }
      };
      this.#onExit = (reason) => settle({ kind: "crash", message: reason });
      const message: ToInstance = {
        type: "invoke",
        event,
        requestId,
        deadlineMs: Date.now() + timeoutMs,
      };
      if (requestTrace) message.trace = true;
      this.worker.postMessage(message);
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    await this.worker.terminate();
  }
}

/**
 * Instances of one function. A request takes an idle instance, or waits in line while a
 * new instance starts for it (up to maxInstances, as Lambda scales with concurrency);
 * whichever instance is free first serves the head of the line. So a burst is not held
 * up behind cold starts that compete for this machine's few cores, and cold starts run
 * at most a few at a time.
 */
export class InstancePool {
  readonly #spec: PoolSpec;
  readonly #instances = new Set<LambdaInstance>();
  readonly #idle: LambdaInstance[] = [];
  readonly #waiting: Waiter[] = [];
  readonly #maxStarting = Math.max(2, availableParallelism());
  #starting = 0;
  #artifactDir: string | undefined;
  #generation = 0;
  #instanceCount = 0;
  #closed = false;

  constructor(spec: PoolSpec) {
    this.#spec = spec;
  }

  /**
   * Serves new code from now on: idle instances of the old code stop now, busy ones
   * after their request, and one instance of the new code starts warming up.
   */
  deploy(artifactDir: string): void {
    this.#artifactDir = artifactDir;
    this.#generation++;
    for (const instance of this.#idle.splice(0)) this.#retire(instance);
    if (!this.#closed && this.#instances.size < this.#spec.maxInstances) this.#start();
  }

  #start(): void {
    const instance = new LambdaInstance(
      this.#spec,
      this.#artifactDir as string,
      this.#generation,
      ++this.#instanceCount,
    );
    this.#instances.add(instance);
    this.#starting++;
    instance.worker.on("exit", () => {
      this.#instances.delete(instance);
      const idleIndex = this.#idle.indexOf(instance);
      if (idleIndex >= 0) this.#idle.splice(idleIndex, 1);
      this.#scale();
    });
    instance.ready.then(
      () => {
        this.#starting--;
        this.#release(instance);
        // Cold starts run a few at a time: as one ends, the next may begin for the line.
        this.#scale();
      },
      (error: Error) => {
        this.#starting--;
        this.#retire(instance);
        // The init failure fails an invocation, as on Lambda (Runtime.ImportModuleError...).
        this.#waiting.shift()?.reject(error);
        this.#scale();
      },
    );
  }

  /** Starts instances for requests in line that no starting instance will serve. */
  #scale(): void {
    if (this.#closed || !this.#artifactDir) return;
    while (
      this.#waiting.length > this.#starting &&
      this.#instances.size < this.#spec.maxInstances &&
      this.#starting < this.#maxStarting
    ) {
      this.#start();
    }
  }

  #retire(instance: LambdaInstance): void {
    this.#instances.delete(instance);
    void instance.stop();
  }

  #release(instance: LambdaInstance): void {
    if (instance.exited) return;
    if (this.#closed || instance.generation !== this.#generation) {
      this.#retire(instance);
      this.#scale();
      return;
    }
    const waiter = this.#waiting.shift();
    if (waiter) {
      waiter.resolve(instance);
    } else {
      this.#idle.push(instance);
    }
  }

  #acquire(): Promise<LambdaInstance> {
    return new Promise<LambdaInstance>((resolve, reject) => {
      if (this.#closed) {
        reject(new Error("the runtime is shutting down"));
        return;
      }
      if (!this.#artifactDir) {
        reject(new Error("the function has no successful build yet"));
        return;
      }
      const idle = this.#idle.pop();
      if (idle) {
        resolve(idle);
        return;
      }
      this.#waiting.push({ resolve, reject });
      this.#scale();
    });
  }

  async invoke(event: string, requestId: string): Promise<InvokeOutcome> {
    let instance: LambdaInstance;
    try {
      instance = await this.#acquire();
    } catch (error) {
      return { kind: "crash", message: (error as Error).message };
    }
    requestTrace?.mark(requestId, "instance acquired");
    const outcome = await instance.invoke(event, requestId, this.#spec.timeoutMs);
    if (outcome.kind === "timeout") {
      // Lambda ends the environment on a timeout; the next request gets a fresh one.
      this.#spec.log(
        `${this.#spec.functionLogicalId}: ${requestId} Task timed out after ${(this.#spec.timeoutMs / 1000).toFixed(2)} seconds`,
      );
      this.#instances.delete(instance);
      this.#scale();
    } else if (outcome.kind === "crash") {
      this.#instances.delete(instance);
      this.#scale();
    } else {
      this.#release(instance);
    }
    return outcome;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) {
      waiter.reject(new Error("the runtime is shutting down"));
    }
    const all = [...this.#instances];
    this.#instances.clear();
    this.#idle.length = 0;
    await Promise.all(all.map((instance) => instance.stop()));
  }
}
