// A killed process: the local runtime (`node scripts/local/cli.ts`, a child process with its
// data in a temp folder) is SIGKILLed in the middle of a burst of writes; after a restart on
// the same folder, every write that had been answered 2xx is there, intact. And SIGTERM lets
// the requests in flight finish and be answered before the process exits, also when it comes
// as a user sends it: to `npm start`'s whole process group (Ctrl-C, `kill -TERM -PGID`).

import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { startDynalite } from "../support/dynalite.ts";
import { type CallApi, httpApi, jsonRequest, scanTable, todoItems } from "./support/api.ts";
import { FaultProxy } from "./support/fault-proxy.ts";
import { countInput, figures, reportFigures } from "./support/figures.ts";
import {
  type CliRuntime,
  scratchDir,
  spawnCli,
  spawnNpmStart,
  stopCli,
} from "./support/runtime.ts";
import { expectContract, listAll, type TodoJson } from "./support/todos.ts";

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  reportFigures(import.meta.filename);
});

/** What a client knows about one of its todos: the last answer it got, and a write in flight. */
interface Tracked {
  acknowledged: { todo: TodoJson; etag: string } | "deleted";
  /** A write sent but never answered (the process died): its outcome is unknown. */
  inFlight?: { kind: "update"; patch: Partial<TodoJson> } | { kind: "delete" };
}

