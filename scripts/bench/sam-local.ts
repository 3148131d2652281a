// A reported anchor (issue #14), never a target: the per-request latency of the real
// `sam local start-api`, a container per request by default and warm with
// `--warm-containers EAGER`, beside npm start, as the sam local harness measures it
// (npm run test:sam-local -- --latency: podman in a network namespace of its own). The bench
// runs that harness as it is and keeps its figures. Without podman or the SAM CLI, or when the
// harness fails, it records why and goes on: the anchor is not worth a broken benchmark.
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { repoRoot, scratchDir } from "./artifacts.ts";

/** What the harness writes to SAM_LATENCY_JSON (test/sam-local/latency.ts). */
export interface SamLatencyFigures {
  endpoint: string;
  /** Sequential requests measured per server, after one warm-up request. */
  requests: number;
  /** In the order measured: sam local (default), sam local --warm-containers EAGER, npm start. */
  servers: { name: string; minMs: number; p50Ms: number; p90Ms: number; maxMs: number }[];
}

export type SamLocalAnchor =
  | ({ status: "measured" } & SamLatencyFigures)
  | { status: "not measured" | "skipped"; reason: string };

const harness = join(repoRoot, "test/sam-local/run.sh");
const samCli = join(repoRoot, ".venv/bin/sam");

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(command: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && (await executable(join(dir, command)))) return true;
  }
  return false;
}

/**
 * The first lines that say what went wrong: the harness's own messages ("sam-local: …") or a
 * thrown Error, with what follows them (a sam log's tail), stack frames left out; else the
 * last lines it wrote.
 */
export function harnessError(stderr: string, exit: string): string {
  const lines = stderr
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line && !/^\s+at /.test(line) && !/^Node\.js v/.test(line));
  const first = lines.findIndex((line) => /^sam-local: |^\w*Error\b/.test(line));
  const chosen = first >= 0 ? lines.slice(first, first + 4) : lines.slice(-4);
  const said = chosen.map((line) => (line.length > 200 ? `${line.slice(0, 199)}…` : line));
  return [`the harness exited (${exit})`, ...said].join("; ");
}

export async function measureSamLocal(options: {
  requests: number;
  /** The harness is stopped (SIGTERM to its process group: its cleanup runs) after this. */
  timeoutS: number;
  log: (message: string) => void;
}): Promise<SamLocalAnchor> {
  const { requests, timeoutS, log } = options;
  const notMeasured = (reason: string): SamLocalAnchor => {
    log(`  not measured: ${reason}`);
    return { status: "not measured", reason };
  };
  if (!(await onPath("podman"))) return notMeasured("podman is not installed");
  if (!(await executable(samCli))) {
    return notMeasured("no SAM CLI in .venv/bin/sam (npm run aws-tools installs it)");
  }

  const logsDir = join(scratchDir, "logs");
  await mkdir(logsDir, { recursive: true });
  const figuresPath = join(scratchDir, "sam-latency.json");
  await rm(figuresPath, { force: true });
  const child = spawn("bash", [harness, "--latency"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      LATENCY_REQUESTS: String(requests),
      SAM_LATENCY_JSON: figuresPath,
      // The bench never installs: .venv is used as it is.
      SAM_LOCAL_SKIP_INSTALL: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so that a timeout stops everything it started.
    detached: true,
  });
  const stopGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  // Should the bench itself end first: SIGTERM lets the harness's own cleanup run.
  const onExit = () => stopGroup("SIGTERM");
  process.on("exit", onExit);
  let stdout = "";
  let stderr = "";
  let pending = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    // Its table and timings, as it prints them.
    const lines = (pending + chunk).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) log(`  ${line}`);
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    stopGroup("SIGTERM");
    // Its cleanup takes seconds; the harness gives it up to 30 s before it exits.
    killTimer = setTimeout(() => stopGroup("SIGKILL"), 60_000);
  }, timeoutS * 1000);
  const closed = new Promise((resolve) => child.once("close", resolve));
  const exit = await new Promise<string>((resolve) => {
    child.once("error", (error) => resolve(error.message));
    child.once("exit", (code, signal) => resolve(signal ?? `code ${code}`));
  });
  clearTimeout(timer);
  // Its output to the end: what it started may hold the pipes a little longer.
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
  clearTimeout(killTimer);
  process.off("exit", onExit);
  if (pending) log(`  ${pending}`);
  await writeFile(join(logsDir, "sam-local.log"), `${stdout}\n--- stderr ---\n${stderr}`);

  if (timedOut) return notMeasured(`the harness did not finish within ${timeoutS} s (stopped)`);
  if (exit !== "code 0") return notMeasured(harnessError(stderr, exit));
  try {
    const figures = JSON.parse(await readFile(figuresPath, "utf8")) as SamLatencyFigures;
    if (!figures.servers?.length) return notMeasured("the harness wrote no figures");
    return { status: "measured", ...figures };
  } catch (error) {
    return notMeasured(`the harness's figures could not be read: ${(error as Error).message}`);
  }
}
