// One seed per test file, printed, and replayable: FC_SEED=<seed> (and FC_PATH=<path> from a
// failure report) reruns exactly the failing case. Every property is bounded in cases and time.
import fc from "fast-check";
import { figures } from "./figures.ts";

export const seed = process.env.FC_SEED
  ? Number(process.env.FC_SEED)
  : Math.floor(Math.random() * 2 ** 31);
figures.seeds.push(seed);

/** Multiplies every numRuns (FC_RUNS_FACTOR=10 for a long soak, 0.1 for a quick look). */
const factor = Number(process.env.FC_RUNS_FACTOR ?? 1);
/** Multiplies every time limit (FC_TIME_FACTOR=10 with FC_RUNS_FACTOR=10 for a soak). */
const timeFactor = Number(process.env.FC_TIME_FACTOR ?? 1);

export function runParameters(numRuns: number, timeLimitMs: number): fc.Parameters<unknown> {
  return {
    seed,
    ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}),
    numRuns: Math.max(1, Math.round(numRuns * factor)),
    interruptAfterTimeLimit: Math.round(timeLimitMs * timeFactor),
    markInterruptAsFailure: false,
    endOnFailure: true,
  };
}

/** Runs a property and returns how many cases ran, failing with the seed in the message. */
export async function check<T>(
  property: fc.IAsyncProperty<T>,
  numRuns: number,
  timeLimitMs: number,
): Promise<number> {
  const details = await fc.check(property, runParameters(numRuns, timeLimitMs));
  if (details.failed) {
    throw new Error(
      `${truncate(fc.defaultReportMessage(details) ?? "property failed")}\n` +
        `replay: FC_SEED=${seed} FC_PATH=${details.counterexamplePath ?? ""} npm run test:robustness`,
    );
  }
  return details.numRuns;
}

/** Counterexamples can be 200 KB bodies: keep the report readable. */
function truncate(text: string, max = 3000): string {
  return text.length <= max
    ? text
    : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
