// The processes the benchmark starts (dynalite, the runtime, the baseline servers): each in a
// process group of its own, stopped by its id (and its group), never by name, and always
// stopped when the benchmark exits, even on a crash.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { scratchDir } from "./artifacts.ts";

const logsDir = join(scratchDir, "logs");

export interface StartOptions {
  /** What the logs and errors call it. */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Ready once a line of its output matches; the match is returned. */
  ready: RegExp;
  timeoutMs?: number;
  /** Open an IPC channel (child.process.send / "message"). */
  ipc?: boolean;
}

export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  /** The ready line's match. */
  match: RegExpMatchArray;
  /** The end of its log, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<Child>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

process.on("exit", () => {
  for (const child of running) killGroup(child.pid, "SIGKILL");
});

/**
 * Starts a process whose output goes to a log file (.bench/logs/<name>.log): no pipe for the
 * benchmark to drain while it measures (servers log every request), and a record to read
 * when something fails.
 */
export async function startChild(options: StartOptions): Promise<Child> {
  await mkdir(logsDir, { recursive: true });
  const logPath = join(logsDir, `${options.name.replace(/[^\w.-]+/g, "-")}.log`);
  const logFd = openSync(logPath, "w");
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: options.ipc ? ["ignore", logFd, logFd, "ipc"] : ["ignore", logFd, logFd],
    // Its own group, so that its children (if any) stop with it.
    detached: true,
  });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name}: could not start`);
  const output = () => {
    try {
      const text = readFileSync(logPath, "utf8");
      return text.slice(-8000);
    } catch {
      return "";
    }
  };
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      resolve();
    });
  });
  const handle: Child = {
    name: options.name,
    pid,
    process: child,
    match: [] as unknown as RegExpMatchArray,
    output,
    stop: async () => {
      running.delete(handle);
      if (exited) return;
      killGroup(pid, "SIGTERM");
      const timer = setTimeout(() => killGroup(pid, "SIGKILL"), 5000);
      await exit;
      clearTimeout(timer);
    },
  };
  running.add(handle);
  let failure: string | undefined;
  child.once("error", (error) => {
    failure = error.message;
  });
  const deadline = performance.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const match = options.ready.exec(readFileSync(logPath, "utf8"));
    if (match) {
      handle.match = match;
      return handle;
    }
    if (exited || failure || performance.now() > deadline) {
      const reason =
        failure ??
        (exited
          ? `exited (${child.signalCode ?? child.exitCode}) before it was ready`
          : `did not get ready within ${options.timeoutMs ?? 30_000} ms`);
      await handle.stop();
      throw new Error(
        `${options.name}: ${reason} (log: ${logPath})\n--- its output ---\n${output()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Resident memory of a process, in MB, as the kernel counts it (all its threads). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** The process and every descendant (e.g. the esbuild service a runtime keeps). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name may hold spaces and parentheses: fields start after the last ")".
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // Exited while we read.
    }
  }
  const tree = [pid];
  for (let index = 0; index < tree.length; index++) {
    for (const [child, parent] of parents) if (parent === tree[index]) tree.push(child);
  }
  return tree;
}

/** Threads of a process (the runtime's Lambda instances are worker threads). */
export function threadCount(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? 0);
}
