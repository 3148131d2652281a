// HTTP load with autocannon. Latencies are taken from autocannon's per-response event at full
// precision (its own histogram keeps whole milliseconds, too coarse for sub-millisecond answers).
import autocannon from "autocannon";
import type { RawRun } from "./stats.ts";

export interface LoadOptions {
  url: string;
  method: string;
  body?: string | undefined;
  headers?: Record<string, string>;
  connections: number;
  /** Seconds; or `amount`. */
  durationS?: number;
  amount?: number;
  /** Requests each connection sends in turn (paths relative to url), instead of one. */
  requests?: Parameters<typeof autocannon>[0]["requests"];
  /** Which statuses count as answers; by default any 2xx. */
  accept?: (status: number) => boolean;
}

export function runLoad(options: LoadOptions): Promise<RawRun> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let failures = 0;
    const started = performance.now();
    const instance = autocannon(
      {
        url: options.url,
        method: options.method,
        ...(options.body === undefined ? {} : { body: options.body }),
        headers: options.headers ?? {},
        connections: options.connections,
        pipelining: 1,
        timeout: 10,
        ...(options.requests ? { requests: options.requests } : {}),
        ...(options.amount === undefined
          ? { duration: options.durationS ?? 5 }
          : { amount: options.amount }),
      },
      (error, result) => {
        if (error) {
          reject(error);
          return;
        }
        failures += result.errors + result.timeouts;
        resolve({
          latenciesMs: latencies,
          failures,
          durationS: (performance.now() - started) / 1000,
        });
      },
    );
    instance.on("response", (_client, statusCode, _bytes, responseTimeMs) => {
      const answered = options.accept
        ? options.accept(statusCode)
        : statusCode >= 200 && statusCode < 300;
      if (answered) latencies.push(responseTimeMs);
      else failures++;
    });
  });
}
