// Starting what is measured: the shared dynalite, the local runtime (as `npm start` runs it),
// and the baselines (a) in-process and (b) plain node:http. Baseline (c) is in
// serverless-offline.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { functionEnvironment } from "../local/environment.ts";
import { obtainToken } from "../token.ts";
import type { Artifact } from "./artifacts.ts";
import { productFunction, repoRoot } from "./artifacts.ts";
import { type Child, startChild } from "./children.ts";
import { benchKeysFile, benchUsername } from "./events.ts";
import type { InProcessRun } from "./in-process.ts";
import type { RawRun } from "./stats.ts";

const here = import.meta.dirname;

export async function startDynalite(): Promise<{ endpoint: string; child: Child }> {
  const child = await startChild({
    name: "dynalite",
    command: process.execPath,
    args: [join(here, "dynalite-process.ts")],
    ready: /dynalite listening on (http:\/\/\S+)/,
  });
  return { endpoint: child.match[1] as string, child };
}

/** `npm start`'s command line (package.json): node, its flags, the CLI. */
function npmStartArgs(): string[] {
  const manifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
    scripts: { start: string };
  };
  const [command, ...args] = manifest.scripts.start.trim().split(/\s+/);
  if (command !== "node") throw new Error(`npm start runs ${command}, not node`);
  return args;
}

/**
 * The local runtime exactly as `npm start` runs it, on the shared dynalite and a given table,
 * and the headers of a client signed in as the bench user (a token from its own issuer).
 */
export async function startRuntime(
  ddbEndpoint: string,
  tableName: string,
  /** Set in its environment, beside the benchmark's own (LOCAL_RUNTIME_TRACE...). */
  variables: Record<string, string> = {},
): Promise<{ url: string; child: Child; headers: Record<string, string> }> {
  const child = await startChild({
    env: { ...process.env, ...variables },
    name: `local runtime (npm start), table ${tableName}`,
    command: process.execPath,
    args: [
      ...npmStartArgs(),
      "--port",
      "0",
      "--ddb-endpoint",
      ddbEndpoint,
      "--table-name",
      tableName,
      "--no-watch",
      "--no-seed",
      "--issuer-keys",
      benchKeysFile,
    ],
    cwd: repoRoot,
    ready: /API\s+(http:\/\/\S+)/,
    timeoutMs: 60_000,
  });
  const url = child.match[1] as string;
  try {
    const { token } = await obtainToken({ username: benchUsername, url });
    return { url, child, headers: { authorization: `Bearer ${token}` } };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** What the runtime gives its Lambda instances: every baseline runs the handler with it too. */
export function lambdaEnvironment(ddbEndpoint: string, tableName: string): Record<string, string> {
  const fn = productFunction();
  return functionEnvironment(
    { ...fn, environment: { ...fn.environment, TABLE_NAME: tableName } },
    undefined,
    [],
    { ddbEndpoint, handler: fn.handler },
    () => {},
  );
}

export async function startPlainServer(
  environment: Record<string, string>,
): Promise<{ url: string; child: Child }> {
  const child = await startChild({
    name: "plain node:http server",
    command: process.execPath,
    args: [join(here, "plain-server.ts")],
    env: environment,
    ready: /plain server listening on (http:\/\/\S+)/,
  });
  return { url: child.match[1] as string, child };
}

/** Baseline (d): node:http and the built handler in worker threads, nothing else. */
export async function startIsolationFloor(
  artifact: Artifact,
  environment: Record<string, string>,
  memoryMb: number,
): Promise<{ url: string; child: Child }> {
  const child = await startChild({
    name: "isolation floor",
    command: process.execPath,
    args: [join(here, "isolation-floor.ts")],
    env: { ...environment, BENCH_HANDLER_FILE: artifact.file, BENCH_MEMORY_MB: String(memoryMb) },
    ready: /isolation floor listening on (http:\/\/\S+)/,
  });
  return { url: child.match[1] as string, child };
}

export interface InProcessInvoker {
  child: Child;
  run(event: string, concurrency: number, durationMs: number): Promise<RawRun>;
}

export async function startInProcess(
  artifact: Artifact,
  environment: Record<string, string>,
): Promise<InProcessInvoker> {
  const child = await startChild({
    name: "in-process invoker",
    command: process.execPath,
    args: [join(here, "in-process.ts")],
    env: { ...environment, BENCH_HANDLER_FILE: artifact.file },
    ready: /in-process invoker ready/,
    ipc: true,
  });
  return {
    child,
    run: (event, concurrency, durationMs) =>
      new Promise((resolve, reject) => {
        const onExit = () => reject(new Error(`in-process invoker exited\n${child.output()}`));
        child.process.once("exit", onExit);
        child.process.once("message", (message: { run: RawRun }) => {
          child.process.off("exit", onExit);
          resolve(message.run);
        });
        const run: InProcessRun = { type: "run", event, concurrency, durationMs };
        child.process.send(run);
      }),
  };
}
