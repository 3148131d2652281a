// A second DynamoDB-compatible server for the storage tests: moto_server from .venv/
// (installed by `npm run aws-tools`), on a random free loopback port. Tests that get undefined
// (no .venv) run against dynalite only.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";

export const motoServerPath = new URL("../../.venv/bin/moto_server", import.meta.url).pathname;

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

const startTimeoutMs = 30_000;
const stopTimeoutMs = 5_000;
const portAttempts = 3;

/** Starts moto_server, or resolves undefined when .venv/bin/moto_server is not installed. */
export async function startMotoServer(): Promise<MotoServer | undefined> {
  if (!existsSync(motoServerPath)) return undefined;
  let lastError: Error | undefined;
  // The free port is found before moto binds it, so another process may take it in between.
  for (let attempt = 1; attempt <= portAttempts; attempt++) {
    try {
      return await startOnPort(await freeLoopbackPort());
    } catch (error) {
      lastError = error as Error;
    }
  }
  throw lastError;
}

async function startOnPort(port: number): Promise<MotoServer> {
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(motoServerPath, ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
  });
  // moto logs every request to stderr: keep reading it (a full pipe would stall the server)
  // and keep the tail for error messages.
  let stderrTail = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4_000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const killOnExit = () => killByPid(child, "SIGKILL");
  process.once("exit", killOnExit);

  const stop = async () => {
    process.off("exit", killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    killByPid(child, "SIGTERM");
    const timer = setTimeout(() => killByPid(child, "SIGKILL"), stopTimeoutMs);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitUntilAnswering(endpoint, child, exited);
  } catch (error) {
    await stop();
    throw new Error(
      `moto_server did not start on ${endpoint}: ${(error as Error).message}\n${stderrTail}`,
    );
  }
  return { endpoint, stop };
}

function killByPid(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  exited: Promise<void>,
): Promise<void> {
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (hasExited) throw new Error(`it exited with code ${child.exitCode ?? child.signalCode}`);
    try {
      // Any HTTP answer means the server is up; DynamoDB calls are POSTs to "/".
      await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`no answer within ${startTimeoutMs} ms`);
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}
