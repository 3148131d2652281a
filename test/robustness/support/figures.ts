// The suite's figures: cases generated, inputs tried per class, 5xx seen, writes lost and the
// slowest 503 under each fault. Each test file adds its own; every file prints its figures in
// afterAll, and the last file of a run prints the total over all of them.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

export interface Figures {
  /** Property cases run (each is one generated input or command sequence). */
  cases: number;
  /** Inputs tried, by class of input. */
  inputsByClass: Record<string, number>;
  /** Answers checked for status, exposure and security headers. */
  answers: number;
  /** Answers with a 5xx status that the test did not provoke on purpose (faults). */
  serverErrors: number;
  serverErrorSamples: string[];
  /** Writes acknowledged with a 2xx and missing or different afterwards. */
  lostWrites: number;
  /** Milliseconds, the slowest 503 answer under each kind of database fault. */
  slowest503ByFault: Record<string, number>;
  /** Answers that leaked internals or lacked a security header. */
  exposures: number;
  seeds: number[];
}

export const figures: Figures = {
  cases: 0,
  inputsByClass: {},
  answers: 0,
  serverErrors: 0,
  serverErrorSamples: [],
  lostWrites: 0,
  slowest503ByFault: {},
  exposures: 0,
  seeds: [],
};

export function countInput(inputClass: string, count = 1): void {
  figures.inputsByClass[inputClass] = (figures.inputsByClass[inputClass] ?? 0) + count;
}

export function countCase(): void {
  figures.cases++;
}

export function record503(fault: string, elapsedMs: number): void {
  figures.slowest503ByFault[fault] = Math.max(figures.slowest503ByFault[fault] ?? 0, elapsedMs);
}

const testDir = new URL("../", import.meta.url).pathname;
// One folder per vitest run: the test files run in child processes of the same vitest process.
const runDir = join(tmpdir(), `todo-api-robustness-${process.ppid}`);

function merge(all: Figures[]): Figures {
  const total: Figures = {
    cases: 0,
    inputsByClass: {},
    answers: 0,
    serverErrors: 0,
    serverErrorSamples: [],
    lostWrites: 0,
    slowest503ByFault: {},
    exposures: 0,
    seeds: [],
  };
  for (const part of all) {
    total.cases += part.cases;
    total.answers += part.answers;
    total.serverErrors += part.serverErrors;
    total.serverErrorSamples.push(...part.serverErrorSamples);
    total.lostWrites += part.lostWrites;
    total.exposures += part.exposures;
    total.seeds.push(...part.seeds);
    for (const [name, count] of Object.entries(part.inputsByClass)) {
      total.inputsByClass[name] = (total.inputsByClass[name] ?? 0) + count;
    }
    for (const [fault, ms] of Object.entries(part.slowest503ByFault)) {
      total.slowest503ByFault[fault] = Math.max(total.slowest503ByFault[fault] ?? 0, ms);
    }
  }
  total.seeds = [...new Set(total.seeds)];
  return total;
}

export function formatFigures(title: string, f: Figures): string {
  const classes = Object.entries(f.inputsByClass).sort(([a], [b]) => a.localeCompare(b));
  const width = Math.max(10, ...classes.map(([name]) => name.length));
  const lines = [
    `── ${title} ──`,
    `  property cases generated   ${f.cases}`,
    `  answers checked            ${f.answers}`,
    `  5xx seen (must be 0)       ${f.serverErrors}${f.serverErrorSamples.length ? `  e.g. ${f.serverErrorSamples.slice(0, 3).join(" | ")}` : ""}`,
    `  writes lost (must be 0)    ${f.lostWrites}`,
    `  exposures (must be 0)      ${f.exposures}`,
  ];
  if (classes.length) {
    lines.push("  inputs tried per class:");
    for (const [name, count] of classes) lines.push(`    ${name.padEnd(width)}  ${count}`);
  }
  const faults = Object.entries(f.slowest503ByFault);
  if (faults.length) {
    lines.push("  slowest 503 per database fault:");
    for (const [fault, ms] of faults)
      lines.push(`    ${fault.padEnd(width)}  ${Math.round(ms)} ms`);
  }
  if (f.seeds.length)
    lines.push(`  fast-check seed(s): ${f.seeds.join(", ")}  (replay: FC_SEED=<seed>)`);
  return lines.join("\n");
}

/** Folders of earlier runs whose vitest process is gone (a run of a few files never completes one). */
function removeStaleRunDirs(): void {
  for (const entry of readdirSync(tmpdir())) {
    const pid = Number(/^todo-api-robustness-(\d+)$/.exec(entry)?.[1]);
    if (!pid || pid === process.ppid) continue;
    try {
      process.kill(pid, 0); // signal 0: only asks whether the process exists
    } catch {
      rmSync(join(tmpdir(), entry), { recursive: true, force: true });
    }
  }
}

/** Prints this file's figures; the last file of the run also prints the total. */
export function reportFigures(testFile: string): void {
  const name = basename(testFile);
  console.log(formatFigures(`robustness figures: ${name}`, figures));
  try {
    removeStaleRunDirs();
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, `${name}.json`), JSON.stringify(figures));
    const expected = readdirSync(testDir).filter((file) => file.endsWith(".test.ts"));
    const reported = readdirSync(runDir).filter((file) => file.endsWith(".test.ts.json"));
    if (expected.every((file) => reported.includes(`${file}.json`))) {
      const all = reported.map(
        (file) => JSON.parse(readFileSync(join(runDir, file), "utf8")) as Figures,
      );
      console.log(formatFigures(`ROBUSTNESS SUMMARY (${all.length} files)`, merge(all)));
      rmSync(runDir, { recursive: true, force: true });
    }
  } catch (error) {
    console.log(`(could not aggregate the figures: ${(error as Error).message})`);
  }
}
