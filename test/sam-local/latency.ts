// `npm run test:sam-local -- --latency`: per-request latency of the same API served three ways
// (run.sh starts them in its network namespace). A small bounded loop, printed for the README;
// no assertion: timings are never pass/fail. With SAM_LATENCY_JSON=<file> the figures are also
// written there as JSON (SamLatencyFigures, which npm run bench reads as a reported anchor).
//
//   node test/sam-local/latency.ts REQUESTS NAME=URL@TOKEN...   (TOKEN: a bearer token for URL)
import { writeFileSync } from "node:fs";
import type { SamLatencyFigures } from "../../scripts/bench/sam-local.ts";

const [countArg, ...targets] = process.argv.slice(2);
const requests = Number(countArg);
// A container per request takes about a second here; a minute means something hangs.
const requestTimeoutMs = 60_000;

/** Milliseconds to the whole answer, with its status and body. */
async function timed(url: string, token: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${token}`);
  const start = performance.now();
  const response = await fetch(url, {
    ...init,
    headers,
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  const body = await response.text();
  return { ms: performance.now() - start, status: response.status, body };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const round = (ms: number) => Math.round(ms * 100) / 100;

const figures: SamLatencyFigures = { endpoint: "GET /todos/{id}", requests, servers: [] };
console.log(`${requests} sequential ${figures.endpoint} each, after one warm-up request (ms):`);
console.log(
  "server".padEnd(44),
  "min".padStart(7),
  "median".padStart(7),
  "p90".padStart(7),
  "max".padStart(7),
);
for (const target of targets) {
  const [name, served] = target.split("=") as [string, string];
  const [base, token] = served.split("@") as [string, string];
  const created = await timed(`${base}/todos`, token, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ title: "latency" }),
  });
  if (created.status !== 201) throw new Error(`${name}: POST answered ${created.status}`);
  const { id } = JSON.parse(created.body) as { id: string };
  await timed(`${base}/todos/${id}`, token);
  const samples: number[] = [];
  for (let i = 0; i < requests; i++) {
    const { ms, status } = await timed(`${base}/todos/${id}`, token);
    if (status !== 200) throw new Error(`${name}: GET answered ${status}`);
    samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  const server = {
    name,
    minMs: round(samples[0] ?? Number.NaN),
    p50Ms: round(percentile(samples, 50)),
    p90Ms: round(percentile(samples, 90)),
    maxMs: round(samples.at(-1) ?? Number.NaN),
  };
  figures.servers.push(server);
  const cells = [server.minMs, server.p50Ms, server.p90Ms, server.maxMs];
  console.log(name.padEnd(44), ...cells.map((ms) => ms.toFixed(1).padStart(7)));
}
if (process.env.SAM_LATENCY_JSON) {
  writeFileSync(process.env.SAM_LATENCY_JSON, `${JSON.stringify(figures, null, 2)}\n`);
}
