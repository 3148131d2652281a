// Cold start: how long a fresh Node process takes to import each built handler (Lambda's init
// phase runs exactly this import), and how big each bundle is. The three artifacts take turns
// in every round, so drift on a shared machine hits them alike.
import { spawn } from "node:child_process";
import { pathToFileURL } from "node:url";
import type { Artifact } from "./artifacts.ts";
import { median, round } from "./stats.ts";

export interface ColdStartFigures {
  name: string;
  bytes: number;
  sourceMapBytes: number;
  /** Median import time, ms. */
  initMs: number;
  /** Every sample, ms, in the order measured. */
  samplesMs: number[];
  /**
   * Median CPU time (user + system, all threads) of the import, ms: less disturbed than wall
   * time when other work shares the machine, so it corroborates initMs.
   */
  cpuMs: number;
  cpuSamplesMs: number[];
}

// Runs in the fresh process: imports the handler module and reports how long that took.
const probe = `
const cpuBefore = process.cpuUsage();
const started = performance.now();
const module = await import(process.env.BENCH_HANDLER_URL);
const initMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
if (typeof module[process.env.BENCH_HANDLER_EXPORT] !== "function") {
  throw new Error("the module exports no handler " + process.env.BENCH_HANDLER_EXPORT);
}
process.stdout.write(JSON.stringify({ initMs, cpuMs: (cpu.user + cpu.system) / 1000 }));
`;

interface ImportSample {
  initMs: number;
  cpuMs: number;
}

function importOnce(
  artifact: Artifact,
  environment: Record<string, string>,
): Promise<ImportSample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", probe], {
      cwd: artifact.dir,
      env: {
        ...environment,
        BENCH_HANDLER_URL: pathToFileURL(artifact.file).href,
        BENCH_HANDLER_EXPORT: artifact.handler.slice(artifact.handler.lastIndexOf(".") + 1),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (data: Buffer) => {
      stdout += data.toString();
    });
    child.stderr.on("data", (data: Buffer) => {
      stderr += data.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) {
        reject(new Error(`importing ${artifact.file} failed (exit ${code}):\n${stderr}`));
        return;
      }
      resolve(JSON.parse(stdout) as ImportSample);
    });
  });
}

/**
 * `environment` is what Lambda gives the function (the template's variables, the region,
 * and NODE_OPTIONS, which Node reads on its own).
 */
export async function measureColdStarts(
  artifacts: Artifact[],
  environment: Record<string, string>,
  rounds: number,
): Promise<ColdStartFigures[]> {
  const samples = new Map<string, ImportSample[]>(artifacts.map((artifact) => [artifact.name, []]));
  // One unmeasured import each: the first read of a file from disk is not a Lambda's cost.
  for (const artifact of artifacts) await importOnce(artifact, environment);
  for (let round = 0; round < rounds; round++) {
    for (const artifact of artifacts) {
      samples.get(artifact.name)?.push(await importOnce(artifact, environment));
    }
  }
  return artifacts.map((artifact) => {
    const measured = samples.get(artifact.name) ?? [];
    return {
      name: artifact.name,
      bytes: artifact.bytes,
      sourceMapBytes: artifact.sourceMapBytes,
      initMs: round(median(measured.map((sample) => sample.initMs))),
      samplesMs: measured.map((sample) => round(sample.initMs, 3)),
      cpuMs: round(median(measured.map((sample) => sample.cpuMs))),
      cpuSamplesMs: measured.map((sample) => round(sample.cpuMs, 3)),
    };
  });
}
