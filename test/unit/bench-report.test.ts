import { describe, expect, it } from "vitest";
import { markdownSummary, terminalReport } from "../../scripts/bench/report.ts";
import { type BenchResults, checkTargets } from "../../scripts/bench/results.ts";
import { harnessError, type SamLocalAnchor } from "../../scripts/bench/sam-local.ts";

/** Results with nothing measured but the local runtime's GET /todos/{id} at c=1. */
function resultsWith(samLocal?: SamLocalAnchor): BenchResults {
  return {
    mode: "full",
    date: "2026-12-02T00:00:00.000Z",
    command: "npm run bench",
    machine: {
      cpuModel: "Test CPU",
      cores: 2,
      node: "v24.21.0",
      platform: "linux x64",
      loadAverage: { start: 1, end: 1 },
    },
    durationS: 1,
    phasesS: {},
    coldStart: { rounds: 1, nodeOptions: "", artifacts: [] },
    perRequest: {
      durationS: 1,
      rounds: 1,
      concurrencies: [1],
      targets: {
        runtime: "local runtime (npm start)",
        "in-process": "(a) handler in-process",
        plain: "(b) plain node:http",
        "serverless-offline": "(c) serverless-offline",
        "isolation-floor": "(d) isolation floor",
      },
      runs: [
        {
          target: "runtime",
          endpoint: "get",
          concurrency: 1,
          requestsPerSecond: 459,
          p50Ms: 2.04,
          p99Ms: 6.1,
          requests: 459,
          failures: 0,
          durationS: 1,
          cpuMsPerRequest: {},
        },
      ],
    },
    dynamoDbRequests: [],
    scale: { sizes: [], loadSeconds: {}, runs: [] },
    memory: {
      concurrency: 16,
      requestsPerSecond: 0,
      failures: 0,
      stoppedEarly: false,
      warmUpRequests: 0,
      peakRssMb: 0,
      samples: [],
    },
    ...(samLocal ? { samLocal } : {}),
    targets: [],
  };
}

const measured: SamLocalAnchor = {
  status: "measured",
  endpoint: "GET /todos/{id}",
  requests: 50,
  servers: [
    {
      name: "sam local start-api (default)",
      minMs: 567.6,
      p50Ms: 622.04,
      p90Ms: 645.9,
      maxMs: 1700,
    },
    {
      name: "sam local start-api --warm-containers EAGER",
      minMs: 31.9,
      p50Ms: 46.1,
      p90Ms: 58.27,
      maxMs: 90,
    },
    { name: "npm start", minMs: 3.4, p50Ms: 5.4, p90Ms: 14.3, maxMs: 18.3 },
  ],
};

describe("the bench report's sam local anchor", () => {
  it("shows p50 and p90 of each server the harness measured, labelled an anchor, with the runtime's own p50 beside it", () => {
    const terminal = terminalReport(resultsWith(measured));
    expect(terminal).toContain("sam local start-api, a reported anchor (not a target)");
    expect(terminal).toMatch(/sam local start-api \(default\) +622\.0 +645\.9/);
    expect(terminal).toMatch(/sam local start-api --warm-containers EAGER +46\.1 +58\.3/);
    expect(terminal).toMatch(/npm start +5\.4 +14\.3/);
    expect(terminal).toContain("50 sequential GET /todos/{id} per server");
    expect(terminal).toContain("under autocannon above: p50 2.0 ms");

    const markdown = markdownSummary(resultsWith(measured));
    expect(markdown).toContain(
      "| sam local start-api, a reported anchor (not a target): per-request latency | p50 ms | p90 ms |",
    );
    expect(markdown).toContain("| sam local start-api (default) | 622.0 | 645.9 |");
    expect(markdown).toContain("| sam local start-api --warm-containers EAGER | 46.1 | 58.3 |");
    expect(markdown).toContain("| npm start | 5.4 | 14.3 |");
  });

  it("says why when it was not measured, and that a smoke run skips it", () => {
    const notMeasured = resultsWith({ status: "not measured", reason: "podman is not installed" });
    for (const report of [terminalReport(notMeasured), markdownSummary(notMeasured)]) {
      expect(report).toContain(
        "sam local start-api, a reported anchor (not a target): not measured (podman is not installed)",
      );
      expect(report).not.toContain("p90");
    }
    const skipped = resultsWith({ status: "skipped", reason: "smoke run" });
    expect(terminalReport(skipped)).toContain(
      "sam local start-api, a reported anchor (not a target): skipped (smoke run)",
    );
  });

  it("leaves it out of results from before it existed", () => {
    expect(terminalReport(resultsWith())).not.toContain("sam local");
    expect(markdownSummary(resultsWith())).not.toContain("sam local");
  });
});

describe("the harness's error, as the bench records it", () => {
  it("is the harness's own message and what follows it, not sam build's progress", () => {
    const stderr = [
      "Building codeuri: /repo runtime: nodejs24.x architecture: arm64 functions: TodoFunction",
      " Running NodejsNpmEsbuildBuilder:CopySource",
      "sam-local: sam local start-api (per-request) exited:",
      "Error: Running AWS SAM projects locally requires a container runtime.",
      "line three",
      "line four",
      "line five",
    ].join("\n");
    expect(harnessError(stderr, "code 1")).toBe(
      "the harness exited (code 1); sam-local: sam local start-api (per-request) exited:; Error: Running AWS SAM projects locally requires a container runtime.; line three; line four",
    );
  });

  it("is a thrown Error without its stack frames", () => {
    const stderr = [
      "file:///repo/test/sam-local/latency.ts:50",
      "  if (created.status !== 201) throw new Error(message);",
      "                                    ^",
      "",
      "Error: npm start: POST answered 401",
      "    at file:///repo/test/sam-local/latency.ts:50:37",
      "",
      "Node.js v24.21.0",
    ].join("\n");
    expect(harnessError(stderr, "code 1")).toBe(
      "the harness exited (code 1); Error: npm start: POST answered 401",
    );
  });

  it("is its last lines when it said nothing of its own", () => {
    expect(harnessError("a\nb\nc\nd\ne\n", "SIGKILL")).toBe(
      "the harness exited (SIGKILL); b; c; d; e",
    );
  });
});

describe("the runtime-vs-plain verdicts", () => {
  it("say how far the isolation floor (d) gets beside the runtime's own ratio", () => {
    const results = resultsWith();
    const [runtime] = results.perRequest.runs;
    if (!runtime) throw new Error("the fixture has a runtime run");
    results.perRequest.runs.push(
      { ...runtime, target: "plain", requestsPerSecond: 700 },
      { ...runtime, target: "isolation-floor", requestsPerSecond: 525 },
    );
    const check = checkTargets(results).find((c) => c.id === "get-vs-plain-c1");
    expect(check?.verdict).toBe("MISSED");
    expect(check?.figures).toBe(
      "runtime 459 req/s, plain 700 req/s: 65.6%; isolation floor (d) 525 req/s: 75%",
    );
  });
});
