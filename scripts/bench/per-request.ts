// Per request: each endpoint, at each concurrency, against the local runtime and the
// baselines, in turns (endpoint by endpoint, target by target), so drift hits all alike.
import { cpuByRole, type ThreadRole, threadCpuMs } from "./children.ts";
import { type Endpoint, endpointRequest, endpoints } from "./endpoints.ts";
import { restEvent } from "./events.ts";
import { runLoad } from "./load.ts";
import type { InProcessInvoker } from "./servers.ts";
import { pooledFigures, type RawRun, type RunFigures, round } from "./stats.ts";

const warmUpRequestsPerConnection = 4;

export type TargetName =
  | "runtime"
  | "in-process"
  | "plain"
  | "serverless-offline"
  | "isolation-floor";

export const targetLabels: Record<TargetName, string> = {
  runtime: "local runtime (npm start)",
  "in-process": "(a) handler in-process",
  plain: "(b) plain node:http",
  "serverless-offline": "(c) serverless-offline",
  "isolation-floor": "(d) isolation floor",
};

/** Each target's process (its pid), whose threads' CPU is accounted per request. */
export type Target =
  /** headers: what every request carries (the runtime's: a signed-in client's token). */
  | { name: TargetName; pid: number; url: string; headers?: Record<string, string> }
  | { name: TargetName; pid: number; invoker: InProcessInvoker };

/** Where the CPU of a request goes: the target's threads by role, and the shared DynamoDB. */
export type CpuAccount = Partial<Record<ThreadRole | "dynalite", number>>;

export interface PerRequestFigures extends RunFigures {
  target: TargetName;
  endpoint: string;
  concurrency: number;
  /** CPU milliseconds per answered request, by thread role (from /proc, over the measured runs). */
  cpuMsPerRequest: CpuAccount;
}

/** Runs one measurement while the kernel counts the CPU of the target and of dynalite. */
async function measureWithCpu(
  run: () => Promise<RawRun>,
  pids: { target: number; dynalite: number },
): Promise<{ raw: RawRun; cpuMs: CpuAccount }> {
  const before = { target: threadCpuMs(pids.target), dynalite: threadCpuMs(pids.dynalite) };
  const raw = await run();
  const cpuMs: CpuAccount = cpuByRole(before.target, threadCpuMs(pids.target));
  const dynalite = cpuByRole(before.dynalite, threadCpuMs(pids.dynalite));
  cpuMs.dynalite = Object.values(dynalite).reduce((sum, ms) => sum + ms, 0);
  return { raw, cpuMs };
}

function perRequest(totals: CpuAccount, requests: number): CpuAccount {
  return Object.fromEntries(
    Object.entries(totals).map(([role, ms]) => [role, requests ? round(ms / requests, 3) : 0]),
  );
}

function measure(
  target: Target,
  endpoint: Endpoint,
  todoId: string,
  concurrency: number,
  durationS: number,
): Promise<RawRun> {
  const path = endpoint.path(todoId);
  if ("invoker" in target) {
    const event = restEvent({ method: endpoint.method, rawUrl: path, body: endpoint.body });
    return target.invoker.run(event, concurrency, durationS * 1000);
  }
  return runLoad({
    ...endpointRequest(target.url, endpoint, todoId, target.headers),
    connections: concurrency,
    durationS,
  });
}

export async function measurePerRequest(options: {
  targets: Target[];
  todoId: string;
  /** The shared DynamoDB's process: its CPU per request is part of every target's account. */
  dynalitePid: number;
  concurrencies: number[];
  /** Seconds per target and figure, split over `rounds` turns. */
  durationS: number;
  rounds: number;
  warmUpS: number;
  log: (message: string) => void;
}): Promise<PerRequestFigures[]> {
  const { targets, todoId, dynalitePid, concurrencies, durationS, rounds, warmUpS, log } = options;
  const maxConcurrency = Math.max(...concurrencies);
  // Warm every instance pool up to the highest concurrency first (no cold start is measured):
  // a number of requests, not a time, and ramped (1, 2, 4… connections), since an emulator that
  // starts many instances at once on a busy machine times them out (serverless-offline does).
  for (const target of targets) {
    for (const [index, endpoint] of endpoints.entries()) {
      if ("invoker" in target) {
        await measure(target, endpoint, todoId, maxConcurrency, warmUpS);
        continue;
      }
      // The instances are the function's, shared by every route: ramp once, with the first
      // endpoint; the others only need their code paths warm.
      let failures = 0;
      for (let connections = index === 0 ? 1 : maxConcurrency; ; connections *= 2) {
        connections = Math.min(connections, maxConcurrency);
        for (let pass = 0; pass < 3; pass++) {
          const warm = await runLoad({
            ...endpointRequest(target.url, endpoint, todoId, target.headers),
            connections,
            amount: connections * warmUpRequestsPerConnection,
          });
          failures = warm.failures;
          if (failures === 0) break;
        }
        if (connections === maxConcurrency) break;
      }
      // Then as long as the in-process baseline warms up: V8 compiles the handler and the SDK
      // for each isolate, so each instance of the runtime's needs its own thousand or so
      // requests before its code is optimised (measured: instance threads 1.47 ms of CPU per
      // request over their first 1,000 requests at c=16, 0.95 from 2,000 on; V8's helper
      // thread, compiling, 0.36 -> 0.11 ms). Without it the first figures measure the JIT.
      await runLoad({
        ...endpointRequest(target.url, endpoint, todoId, target.headers),
        connections: maxConcurrency,
        durationS: warmUpS,
      });
      if (failures > 0) {
        // Not a broken benchmark: the measured runs will show the failures (and void the
        // comparisons that rest on them).
        log(`  warning: ${targetLabels[target.name]} still fails ${endpoint.label} after warm-up`);
      }
    }
  }
  const results: PerRequestFigures[] = [];
  for (const endpoint of endpoints) {
    for (const concurrency of concurrencies) {
      const raw = new Map<TargetName, RawRun[]>(targets.map((target) => [target.name, []]));
      const cpu = new Map<TargetName, CpuAccount>(targets.map((target) => [target.name, {}]));
      for (let turn = 0; turn < rounds; turn++) {
        for (const target of targets) {
          const measured = await measureWithCpu(
            () => measure(target, endpoint, todoId, concurrency, durationS / rounds),
            { target: target.pid, dynalite: dynalitePid },
          );
          raw.get(target.name)?.push(measured.raw);
          const totals = cpu.get(target.name) ?? {};
          for (const [role, ms] of Object.entries(measured.cpuMs)) {
            totals[role as keyof CpuAccount] = (totals[role as keyof CpuAccount] ?? 0) + ms;
          }
        }
      }
      for (const target of targets) {
        const figures = pooledFigures(raw.get(target.name) ?? []);
        const cpuMsPerRequest = perRequest(cpu.get(target.name) ?? {}, figures.requests);
        log(
          `  ${endpoint.label.padEnd(20)} c=${String(concurrency).padEnd(3)} ${targetLabels[target.name].padEnd(28)} ${figures.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${figures.p50Ms.toFixed(2)} ms  p99 ${figures.p99Ms.toFixed(2)} ms${figures.failures ? `  (${figures.failures} failed)` : ""}`,
        );
        results.push({
          target: target.name,
          endpoint: endpoint.key,
          concurrency,
          ...figures,
          cpuMsPerRequest,
        });
      }
    }
  }
  return results;
}
