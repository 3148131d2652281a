// The local runtime (scripts/local/) for the tests that need real HTTP, real instances and a
// real process: in this process (startLocalApi, quiet) or as `node scripts/local/cli.ts`, a
// child that can be killed.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  type LocalApi,
  type LocalApiOptions,
  startLocalApi,
} from "../../../scripts/local/index.ts";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const templatePath = join(repoRoot, "template.yaml");
export const cliPath = join(repoRoot, "scripts/local/cli.ts");

export interface QuietRuntime extends LocalApi {
  output(): string;
}

/** The runtime on free ports, in memory, no rebuilds, no sample todos, logs kept. */
export async function startQuietRuntime(options: LocalApiOptions = {}): Promise<QuietRuntime> {
  const lines: string[] = [];
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  const keep = (message: string) => lines.push(`${message}\n`);
  const api = await startLocalApi({
    template: templatePath,
    port: 0,
    ddbPort: 0,
    inMemory: true,
    watch: false,
    ...options,
    log: { info: keep, warn: keep, error: keep },
    functionOutput: { stdout: sink, stderr: sink },
  });
  return Object.assign(api, { output: () => lines.join("") });
}

export async function scratchDir(prefix: string): Promise<[string, () => Promise<void>]> {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  return [dir, () => rm(dir, { recursive: true, force: true })];
}

export interface CliRuntime {
  child: ChildProcess;
  url: string;
  ddbEndpoint: string;
  tableName: string;
  output(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node scripts/local/cli.ts` with the given flags; resolves once it serves. */
export function spawnCli(args: string[], timeoutMs = 30_000): Promise<CliRuntime> {
  const child = spawn(
    process.execPath,
    [cliPath, "--port", "0", "--no-watch", "--no-seed", ...args],
    {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LOG_LEVEL: "warn" },
    },
  );
  return servingRuntime(child, timeoutMs);
}

/**
 * `npm start -- <flags>` as a person runs it: npm, its `sh -c`, and the runtime, in a
 * process group of their own (as a terminal or a process manager starts it), so that a
 * signal can be sent to the whole group: process.kill(-child.pid, signal).
 */
export function spawnNpmStart(args: string[], timeoutMs = 30_000): Promise<CliRuntime> {
  // Rebuilding on save stays on, as it is for a user: its esbuild process is in the group too.
  const child = spawn("npm", ["start", "--", "--port", "0", "--no-seed", ...args], {
    cwd: repoRoot,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LOG_LEVEL: "warn" },
  });
  return servingRuntime(child, timeoutMs);
}

/** Resolves once the child's banner names its API and DynamoDB. */
async function servingRuntime(child: ChildProcess, timeoutMs: number): Promise<CliRuntime> {
  let output = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<{ url: string; ddbEndpoint: string; tableName: string }>(
    (resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the runtime did not start in ${timeoutMs} ms:\n${output}`)),
        timeoutMs,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const api = /API\s+(http:\/\/\S+)/.exec(output);
        const ddb = /DynamoDB\s+(http:\/\/\S+)\s+table (\S+)/.exec(output);
        if (api?.[1] && ddb?.[1] && ddb[2]) {
          clearTimeout(timer);
          resolve({ url: api[1], ddbEndpoint: ddb[1], tableName: ddb[2] });
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`the runtime exited (${code ?? signal}) before serving:\n${output}`));
      });
    },
  );
  try {
    const started = await ready;
    return { child, ...started, output: () => output, exited };
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    throw error;
  }
}

/** Stops a child started here, by its own handle (never by name). */
export async function stopCli(runtime: CliRuntime | undefined): Promise<void> {
  if (!runtime) return;
  const { child } = runtime;
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await runtime.exited;
}
