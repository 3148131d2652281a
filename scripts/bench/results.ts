// The shape of bench/results/latest.json, and the targets of the issue checked against it.
import type { ColdStartFigures } from "./cold-start.ts";
import { endpoints } from "./endpoints.ts";
import type { MemorySample } from "./memory.ts";
import type { PerRequestFigures, TargetName } from "./per-request.ts";
import type { OperationCount } from "./request-count.ts";
import type { SamLocalAnchor } from "./sam-local.ts";
import type { ScaleFigures } from "./scale.ts";
import { type RunFigures, round } from "./stats.ts";
import type { ThreadHopFigures } from "./thread-hop.ts";
import type { TraceAccount } from "./trace.ts";

export interface Machine {
  cpuModel: string;
  cores: number;
  node: string;
  platform: string;
  /** 1-minute load average at the start and end: other work on the machine shows here. */
  loadAverage: { start: number; end: number };
}

export interface BenchResults {
  mode: "full" | "smoke";
  date: string;
  command: string;
  machine: Machine;
  durationS: number;
  phasesS: Record<string, number>;
  coldStart: {
    rounds: number;
    /** NODE_OPTIONS the imports ran with (the template's, as Lambda would pass it). */
    nodeOptions: string;
    artifacts: ColdStartFigures[];
  };
  perRequest: {
    durationS: number;
    rounds: number;
    concurrencies: number[];
    targets: Record<TargetName, string>;
    runs: PerRequestFigures[];
  };
  /** The runtime's own account of a request, step by step (absent in older results). */
  trace?: {
    durationS: number;
    accounts: TraceAccount[];
    /** A bare MessagePort round trip between two threads: the floor under the two hops. */
    threadHop: { busy: ThreadHopFigures; afterIdle: ThreadHopFigures };
  };
  dynamoDbRequests: OperationCount[];
  scale: { sizes: number[]; loadSeconds: Record<string, number>; runs: ScaleFigures[] };
  memory: {
    concurrency: number;
    requestsPerSecond: number;
    failures: number;
    stoppedEarly: boolean;
    /** The first sample at or after this many requests is the warm baseline. */
    warmUpRequests: number;
    /** The process's high-water mark (VmHWM) at the end of the phase. */
    peakRssMb: number;
    samples: MemorySample[];
  };
  /**
   * A reported anchor, not a target: the real `sam local start-api`'s per-request latency
   * beside npm start's, measured by the sam local harness (absent in older results).
   */
  samLocal?: SamLocalAnchor;
  targets: TargetCheck[];
}

export type Verdict = "met" | "MISSED" | "VOID";

export interface TargetCheck {
  id: string;
  target: string;
  /** VOID: a run it depends on failed (no or too many non-2xx answers), so it proves nothing. */
  verdict: Verdict;
  /** The figures behind the verdict, in words. */
  figures: string;
}

const pct = (ratio: number) => `${round(ratio * 100, 1)}%`;

/** A run that answered nothing, or failed more than 1 in 100, measures a failure. */
const broken = (run: RunFigures) => run.requests === 0 || run.failures > run.requests / 100;

function verdict(met: boolean, runs: RunFigures[] = []): Verdict {
  if (runs.some(broken)) return "VOID";
  return met ? "met" : "MISSED";
}

