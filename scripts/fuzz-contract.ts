// npm run fuzz:contract: Schemathesis against the local runtime, every check and the stateful phase.
//
// Starts `scripts/local/cli.ts --in-memory` on a free port, signs in as a client does (an
// access token for a fuzzing user from the runtime's own issuer, POST /auth/dev/token, with
// every scope), runs Schemathesis (from .venv/, see `npm run aws-tools`) on openapi.yaml with
// schemathesis.toml and that token in an Authorization header, stops the runtime by its PID
// and exits with Schemathesis' status: non-zero on any failure.
//
//   npm run fuzz:contract                          random seed, FUZZ_EXAMPLES (default 200) per operation
//   FUZZ_EXAMPLES=1000 npm run fuzz:contract       more examples
//   FUZZ_SEED=42 npm run fuzz:contract             replay a run (the seed is printed at the end)
//   npm run fuzz:contract -- --ci                  CI: fixed seed, 25 examples, deterministic
//   npm run fuzz:contract -- --build-dir .aws-sam/build   fuzz a `sam build` artifact
//   npm run fuzz:contract -- -- --max-failures 1   anything after `--` goes to `st run`
//
// Reports (JUnit XML) and the runtime's log go to .build/schemathesis/.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { obtainToken } from "./token.ts";

const root = resolve(import.meta.dirname, "..");
const schemathesis = resolve(root, ".venv/bin/st");
const reportDir = resolve(root, ".build/schemathesis");
const ciSeed = "20261128";
const ciExamples = "25";
const startTimeoutMs = 120_000;
const stopTimeoutMs = 10_000;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ci: { type: "boolean", default: false },
    "build-dir": { type: "string" },
  },
});

function positiveInteger(name: string, value: string): string {
  if (!/^[1-9]\d*$/.test(value)) {
    console.error(`fuzz:contract: ${name}=${value} is not a positive whole number`);
    process.exit(2);
  }
  return value;
}

if (!existsSync(schemathesis)) {
  console.error("fuzz:contract: .venv/bin/st is missing; run `npm run aws-tools` first");
  process.exit(2);
}

const examples = positiveInteger(
  "FUZZ_EXAMPLES",
  process.env.FUZZ_EXAMPLES ?? (values.ci ? ciExamples : "200"),
);
const seed = process.env.FUZZ_SEED ?? (values.ci ? ciSeed : undefined);
const workers = positiveInteger("FUZZ_WORKERS", process.env.FUZZ_WORKERS ?? "2");

mkdirSync(reportDir, { recursive: true });
const runtimeLogPath = resolve(reportDir, "runtime.log");

let runtime: ChildProcess | undefined;
let runtimeExited: Promise<void> = Promise.resolve();

async function stopRuntime(): Promise<void> {
  const child = runtime;
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  process.kill(child.pid, "SIGTERM");
  const timer = setTimeout(() => {
    if (child.pid && child.exitCode === null) process.kill(child.pid, "SIGKILL");
  }, stopTimeoutMs);
  await runtimeExited;
  clearTimeout(timer);
}

/** Starts the local runtime on a free port and resolves its base URL once it listens. */
function startRuntime(): Promise<string> {
  const args = [
    resolve(root, "scripts/local/cli.ts"),
    "--in-memory",
    "--port",
    "0",
    "--ddb-port",
    "0",
    "--no-watch",
    "--no-seed",
  ];
  if (values["build-dir"]) args.push("--build-dir", values["build-dir"]);
  const log = createWriteStream(runtimeLogPath);
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  runtime = child;
  runtimeExited = new Promise((done) => child.once("exit", () => done()));
  child.stderr?.pipe(log);
  return new Promise((resolveUrl, reject) => {
    let output = "";
    let listening = false;
    const timer = setTimeout(
      () => reject(new Error(`the runtime did not start within ${startTimeoutMs} ms`)),
      startTimeoutMs,
    );
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      log.write(chunk);
      if (listening) return;
      output += chunk;
      const url = /^\s*API\s+(http:\/\/\S+)/m.exec(output)?.[1];
      if (url) {
        listening = true;
        clearTimeout(timer);
        resolveUrl(url);
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the runtime exited (${code ?? signal}) before it listened`));
    });
  });
}

/** An access token of the runtime's local issuer for the fuzzing user (1 hour). */
async function signIn(baseUrl: string): Promise<string> {
  return (await obtainToken({ username: "schemathesis", url: baseUrl })).token;
}

function runSchemathesis(baseUrl: string, token: string): Promise<number> {
  const args = [
    "--config-file",
    resolve(root, "schemathesis.toml"),
    "run",
    resolve(root, "openapi.yaml"),
    "--url",
    baseUrl,
    // Signed in; its ignored_auth check still sends requests without it and expects 401.
    "--header",
    `Authorization: Bearer ${token}`,
    "--checks",
    "all",
    "--phases",
    "examples,coverage,fuzzing,stateful",
    "--max-examples",
    examples,
    "--workers",
    workers,
    "--request-timeout",
    "15",
    "--report",
    "junit",
    "--report-dir",
    reportDir,
  ];
  if (seed !== undefined) args.push("--seed", positiveInteger("FUZZ_SEED", seed));
  // Deterministic in CI; otherwise random, without Schemathesis' example database on disk.
  if (values.ci) args.push("--generation-deterministic", "--no-color");
  else args.push("--generation-database", "none");
  args.push(...positionals);
  console.log(`fuzz:contract: st ${args.join(" ").replace(token, "<token>")}`);
  const child = spawn(schemathesis, args, {
    cwd: root,
    stdio: "inherit",
    // Hypothesis keeps its files with the reports, not in a .hypothesis/ at the root.
    env: { HYPOTHESIS_STORAGE_DIRECTORY: resolve(root, ".build/hypothesis"), ...process.env },
  });
  return new Promise((done) => {
    child.once("exit", (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}

let exitCode = 1;
const interrupted = (signal: NodeJS.Signals) => {
  console.error(`fuzz:contract: ${signal}: stopping the runtime`);
  void stopRuntime().finally(() => process.exit(130));
};
process.once("SIGINT", interrupted);
process.once("SIGTERM", interrupted);

try {
  const baseUrl = await startRuntime();
  console.log(
    `fuzz:contract: runtime (pid ${runtime?.pid}) at ${baseUrl}; log in ${runtimeLogPath}`,
  );
  exitCode = await runSchemathesis(baseUrl, await signIn(baseUrl));
  if (runtime && runtime.exitCode !== null) {
    console.error(`fuzz:contract: the runtime died during the run; see ${runtimeLogPath}`);
    exitCode ||= 1;
  }
} catch (error) {
  console.error(`fuzz:contract: ${(error as Error).message}; see ${runtimeLogPath}`);
  exitCode = 1;
} finally {
  await stopRuntime();
}
console.log(`fuzz:contract: ${exitCode === 0 ? "passed" : `FAILED (exit ${exitCode})`}`);
process.exit(exitCode);
