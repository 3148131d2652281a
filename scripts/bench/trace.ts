// The runtime's own account of a request: where its time goes between "HTTP parsed" and
// "response written", step by step, from the opt-in trace of scripts/local/request-trace.ts
// (LOCAL_RUNTIME_TRACE), read back after each run. Beside the per-thread CPU (per-request.ts)
// it says which step a millisecond belongs to; the trace stays off in every other phase.
import { readFileSync } from "node:fs";
import { type TraceRecord, type TraceStep, traceSteps } from "../local/request-trace.ts";
import { endpointRequest, endpoints } from "./endpoints.ts";
import { runLoad } from "./load.ts";
import { median, round } from "./stats.ts";

/** What happens in the interval that ends at each step (the first step starts the clock). */
export const stepLabels: Record<Exclude<TraceStep, "received">, string> = {
  // Includes the end of the HTTP parser's turn: pages and routing run after an await.
  routed: "end of HTTP parsing, routing",
  authorized: "the authorizer (bearer token checked, claims)",
  "body read": "request body read",
  "event built": "event building (headers, query, context)",
  "event serialized": "event JSON.stringify",
  "instance acquired": "waiting for a free instance (queue)",
  "instance received": "event postMessage and hop to the instance",
  "event parsed": "event JSON.parse in the instance",
  "handler returned": "the handler (Middy, validation, DynamoDB call)",
  "result serialized": "result JSON.stringify",
  "result received": "result postMessage and hop back",
  "result mapped": "result mapping (headers, body)",
  "response written": "response headers and socket write",
  logged: "request log line (after the response)",
};

export interface TraceStepFigures {
  step: Exclude<TraceStep, "received">;
  meanMs: number;
  p50Ms: number;
}

export interface TraceAccount {
  endpoint: string;
  concurrency: number;
  requests: number;
  steps: TraceStepFigures[];
  /** Mean "received" to "response written": what the runtime adds, the handler included. */
  totalMs: number;
  /** The same without the handler and the wait for an instance: the runtime's own path. */
  runtimeMs: number;
}

/** The trace file's records from line `from` on (earlier runs' lines are skipped). */
export function readTrace(file: string, from: number): { records: TraceRecord[]; lines: number } {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return { records: [], lines: from };
  }
  const lines = text.split("\n").filter(Boolean);
  return {
    records: lines.slice(from).map((line) => JSON.parse(line) as TraceRecord),
    lines: lines.length,
  };
}

/** Time that is not the runtime's own work: the function's, and queueing for an instance. */
const notRuntime = new Set<TraceStep>(["handler returned", "instance acquired"]);

export function traceAccount(
  records: TraceRecord[],
  endpoint: string,
  concurrency: number,
): TraceAccount {
  const complete = records.filter((record) => traceSteps.every((step) => step in record.at));
  const steps = traceSteps.slice(1).map((step, index) => {
    const previous = traceSteps[index] as TraceStep;
    const durations = complete.map(
      (record) => (record.at[step] as number) - (record.at[previous] as number),
    );
    const mean = durations.reduce((sum, ms) => sum + ms, 0) / Math.max(1, durations.length);
    return {
      step: step as Exclude<TraceStep, "received">,
      meanMs: round(mean, 3),
      p50Ms: round(median(durations), 3),
    };
  });
  const answered = steps.filter((figures) => figures.step !== "logged");
  const total = answered.reduce((sum, figures) => sum + figures.meanMs, 0);
  const elsewhere = answered
    .filter((figures) => notRuntime.has(figures.step))
    .reduce((sum, figures) => sum + figures.meanMs, 0);
  return {
    endpoint,
    concurrency,
    requests: complete.length,
    steps,
    totalMs: round(total, 3),
    runtimeMs: round(total - elsewhere, 3),
  };
}

/** The flush interval of request-trace.ts, and a margin. */
const flushWaitMs = 400;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Each endpoint at each concurrency against a runtime started with LOCAL_RUNTIME_TRACE=
 * traceFile: the trace lines each run added, summed up step by step.
 */
export async function measureTrace(options: {
  runtimeUrl: string;
  /** A signed-in client's headers (Authorization), as every runtime request carries. */
  headers: Record<string, string>;
  traceFile: string;
  todoId: string;
  concurrencies: number[];
  durationS: number;
  /** Seconds of load per endpoint at the highest concurrency first, as per-request.ts warms up. */
  warmUpS: number;
  log: (message: string) => void;
}): Promise<TraceAccount[]> {
  const { runtimeUrl, headers, traceFile, todoId, concurrencies, durationS, warmUpS, log } =
    options;
  const accounts: TraceAccount[] = [];
  for (const endpoint of endpoints) {
    await runLoad({
      ...endpointRequest(runtimeUrl, endpoint, todoId, headers),
      connections: Math.max(...concurrencies),
      durationS: warmUpS,
    });
  }
  for (const endpoint of endpoints) {
    for (const concurrency of concurrencies) {
      const load = {
        ...endpointRequest(runtimeUrl, endpoint, todoId, headers),
        connections: concurrency,
      };
      await runLoad({ ...load, amount: Math.max(200, concurrency * 50) });
      await pause(flushWaitMs);
      const from = readTrace(traceFile, 0).lines;
      await runLoad({ ...load, durationS });
      await pause(flushWaitMs);
      const account = traceAccount(readTrace(traceFile, from).records, endpoint.key, concurrency);
      accounts.push(account);
      log(
        `  ${endpoint.label.padEnd(20)} c=${String(concurrency).padEnd(3)} ${account.requests} requests: received → response written ${account.totalMs.toFixed(3)} ms, of which the runtime's own steps ${account.runtimeMs.toFixed(3)} ms`,
      );
    }
  }
  return accounts;
}