describe("the local runtime killed with SIGKILL in the middle of a burst of writes", () => {
  it("keeps every write it answered 2xx, intact, and the store opens cleanly after a restart", async () => {
    const [dataDir, removeDataDir] = await scratchDir("robustness-durability");
    cleanups.push(removeDataDir);
    // The issuer's keys go beside the data folder (dataDir/issuer): the user's sub survives.
    const args = [
      "--ddb-port",
      "0",
      "--data-dir",
      join(dataDir, "dynamodb"),
      "--max-instances",
      "4",
    ];
    let runtime: CliRuntime | undefined = await spawnCli(args);
    cleanups.push(() => stopCli(runtime));
    const call = httpApi(runtime.url, [runtime.tableName, runtime.ddbEndpoint, dataDir]);

    const tracked = new Map<string, Tracked>();
    let acknowledgedWrites = 0;
    let killed = false;
    const killAfter = 100;

    async function writer(worker: number): Promise<void> {
      for (let round = 0; !killed; round++) {
        // Create, then change it twice, then (every other round) delete it.
        let response: Awaited<ReturnType<CallApi>>;
        try {
          response = await call(
            jsonRequest("POST", "/todos", {
              title: `w${worker} r${round}`,
              description: `burst ${round}`,
            }),
          );
        } catch {
          return; // the process is gone; this create's outcome is unknown and untracked
        }
        expect(response.status, response.body).toBe(201);
        countInput("durability: acknowledged write");
        acknowledgedWrites++;
        const todo = response.json() as TodoJson;
        const entry: Tracked = { acknowledged: { todo, etag: response.headers.etag as string } };
        tracked.set(todo.id, entry);
        const steps: Array<{ kind: "update"; patch: Partial<TodoJson> } | { kind: "delete" }> = [
          { kind: "update", patch: { status: "done" } },
          { kind: "update", patch: { title: `w${worker} r${round} changed`, description: null } },
          ...(round % 2 ? [{ kind: "delete" as const }] : []),
        ];
        for (const step of steps) {
          if (acknowledgedWrites >= killAfter && !killed) {
            killed = true;
            runtime?.child.kill("SIGKILL");
          }
          entry.inFlight = step;
          try {
            response =
              step.kind === "update"
                ? await call(jsonRequest("PUT", `/todos/${todo.id}`, step.patch))
                : await call({ method: "DELETE", path: `/todos/${todo.id}` });
          } catch {
            return;
          }
          expect([200, 204], response.body).toContain(response.status);
          countInput("durability: acknowledged write");
          acknowledgedWrites++;
          entry.acknowledged =
            step.kind === "delete"
              ? "deleted"
              : { todo: response.json() as TodoJson, etag: response.headers.etag as string };
          delete entry.inFlight;
        }
      }
    }

    await Promise.all(Array.from({ length: 8 }, (_, worker) => writer(worker)));
    expect(killed).toBe(true);
    const exit = await runtime.exited;
    expect(exit.signal).toBe("SIGKILL");
    const unknownOutcomes = [...tracked.values()].filter((entry) => entry.inFlight).length;
    console.log(
      `durability: ${acknowledgedWrites} writes acknowledged before SIGKILL, ${unknownOutcomes} in flight`,
    );

    // Restart on the same folder: the store must open, and hold every acknowledged write.
    runtime = await spawnCli(args);
    const again = httpApi(runtime.url, [runtime.tableName, runtime.ddbEndpoint, dataDir]);
    expect(runtime.output()).not.toMatch(/created table/);
    let lost = 0;
    const problems: string[] = [];
    for (const [id, entry] of tracked) {
      const read = await again({ method: "GET", path: `/todos/${id}` });
      expectContract("getTodo", read);
      const acknowledged = entry.acknowledged;
      const asAcknowledged =
        acknowledged === "deleted"
          ? read.status === 404
          : read.status === 200 &&
            JSON.stringify(read.json()) === JSON.stringify(acknowledged.todo) &&
            read.headers.etag === acknowledged.etag;
      // A write in flight when the process died may or may not have happened, but whole.
      let asInFlight = false;
      if (entry.inFlight?.kind === "delete") asInFlight = read.status === 404;
      if (entry.inFlight?.kind === "update" && acknowledged !== "deleted" && read.status === 200) {
        const stored = read.json() as TodoJson;
        const expected = {
          ...acknowledged.todo,
          ...entry.inFlight.patch,
          updated_at: stored.updated_at,
        };
        asInFlight =
          JSON.stringify(stored) === JSON.stringify(expected) &&
          read.headers.etag === `"${Number(acknowledged.etag.replaceAll('"', "")) + 1}"`;
      }
      if (!asAcknowledged && !asInFlight) {
        lost++;
        problems.push(
          `${id}: acknowledged ${JSON.stringify(acknowledged)}, now ${read.status} ${read.body}`,
        );
      }
    }
    figures.lostWrites += lost;
    expect(problems).toEqual([]);

    // The store opens cleanly: the listing walks to its end and matches the table.
    const { items } = await listAll(again, { limit: "7" });
    const dynamo = new DynamoDBClient({
      endpoint: runtime.ddbEndpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    try {
      const stored = todoItems(await scanTable(dynamo, runtime.tableName), await again.subject());
      expect(items.map((t) => t.id).sort()).toEqual(stored.map((t) => t.id as string).sort());
    } finally {
      dynamo.destroy();
    }
    const survivors = [...tracked.values()].filter((e) => e.acknowledged !== "deleted").length;
    expect(items.length).toBeGreaterThanOrEqual(survivors - unknownOutcomes);
  }, 90_000);
});

describe("the local runtime stopped with SIGTERM", () => {
  it("answers the requests in flight before it exits", async () => {
    const dynalite = await startDynalite();
    cleanups.push(() => dynalite.stop());
    const proxy = new FaultProxy();
    cleanups.push(() => proxy.close());
    const endpoint = await proxy.start(dynalite.endpoint);
    const inFlight = 6;
    const runtime = await spawnCli([
      "--ddb-endpoint",
      endpoint,
      "--table-name",
      `sigterm-${process.pid}`,
      "--max-instances",
      String(inFlight),
      // The issuer's keys in memory too, rather than in the repository's .data/.
      "--in-memory",
    ]);
    cleanups.push(() => stopCli(runtime));
    const call = httpApi(runtime.url, [runtime.tableName, endpoint]);
    // Start the instances, then make the database slow (but within the SDK's 1 s request
    // timeout), so that requests are surely inside the functions when the signal comes.
    const warm = await Promise.all(
      Array.from({ length: inFlight }, () => call({ method: "GET", path: "/todos" })),
    );
    expect(warm.map((answer) => answer.status)).toEqual(
      Array.from({ length: inFlight }, () => 200),
    );
    await proxy.set({ kind: "delay", ms: 500 });
    const answers = Array.from({ length: inFlight }, (_, index) => {
      countInput("sigterm: request in flight");
      return call(jsonRequest("POST", "/todos", { title: `in flight ${index}` }));
    });
    // Send the signal once the first requests are inside a function (waiting on the database);
    // the others wait in the runtime's line: all of them are in flight for their clients.
    const deadline = Date.now() + 10_000;
    while (proxy.inFlight === 0 && Date.now() < deadline) await sleep(5);
    expect(proxy.inFlight, "requests are waiting on the database").toBeGreaterThan(0);
    runtime.child.kill("SIGTERM");
    const settled = await Promise.allSettled(answers);
    const statuses = settled.map((result) =>
      result.status === "fulfilled" ? result.value.status : `failed: ${String(result.reason)}`,
    );
    expect(statuses).toEqual(Array.from({ length: inFlight }, () => 201));
    const exit = await runtime.exited;
    expect(exit, runtime.output()).toEqual({ code: 0, signal: null });
    const client = new DynamoDBClient({
      endpoint: dynalite.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    try {
      const stored = todoItems(await scanTable(client, runtime.tableName), await call.subject());
      expect(stored.filter((item) => String(item.title).startsWith("in flight"))).toHaveLength(
        inFlight,
      );
    } finally {
      client.destroy();
    }
  }, 60_000);
});

/** Whether any process of the group is left. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether this port can be listened on again (nothing holds it any more). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/**
 * POST /todos on a connection of its own. A slow upload sends its headers and half its
 * body now, and the rest only when `finish` is called: it is in flight, still uploading.
 */
function postTodo(title: string, slow: boolean) {
  const body = Buffer.from(JSON.stringify({ title, description: "x".repeat(2_000) }));
  let finish = () => {};
  let sent: () => void = () => {};
  const headersSent = new Promise<void>((resolve) => {
    sent = resolve;
  });
  const answer = (url: string, token: string) =>
    new Promise<{ status: number; id?: string }>((resolve, reject) => {
      const request = httpRequest(`${url}/todos`, {
        method: "POST",
        agent: false,
        headers: {
          "Content-Type": "application/json",
          "Content-Length": body.length,
          Authorization: `Bearer ${token}`,
        },
      });
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          const status = response.statusCode ?? 0;
          resolve({
            status,
            id: status === 201 ? (JSON.parse(text) as { id: string }).id : undefined,
          });
        });
        response.on("error", reject);
      });
      request.on("error", reject);
      if (!slow) {
        request.end(body);
        sent();
        return;
      }
      const half = Math.floor(body.length / 2);
      request.flushHeaders();
      request.write(body.subarray(0, half), () => sent());
      finish = () => {
        // The rest in three pieces, a little apart, as a slow link sends it.
        const rest = body.subarray(half);
        const third = Math.ceil(rest.length / 3);
        void (async () => {
          for (let offset = 0; offset < rest.length; offset += third) {
            await sleep(200);
            request.write(rest.subarray(offset, offset + third));
          }
          request.end();
        })();
      };
    });
  return { answer, headersSent, finish: () => finish() };
}

