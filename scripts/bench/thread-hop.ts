// The floor under two of the runtime's steps: a bare round trip between two threads of one
// process over a MessagePort (a 2 KB string there, a short one back), the way the server's
// thread hands an event to an instance and gets its result. Measured here because its cost is
// the machine's (waking a sleeping thread on another core), not the runtime's.
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { median, round } from "./stats.ts";

export interface ThreadHopFigures {
  roundTrips: number;
  /** Median milliseconds from postMessage to the answer's arrival. */
  p50Ms: number;
  meanMs: number;
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  port.on("message", (message: string) => port.postMessage(`${message.length}`));
}

/**
 * `idleMs` apart: a thread that has slept a while (as an instance does between requests,
 * or while its DynamoDB call is out) takes longer to wake than one that just went idle.
 */
export async function measureThreadHop(
  roundTrips: number,
  idleMs: number,
): Promise<ThreadHopFigures> {
  const worker = new Worker(new URL(import.meta.url));
  const event = "x".repeat(2048);
  const times: number[] = [];
  try {
    await new Promise<void>((resolve) => worker.once("online", () => resolve()));
    for (let index = 0; index < roundTrips; index++) {
      if (idleMs > 0) await new Promise((resolve) => setTimeout(resolve, idleMs));
      const started = performance.now();
      await new Promise<void>((resolve) => {
        worker.once("message", () => resolve());
        worker.postMessage(event);
      });
      times.push(performance.now() - started);
    }
  } finally {
    await worker.terminate();
  }
  // The first tenth warms both threads up.
  const measured = times.slice(Math.floor(roundTrips / 10));
  return {
    roundTrips: measured.length,
    p50Ms: round(median(measured), 3),
    meanMs: round(measured.reduce((sum, ms) => sum + ms, 0) / measured.length, 3),
  };
}
