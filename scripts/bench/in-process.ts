// Baseline (a): the built handler invoked directly in this process with the events the
// runtime would send (no HTTP, no worker, no queue). The parent sends runs over IPC; each run
// keeps `concurrency` invocations in flight for its duration and answers with its raw latencies.
import { pathToFileURL } from "node:url";
import { lambdaContext } from "./events.ts";
import type { RawRun } from "./stats.ts";

export interface InProcessRun {
  type: "run";
  /** JSON of the API Gateway event, parsed afresh for each invocation as the runtime does. */
  event: string;
  concurrency: number;
  durationMs: number;
}

type Handler = (event: unknown, context: object) => Promise<{ statusCode: number }>;

const module = (await import(pathToFileURL(process.env.BENCH_HANDLER_FILE as string).href)) as {
  handler: Handler;
};

async function run({ event, concurrency, durationMs }: InProcessRun): Promise<RawRun> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const loop = async () => {
    while (performance.now() < deadline) {
      const begun = performance.now();
      try {
        const result = await module.handler(JSON.parse(event), lambdaContext);
        JSON.stringify(result);
        if (result.statusCode >= 200 && result.statusCode < 300) {
          latencies.push(performance.now() - begun);
        } else failures++;
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { latenciesMs: latencies, failures, durationS: (performance.now() - started) / 1000 };
}

process.on("message", (message: InProcessRun) => {
  if (message.type !== "run") return;
  void run(message).then((raw) => process.send?.({ type: "run", run: raw }));
});
console.log("in-process invoker ready");
