// The opt-in request trace (LOCAL_RUNTIME_TRACE) the benchmark reads its account from: one
// line per request that reached a function, every step timed, in order, on one clock across
// the server's thread and the instance's.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TraceRecord } from "../../scripts/local/request-trace.ts";

const traceDir = await mkdtemp(join(tmpdir(), "runtime-trace-"));
const traceFile = join(traceDir, "trace.jsonl");
// Read when the runtime's modules load: set before they are imported.
process.env.LOCAL_RUNTIME_TRACE = traceFile;
const { requestTrace, traceSteps } = await import("../../scripts/local/request-trace.ts");
const { startRuntime } = await import("./helpers.ts");

let runtime: Awaited<ReturnType<typeof startRuntime>>;

beforeAll(async () => {
  runtime = await startRuntime();
});

afterAll(async () => {
  await runtime?.close();
  delete process.env.LOCAL_RUNTIME_TRACE;
  await rm(traceDir, { recursive: true, force: true });
});

async function traced(): Promise<TraceRecord[]> {
  requestTrace?.flush();
  const text = await readFile(traceFile, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TraceRecord);
}

describe("LOCAL_RUNTIME_TRACE", () => {
  it("records every step of each invocation, in order, on one clock across threads", async () => {
    for (const path of ["/items", "/items/42", "/items/7"]) {
      const response = await fetch(`${runtime.url}${path}`);
      expect(response.status).toBe(200);
    }
    const records = await traced();
    expect(records.map((record) => record.route)).toEqual([
      "GET /items",
      "GET /items/{id}",
      "GET /items/{id}",
    ]);
    for (const record of records) {
      const times = traceSteps.map((step) => record.at[step]);
      expect(times.every((time) => typeof time === "number")).toBe(true);
      // Each step's time is at or after the one before, the instance's included: a clock of
      // its own in the worker would put its steps out of line.
      for (let index = 1; index < times.length; index++) {
        expect(times[index] as number).toBeGreaterThanOrEqual(times[index - 1] as number);
      }
    }
  });

  it("leaves out what never reached a function", async () => {
    const before = (await traced()).length;
    const unrouted = await fetch(`${runtime.url}/no/such/route`);
    expect(unrouted.status).toBe(403);
    expect((await traced()).length).toBe(before);
  });
});
