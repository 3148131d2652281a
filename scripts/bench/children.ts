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

/** Peak resident memory of a process since it started, in MB (the kernel's high-water mark). */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** What a thread does, from the name Node and V8 give it (its comm in /proc). */
export type ThreadRole =
  | "server thread"
  | "instance threads"
  | "V8 helpers"
  | "libuv pool"
  | "other threads"
  | "child processes";

function roleOf(comm: string): ThreadRole {
  if (comm === "MainThread" || comm === "node") return "server thread";
  if (comm.startsWith("WorkerThread")) return "instance threads";
  if (comm.startsWith("V8")) return "V8 helpers";
  if (comm.startsWith("libuv")) return "libuv pool";
  return "other threads";
}

export type ThreadCpu = Map<number, { role: ThreadRole; cpuMs: number }>;

/**
 * CPU time (user + system, ms) each thread of a process and of its descendants has used,
 * keyed by thread id: the kernel's own account, read from outside, so measuring costs the
 * measured process nothing. A thread that ended between two readings is missing from the
 * later one (so a short-lived thread's CPU is not counted).
 */
export function threadCpuMs(pid: number): ThreadCpu {
  const msPerTick = 10; // USER_HZ is 100 on Linux: a tick is 10 ms
  const threads: ThreadCpu = new Map();
  for (const processId of processTree(pid)) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${processId}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const comm = readFileSync(`/proc/${processId}/task/${tid}/comm`, "utf8").trim();
        const stat = readFileSync(`/proc/${processId}/task/${tid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        // utime and stime: fields 14 and 15 of stat, counted from 1 with pid and comm first.
        const ticks = Number(fields[11]) + Number(fields[12]);
        const role = processId === pid ? roleOf(comm) : "child processes";
        threads.set(Number(tid), { role, cpuMs: ticks * msPerTick });
      } catch {
        // Exited while we read.
      }
    }
  }
  return threads;
}

/** CPU (ms) by role between two readings of threadCpuMs. */
export function cpuByRole(
  before: ThreadCpu,
  after: ThreadCpu,
): Partial<Record<ThreadRole, number>> {
  const byRole: Partial<Record<ThreadRole, number>> = {};
  for (const [tid, { role, cpuMs }] of after) {
    byRole[role] = (byRole[role] ?? 0) + cpuMs - (before.get(tid)?.cpuMs ?? 0);
  }
  return byRole;
}
