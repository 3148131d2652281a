// Small statistics over raw samples (milliseconds), kept with full precision.

export function percentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] as number;
}

export const median = (samples: readonly number[]) => percentile(samples, 0.5);

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Latency summary of one measured run. */
export interface RunFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers that counted (2xx). */
  requests: number;
  /** Answers outside 2xx, and transport errors: non-zero means the run measured a failure. */
  failures: number;
  durationS: number;
}

export function figuresOf(latenciesMs: number[], failures: number, durationS: number): RunFigures {
  return {
    requestsPerSecond: round(latenciesMs.length / durationS, 1),
    p50Ms: round(median(latenciesMs), 3),
    p99Ms: round(percentile(latenciesMs, 0.99), 3),
    requests: latenciesMs.length,
    failures,
    durationS: round(durationS, 2),
  };
}

/** What one run measured, raw: runs in turns are pooled before figures are taken. */
export interface RawRun {
  latenciesMs: number[];
  failures: number;
  durationS: number;
}

export function pooledFigures(runs: RawRun[]): RunFigures {
  return figuresOf(
    runs.flatMap((run) => run.latenciesMs),
    runs.reduce((sum, run) => sum + run.failures, 0),
    runs.reduce((sum, run) => sum + run.durationS, 0),
  );
}
