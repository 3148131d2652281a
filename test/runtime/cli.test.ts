// `npm start` as a person runs it: a child process, its banner, its flags, its signals.
import { type ChildProcess, spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/bench/free-port.ts";
import { devToken } from "../support/tokens.ts";
import {
  cliPath,
  eventually,
  fixtureTemplate,
  repoRoot,
  scratchDir,
  startPath,
} from "./helpers.ts";

interface RunningCli {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

function runCli(args: string[], script = cliPath, env = process.env): RunningCli {
  // process.execPath: the same Node 24 that runs the tests (it strips the .ts types).
  const child = spawn(process.execPath, [script, ...args], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

const fixtureArgs = [
  "-t",
  fixtureTemplate,
  "--port",
  "0",
  "--ddb-port",
  "0",
  "--in-memory",
  "--no-seed",
];

async function apiUrl(cli: RunningCli): Promise<string> {
  return eventually(async () => /API\s+(http:\/\/\S+)/.exec(cli.output())?.[1], 20_000);
}

/** A request that takes sleepMs in the function; resolves once the function runs it. */
async function slowRequestStarted(
  cli: RunningCli,
  url: string,
  sleepMs: number,
): Promise<{ answer: Promise<number | "cut off"> }> {
  const answer = fetch(`${url}/items?sleepMs=${sleepMs}`).then(
    (response) => response.status,
    () => "cut off" as const,
  );
  await eventually(async () => (cli.output().includes('"message":"echo"') ? true : undefined));
  // Wrapped: an async function returning the promise itself would wait for it.
  return { answer };
}

describe("the CLI", () => {
  it("lists every flag in --help", async () => {
    const cli = runCli(["--help"]);
    expect(await cli.exited).toBe(0);
    for (const flag of [
      "--port",
      "-p,",
      "--host",
      "--env-vars",
      "-n,",
      "--template",
      "-t,",
      "--in-memory",
      "--data-dir",
      "--ddb-endpoint",
      "--ddb-port",
      "--no-watch",
      "--no-seed",
      "--build-dir",
      "--use-sam-build",
    ]) {
      expect(cli.output()).toContain(flag);
    }
  });

  it("prints a banner with the API, docs, DynamoDB and data folder", async () => {
    const cli = runCli([...fixtureArgs, "--no-watch"]);
    const url = await apiUrl(cli);
    expect(cli.output()).toContain(`${url}/docs`);
    expect(cli.output()).toMatch(/DynamoDB\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(cli.output()).toMatch(/Data\s+in memory/);
    // One instance per core by default (at least 2), and it says how to have more.
    expect(cli.output()).toMatch(
      /Instances\s+up to \d+ per function \(one per core; --max-instances N/,
    );
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
  });

  it("serves the product with sample todos for alice, signed in, as npm start does", async () => {
    const cli = runCli(["--port", "0", "--ddb-port", "0", "--in-memory"], startPath);
    const url = await apiUrl(cli);
    expect(cli.output()).toContain(`Sign-in    ${url}/auth`);
    expect(cli.output()).toContain("TOKEN=$(npm run -s token -- alice)");
    const listOf = async (username: string) => {
      const response = await fetch(`${url}/todos`, {
        headers: { Authorization: `Bearer ${await devToken(url, username)}` },
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { items: unknown[] }).items;
    };
    expect((await listOf("alice")).length).toBeGreaterThan(0);
    expect(await listOf("bob")).toEqual([]);
    expect((await fetch(`${url}/todos`)).status).toBe(401);
    cli.child.kill("SIGINT");
    expect(await cli.exited).toBe(0);
  });

  // scripts/local/malloc-arenas.ts: glibc reads MALLOC_ARENA_MAX only at process start, so
  // npm start starts itself again with it, in the same process (the PID a supervisor knows).
  it.runIf(process.platform === "linux")(
    "runs npm start with glibc's malloc arenas capped, in the process it was started as, unless told otherwise",
    async () => {
      const environOf = async (pid: number) =>
        (await readFile(`/proc/${pid}/environ`, "latin1")).split("\0");
      const { MALLOC_ARENA_MAX: _unset, ...withoutCap } = process.env;
      for (const [env, expected] of [
        [withoutCap, "MALLOC_ARENA_MAX=2"],
        [{ ...withoutCap, MALLOC_ARENA_MAX: "4" }, "MALLOC_ARENA_MAX=4"],
      ] as const) {
        const cli = runCli(["--port", "0", "--ddb-port", "0", "--in-memory"], startPath, env);
        const url = await apiUrl(cli);
        expect((await fetch(`${url}/todos`)).status).toBe(401);
        const pid = cli.child.pid as number;
        expect(
          (await environOf(pid)).filter((entry) => entry.startsWith("MALLOC_ARENA_MAX=")),
        ).toEqual([expected]);
        cli.child.kill("SIGTERM");
        expect(await cli.exited).toBe(0);
      }
    },
  );

  it("answers the request in flight on SIGTERM, then exits 0", async () => {
    const cli = runCli([...fixtureArgs, "--no-watch"]);
    const url = await apiUrl(cli);
    const inFlight = fetch(`${url}/items?sleepMs=1500`);
    // The function logs as it starts: the request is in flight from then on.
    await eventually(async () => (cli.output().includes('"message":"echo"') ? true : undefined));
    cli.child.kill("SIGTERM");
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ instance: expect.any(String) });
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toContain("stopped");
  });

  it("counts a signal repeated at once as the same stop (npm forwards the group's signal)", async () => {
    const cli = runCli([...fixtureArgs, "--no-watch"]);
    const url = await apiUrl(cli);
    const inFlight = fetch(`${url}/items?sleepMs=1500`);
    await eventually(async () => (cli.output().includes('"message":"echo"') ? true : undefined));
    cli.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 50));
    cli.child.kill("SIGTERM");
    expect((await inFlight).status).toBe(200);
    expect(await cli.exited).toBe(0);
    expect(cli.output()).not.toContain("exiting now");
  });

  it("exits at once on a second signal well after the first, and says so", async () => {
    const cli = runCli([...fixtureArgs, "--no-watch"]);
    const url = await apiUrl(cli);
    const { answer: inFlight } = await slowRequestStarted(cli, url, 4_000);
    cli.child.kill("SIGINT");
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    cli.child.kill("SIGINT");
    expect(await cli.exited).toBe(1);
    expect(cli.output()).toMatch(/SIGINT again: exiting now, without answering 1 request/);
    expect(await inFlight).toBe("cut off");
  });

  it("gives requests in flight no more than the grace period", async () => {
    const cli = runCli([...fixtureArgs, "--no-watch", "--grace-period", "1"]);
    const url = await apiUrl(cli);
    const { answer: inFlight } = await slowRequestStarted(cli, url, 4_000);
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(1);
    expect(cli.output()).toMatch(
      /grace period of 1 s is over: exiting with 1 request\(s\) unanswered/,
    );
    expect(await inFlight).toBe("cut off");
  });

  it("says in --help how long a stop waits", async () => {
    const cli = runCli(["--help"]);
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toMatch(/--grace-period SECONDS[\s\S]*longest function\s+Timeout/);
  });

  it("stops when the process that started it is gone, as when npm itself gets SIGTERM", async () => {
    // npm runs the start script as `sh -c "node ..."`; the trailing `; exit` keeps the shell
    // waiting for node (no exec), as it does under npm, and SIGKILL ends only the shell.
    const shell = spawn(
      "/bin/sh",
      ["-c", `"${process.execPath}" "${cliPath}" ${fixtureArgs.join(" ")}; exit $?`],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
    );
    children.push(shell);
    let output = "";
    shell.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    await eventually(async () => (/Ctrl-C stops/.test(output) ? true : undefined), 20_000);
    const runtimePid = await eventually(async () => {
      const children = await readFile(`/proc/${shell.pid}/task/${shell.pid}/children`, "utf8");
      return Number(children.trim().split(/\s+/)[0]) || undefined;
    });
    // Gracefully, too: a request in flight when the shell goes is still answered.
    const url = /API\s+(http:\/\/\S+)/.exec(output)?.[1];
    const inFlight = fetch(`${url}/items?sleepMs=1500`).then(
      (response) => response.status,
      () => "cut off",
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    shell.kill("SIGKILL");
    expect(await inFlight).toBe(200);
    const alive = () => {
      try {
        process.kill(runtimePid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      await eventually(async () => (alive() ? undefined : true), 10_000);
    } finally {
      if (alive()) process.kill(runtimePid, "SIGKILL");
    }
    expect(alive()).toBe(false);
  });

  it("loses no acknowledged write when stopped under load (product, data folder)", async () => {
    const [scratch, removeDataDir] = await scratchDir("runtime-nothing-lost");
    // The issuer's keys go beside the data folder (scratch/issuer), and tokens survive.
    const dataDir = join(scratch, "dynamodb");
    const port = String(await freePort());
    const productArgs = ["--port", port, "--ddb-port", "0", "--data-dir", dataDir, "--no-seed"];
    try {
      const first = runCli([...productArgs, "--no-watch"]);
      const url = await apiUrl(first);
      const authorization = `Bearer ${await devToken(url, "alice")}`;
      let signalled = false;
      const writes = await Promise.all(
        Array.from({ length: 20 }, async (_, index) => {
          try {
            const response = await fetch(`${url}/todos`, {
              method: "POST",
              headers: { "Content-Type": "application/json", Authorization: authorization },
              body: JSON.stringify({ title: `write ${index}` }),
            });
            if (!signalled) {
              signalled = true;
              first.child.kill("SIGTERM");
            }
            return response.status === 201
              ? ((await response.json()) as { id: string }).id
              : undefined;
          } catch {
            return undefined; // refused after the signal: never acknowledged
          }
        }),
      );
      expect(await first.exited).toBe(0);
      const acknowledged = writes.filter((id): id is string => id !== undefined);
      expect(acknowledged.length).toBeGreaterThan(0);

      const second = runCli([...productArgs, "--no-watch"]);
      const againUrl = await apiUrl(second);
      for (const id of acknowledged) {
        const read = await fetch(`${againUrl}/todos/${id}`, {
          headers: { Authorization: authorization },
        });
        expect(read.status, id).toBe(200);
      }
      second.child.kill("SIGTERM");
      expect(await second.exited).toBe(0);
    } finally {
      await removeDataDir();
    }
  });

  it("says which flag to use when the port is in use, and exits 1", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const cli = runCli([
        "-t",
        fixtureTemplate,
        "--port",
        String(port),
        "--ddb-port",
        "0",
        "--in-memory",
        "--no-seed",
      ]);
      expect(await cli.exited).toBe(1);
      const lines = cli.output().trim().split("\n");
      expect(lines.at(-1)).toMatch(new RegExp(`port ${port} is in use.*--port`));
    } finally {
      blocker.close();
    }
  });

  it("says which flag to use when the DynamoDB port is in use", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const cli = runCli([
        "-t",
        fixtureTemplate,
        "--port",
        "0",
        "--in-memory",
        "--no-seed",
        "--ddb-port",
        String(port),
      ]);
      expect(await cli.exited).toBe(1);
      expect(cli.output()).toMatch(new RegExp(`port ${port} is in use.*--ddb-port`));
    } finally {
      blocker.close();
    }
  });

  it("explains a broken template and exits 1", async () => {
    const [dir, removeDir] = await scratchDir("runtime-broken");
    try {
      const broken = join(dir, "template.yaml");
      await writeFile(
        broken,
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: [\n",
      );
      const cli = runCli(["-t", broken, "--port", "0", "--ddb-port", "0", "--in-memory"]);
      expect(await cli.exited).toBe(1);
      expect(cli.output()).toMatch(/error: cannot read the template .*template\.yaml/);
    } finally {
      await removeDir();
    }
  });
});