describe.each(["SIGTERM", "SIGINT"] as const)(
  "npm start in its own process group, signalled as a group with %s",
  (signal) => {
    it("answers every request already received, slow uploads included, keeps their writes and frees its ports and data folder", async () => {
      const [dataDir, removeDataDir] = await scratchDir(`robustness-group-${signal}`);
      cleanups.push(removeDataDir);
      const args = ["--ddb-port", "0", "--data-dir", join(dataDir, "dynamodb")];
      const runtime = await spawnNpmStart(args);
      const pgid = runtime.child.pid as number;
      cleanups.push(async () => {
        if (groupAlive(pgid)) process.kill(-pgid, "SIGKILL");
      });
      const apiPort = Number(new URL(runtime.url).port);
      const ddbPort = Number(new URL(runtime.ddbEndpoint).port);
      const call = httpApi(runtime.url, [runtime.tableName, runtime.ddbEndpoint, dataDir]);
      expect((await call({ method: "GET", path: "/todos" })).status).toBe(200);

      // 20 at once: 10 sent whole, 10 still uploading their bodies when the signal comes.
      const requests = Array.from({ length: 20 }, (_, index) =>
        postTodo(`${signal} ${index}`, index % 2 === 1),
      );
      const token = await call.token();
      const answers = requests.map((request) => request.answer(runtime.url, token));
      await Promise.all(requests.map((request) => request.headersSent));
      // Long enough for the runtime to have read every request's headers.
      await sleep(300);
      process.kill(-pgid, signal);
      // The rest of the uploads comes after npm has gone (it exits on the signal at once)
      // and after the runtime has noticed that it is gone (it looks every 500 ms).
      await sleep(700);
      for (const request of requests) request.finish();
      const settled = await Promise.allSettled(answers);
      const outcomes = settled.map((result) =>
        result.status === "fulfilled" ? result.value.status : String(result.reason),
      );
      expect(outcomes, runtime.output()).toEqual(Array.from({ length: 20 }, () => 201));

      // Every process of the group ends, and the runtime says it stopped gracefully.
      const deadline = Date.now() + 20_000;
      while (groupAlive(pgid) && Date.now() < deadline) await sleep(50);
      expect(groupAlive(pgid), runtime.output()).toBe(false);
      expect(runtime.output()).toMatch(/\nstopped\n/);
      expect(runtime.output()).not.toMatch(/exiting now|grace period .* is over/);
      expect(await portFree(apiPort)).toBe(true);
      expect(await portFree(ddbPort)).toBe(true);

      // The data folder is free (a second runtime opens it) and holds every write.
      const again = await spawnCli(args);
      cleanups.push(() => stopCli(again));
      const read = httpApi(again.url, [again.tableName, again.ddbEndpoint, dataDir]);
      for (const result of settled) {
        const id = result.status === "fulfilled" ? result.value.id : undefined;
        expect((await read({ method: "GET", path: `/todos/${id}` })).status, id).toBe(200);
      }
      again.child.kill("SIGTERM");
      expect(await again.exited).toEqual({ code: 0, signal: null });
    }, 90_000);
  },
);

describe("the signal tests", () => {
  it("saw no 5xx and lost nothing", () => {
    expect(figures.serverErrors, figures.serverErrorSamples.join("\n")).toBe(0);
    expect(figures.lostWrites).toBe(0);
  });
});
