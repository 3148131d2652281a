// An opt-in account of where a request's time goes between "HTTP parsed" and "response
// written", for the benchmark (scripts/bench/trace.ts reads it). With
// LOCAL_RUNTIME_TRACE=<file> in its environment the server notes the time of each step of
// every request it passes to a function (the instance adds its own steps) and appends one
// JSON line per request to that file. Off, the default, `requestTrace` is undefined and each
// mark costs one `?.`.
import { appendFileSync } from "node:fs";

/** The steps, in the order a request passes them; the instance's are in the middle. */
export const traceSteps = [
  "received",
  "routed",
  "authorized",
  "body read",
  "event built",
  "event serialized",
  "instance acquired",
  // In the instance (instance-worker.ts sends these four back with its result).
  "instance received",
  "event parsed",
  "handler returned",
  "result serialized",
  // Back in the server.
  "result received",
  "result mapped",
  "response written",
  "logged",
] as const;

export type TraceStep = (typeof traceSteps)[number];

/** The instance's steps, in the order instance-worker.ts records them. */
export const instanceSteps: TraceStep[] = [
  "instance received",
  "event parsed",
  "handler returned",
  "result serialized",
];

/** One JSON line of the trace file. */
export interface TraceRecord {
  /** "GET /todos/{id}": the method and the template resource it was routed to. */
  route: string;
  /** Milliseconds of a monotonic clock shared by every thread of the process. */
  at: Partial<Record<TraceStep, number>>;
}

/** Milliseconds on CLOCK_MONOTONIC: the same clock in the server's thread and every worker. */
export function traceClock(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

class RequestTrace {
  readonly #file: string;
  readonly #open = new Map<string, TraceRecord>();
  #lines: string[] = [];

  constructor(file: string) {
    this.#file = file;
    // Written in batches, off the request path; what is left is written at exit.
    setInterval(() => this.flush(), 250).unref();
    process.on("exit", () => this.flush());
  }

  begin(requestId: string): void {
    this.#open.set(requestId, { route: "", at: { received: traceClock() } });
  }

  mark(requestId: string, step: TraceStep, route?: string): void {
    const record = this.#open.get(requestId);
    if (!record) return;
    record.at[step] = traceClock();
    if (route) record.route = route;
  }

  /** The instance's own steps, timed in its thread. */
  instanceMarks(requestId: string, times: number[]): void {
    const record = this.#open.get(requestId);
    if (!record) return;
    instanceSteps.forEach((step, index) => {
      if (times[index] !== undefined) record.at[step] = times[index];
    });
  }

  end(requestId: string): void {
    const record = this.#open.get(requestId);
    if (!record) return;
    this.#open.delete(requestId);
    record.at.logged = traceClock();
    // Only requests that reached a function are the runtime's request path.
    if (record.at["result received"] !== undefined) this.#lines.push(JSON.stringify(record));
  }

  flush(): void {
    if (this.#lines.length === 0) return;
    appendFileSync(this.#file, `${this.#lines.join("\n")}\n`);
    this.#lines = [];
  }
}

export const requestTrace: RequestTrace | undefined = process.env.LOCAL_RUNTIME_TRACE
  ? new RequestTrace(process.env.LOCAL_RUNTIME_TRACE)
  : undefined;
