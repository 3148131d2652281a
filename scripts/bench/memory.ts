// Memory of the local runtime under load, read from outside (/proc): the runtime's process
// holds its Lambda instances as worker threads, so its RSS counts them; processes it started
// (the esbuild service) are reported beside it. Sampled after the first 1,000 requests, after
// 20,000 (warm-up done: the baseline), then in steps to 100,000, and the peak is the kernel's
// high-water mark. Half the requests read or write DynamoDB (GET /todos/{id}, GET
// /todos?limit=20, PUT /todos/{id}); the other half are answered by the function without it
// (a CORS preflight, a 400 for a malformed id, a 404 for an unknown path), which exercises the
// error paths too and lets 100,000 requests fit in the run's time budget on 2 cores.
import { peakRssMb, processTree, rssMb, threadCount } from "./children.ts";
import { endpoints, jsonHeaders } from "./endpoints.ts";
import { runLoad } from "./load.ts";
import { round } from "./stats.ts";

export interface MemorySample {
  requests: number;
  /** The runtime process (main thread and every instance thread), MB. */
  rssMb: number;
  /** Processes the runtime started (esbuild's service), MB. */
  childrenRssMb: number;
  threads: number;
}

export async function measureMemory(options: {
  runtimeUrl: string;
  /** A signed-in client's headers (the bench user's token). */
  runtimeHeaders: Record<string, string>;
  runtimePid: number;
  todoId: string;
  firstRequests: number;
  /** Requests after which V8 and malloc have warmed up: the baseline that later samples are judged against. */
  warmUpRequests: number;
  totalRequests: number;
  samples: number;
  concurrency: number;
  /** Stop sending after this long, whatever the count (the run has a time budget). */
  maxSeconds: number;
  log: (message: string) => void;
}): Promise<{
  samples: MemorySample[];
  failures: number;
  requestsPerSecond: number;
  /** True when maxSeconds ran out before totalRequests. */
  stoppedEarly: boolean;
  warmUpRequests: number;
  peakRssMb: number;
}> {
  const { runtimeUrl, runtimePid, todoId, firstRequests, warmUpRequests, totalRequests, log } =
    options;
  // Each connection sends these in turn: every answer is deliberate, so any status below 500
  // counts (a 5xx or a dropped connection is a failure).
  const mix = [
    ...endpoints
      .filter((endpoint) => endpoint.key !== "post")
      .map((endpoint) => ({
        method: endpoint.method,
        path: endpoint.path(todoId),
        ...(endpoint.body === undefined ? {} : { body: endpoint.body, headers: jsonHeaders }),
      })),
    {
      method: "OPTIONS",
      path: `/todos/${todoId}`,
      headers: { origin: "http://localhost:3000", "access-control-request-method": "PUT" },
    },
    { method: "GET", path: "/todos/not-an-id" },
    { method: "GET", path: "/nowhere" },
  ];
  const sample = async (requests: number): Promise<MemorySample> => {
    // Let requests in flight settle (not a GC: nothing is forced from outside).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const children = processTree(runtimePid).slice(1);
    const figures = {
      requests,
      rssMb: round(rssMb(runtimePid), 1),
      childrenRssMb: round(
        children.reduce((sum, pid) => {
          try {
            return sum + rssMb(pid);
          } catch {
            return sum;
          }
        }, 0),
        1,
      ),
      threads: threadCount(runtimePid),
    };
    log(
      `  after ${String(requests).padStart(7)} requests: runtime RSS ${figures.rssMb} MB (${figures.threads} threads), its child processes ${figures.childrenRssMb} MB`,
    );
    return figures;
  };

  const samples: MemorySample[] = [];
  let sent = 0;
  let failures = 0;
  let seconds = 0;
  const send = async (amount: number) => {
    const run = await runLoad({
      url: runtimeUrl,
      method: "GET",
      headers: options.runtimeHeaders,
      requests: mix,
      accept: (status) => status < 500,
      connections: options.concurrency,
      amount,
    });
    failures += run.failures;
    seconds += run.durationS;
    sent += amount;
  };
  // Sampled after the first requests (for the record), after the warm-up (the baseline), and
  // then in equal steps to the end.
  const step = Math.ceil((totalRequests - warmUpRequests) / options.samples);
  const sampleAt = [
    firstRequests,
    ...Array.from({ length: options.samples + 1 }, (_, index) =>
      Math.min(totalRequests, warmUpRequests + index * step),
    ),
  ].filter((count, index, all) => all.indexOf(count) === index);
  // Sent in chunks, so that the time cap is checked now and then.
  const chunk = 6000;
  const started = performance.now();
  let stoppedEarly = false;
  for (const target of sampleAt) {
    while (sent < target) {
      if ((performance.now() - started) / 1000 > options.maxSeconds) {
        stoppedEarly = true;
        break;
      }
      await send(Math.min(chunk, target - sent));
    }
    if (stoppedEarly) {
      log(`  stopped after ${options.maxSeconds} s, short of ${totalRequests} requests`);
      if (samples.at(-1)?.requests !== sent) samples.push(await sample(sent));
      break;
    }
    samples.push(await sample(sent));
  }
  const peak = round(peakRssMb(runtimePid), 1);
  log(`  peak RSS (high-water mark): ${peak} MB`);
  return {
    samples,
    failures,
    requestsPerSecond: round(sent / seconds, 1),
    stoppedEarly,
    warmUpRequests,
    peakRssMb: peak,
  };
}
