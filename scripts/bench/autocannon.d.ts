// autocannon ships no types; this is the part of its programmatic API the benchmark uses.
declare module "autocannon" {
  import type { EventEmitter } from "node:events";

  interface AutocannonOptions {
    url: string;
    method?: string;
    body?: string;
    headers?: Record<string, string>;
    connections?: number;
    pipelining?: number;
    /** Seconds. */
    duration?: number;
    /** Stop after this many requests (instead of duration). */
    amount?: number;
    timeout?: number;
    /** Requests each connection sends in turn, instead of the one above. */
    requests?: Array<{
      method: string;
      path: string;
      body?: string;
      headers?: Record<string, string>;
    }>;
  }

  interface AutocannonResult {
    errors: number;
    timeouts: number;
    non2xx: number;
    duration: number;
    requests: { average: number; total: number };
    latency: { p50: number; p99: number; average: number };
  }

  interface AutocannonInstance extends EventEmitter {
    on(
      event: "response",
      listener: (
        client: unknown,
        statusCode: number,
        bytes: number,
        responseTimeMs: number,
      ) => void,
    ): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
    stop(): void;
  }

  function autocannon(
    options: AutocannonOptions,
    callback: (error: Error | null, result: AutocannonResult) => void,
  ): AutocannonInstance;
  export = autocannon;
}