export function checkTargets(results: Omit<BenchResults, "targets">): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const artifact = (name: string) => results.coldStart.artifacts.find((a) => a.name === name);
  const product = artifact("product");
  const bare = artifact("document-client");
  if (product && bare) {
    const extraMs = round(product.initMs - bare.initMs);
    checks.push({
      id: "cold-start-init",
      target: "initialisation ≤ bare DocumentClient baseline + 10 ms",
      verdict: verdict(extraMs <= 10),
      figures: `product ${product.initMs} ms, bare client ${bare.initMs} ms: ${extraMs >= 0 ? "+" : ""}${extraMs} ms (CPU time: ${product.cpuMs} vs ${bare.cpuMs} ms)`,
    });
    const ratio = product.bytes / bare.bytes;
    checks.push({
      id: "cold-start-bundle",
      target: "bundle ≤ bare DocumentClient baseline + 15%",
      verdict: verdict(ratio <= 1.15),
      figures: `product ${round(product.bytes / 1024, 1)} KiB, bare client ${round(bare.bytes / 1024, 1)} KiB: +${pct(ratio - 1)}`,
    });
  }
  // Every endpoint at every concurrency: the runtime (each function in its own instance
  // thread) against (b), the plain server making the same DynamoDB call, and ahead of (c).
  for (const endpoint of endpoints) {
    for (const concurrency of results.perRequest.concurrencies) {
      const run = (target: TargetName) =>
        results.perRequest.runs.find(
          (r) =>
            r.target === target && r.endpoint === endpoint.key && r.concurrency === concurrency,
        );
      const runtime = run("runtime");
      const plain = run("plain");
      const offline = run("serverless-offline");
      const floor = run("isolation-floor");
      if (runtime && plain) {
        const ratio = runtime.requestsPerSecond / plain.requestsPerSecond;
        // The floor says how much of the gap any runtime keeping the isolation would have.
        const floorFigure = floor
          ? `; isolation floor (d) ${floor.requestsPerSecond} req/s: ${pct(floor.requestsPerSecond / plain.requestsPerSecond)}`
          : "";
        checks.push({
          id: `${endpoint.key}-vs-plain-c${concurrency}`,
          target: `${endpoint.label} at c=${concurrency}: runtime ≥ 80% of plain node:http (b)`,
          verdict: verdict(ratio >= 0.8, [runtime, plain]),
          figures: `runtime ${runtime.requestsPerSecond} req/s, plain ${plain.requestsPerSecond} req/s: ${pct(ratio)}${floorFigure}`,
        });
      }
      if (runtime && offline) {
        const ratio = runtime.requestsPerSecond / offline.requestsPerSecond;
        checks.push({
          id: `${endpoint.key}-vs-serverless-offline-c${concurrency}`,
          target: `${endpoint.label} at c=${concurrency}: runtime ahead of serverless-offline (c)`,
          verdict: verdict(ratio > 1, [runtime, offline]),
          figures: `runtime ${runtime.requestsPerSecond} req/s, serverless-offline ${offline.requestsPerSecond} req/s: ${round(ratio, 2)}×`,
        });
      }
    }
  }
  const wrong = results.dynamoDbRequests.filter((count) => count.requests !== count.expected);
  checks.push({
    id: "dynamodb-requests",
    target: "one DynamoDB request per operation (3 for POST with Idempotency-Key)",
    verdict: verdict(wrong.length === 0 && results.dynamoDbRequests.length > 0),
    figures:
      wrong.length === 0
        ? results.dynamoDbRequests.map((count) => `${count.operation} ${count.requests}`).join(", ")
        : wrong
            .map((count) => `${count.operation}: ${count.requests} (${count.commands.join(", ")})`)
            .join("; "),
  });
  const [smallest, largest] = [Math.min(...results.scale.sizes), Math.max(...results.scale.sizes)];
  for (const query of new Set(results.scale.runs.map((run) => run.query))) {
    const small = results.scale.runs.find((r) => r.query === query && r.storedTodos === smallest);
    const large = results.scale.runs.find((r) => r.query === query && r.storedTodos === largest);
    if (!small || !large) continue;
    const ratio = large.p50Ms / small.p50Ms;
    checks.push({
      id: `scale-${query}`,
      target: `list (${query}): p50 at ${largest} todos ≤ 1.5× p50 at ${smallest}`,
      verdict: verdict(ratio <= 1.5, [small, large]),
      figures: `p50 ${small.p50Ms} ms at ${smallest}, ${large.p50Ms} ms at ${largest}: ${round(ratio, 2)}×`,
    });
  }
  // Memory is judged after warm-up: V8 and malloc fill up over the first requests, and only
  // what grows after that is growth per request.
  const { samples, warmUpRequests, peakRssMb } = results.memory;
  const warm = samples.find((sample) => sample.requests >= warmUpRequests);
  const last = samples.at(-1);
  const memoryVoid = results.memory.failures > (last?.requests ?? 0) / 100;
  if (warm && last && last !== warm) {
    const ratio = last.rssMb / warm.rssMb;
    checks.push({
      id: "memory-after-warm-up",
      target: `runtime RSS after ${last.requests} requests within 5% of after ${warm.requests}${results.memory.stoppedEarly ? " (time cap reached before the full count)" : ""}`,
      verdict: memoryVoid ? "VOID" : verdict(ratio <= 1.05),
      figures: `${warm.rssMb} MB after ${warm.requests}, ${last.rssMb} MB after ${last.requests}: ${ratio >= 1 ? "+" : ""}${pct(ratio - 1)}`,
    });
  }
  if (last) {
    checks.push({
      id: "memory-peak",
      target: "peak RSS of npm start under load ≤ 256 MB",
      verdict: memoryVoid ? "VOID" : verdict(peakRssMb <= 256),
      figures: `peak ${peakRssMb} MB (the kernel's high-water mark of the process, instances included, over ${last.requests} requests)`,
    });
  }
  return checks;
}
