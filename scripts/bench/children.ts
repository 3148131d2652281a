// The processes the benchmark starts (dynalite, the runtime, the baseline servers): each in a
// process group of its own, stopped by its id (and its group), never by name, and always
// stopped when the benchmark exits, even on a crash.
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

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
  /** The last output, for error messages. */
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

export function startChild(options: StartOptions): Promise<Child> {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: options.ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
    // Its own group, so that its children (if any) stop with it.
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) return Promise.reject(new Error(`${options.name}: could not start`));
  let output = "";
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      resolve();
    });
  });

  return new Promise<Child>((resolve, reject) => {
    let settled = false;
    const handle: Child = {
      name: options.name,
      pid,
      process: child,
      match: [] as unknown as RegExpMatchArray,
      output: () => output,
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
    const timer = setTimeout(() => {
      fail(`did not get ready within ${options.timeoutMs ?? 30_000} ms`);
    }, options.timeoutMs ?? 30_000);
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void handle.stop();
      reject(new Error(`${options.name}: ${reason}\n--- its output ---\n${output.slice(-4000)}`));
    };
    const onData = (data: Buffer) => {
      // Servers under load log every request: keep only the tail, cheaply.
      output = (output.length > 16_000 ? output.slice(-8_000) : output) + data.toString("utf8");
      if (settled) return;
      const match = options.ready.exec(output);
      if (match) {
        settled = true;
        clearTimeout(timer);
        handle.match = match;
        resolve(handle);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", (error) => fail(error.message));
    child.once("exit", (code, signal) => fail(`exited (${signal ?? code}) before it was ready`));
  });
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
