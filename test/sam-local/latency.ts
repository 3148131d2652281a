// `npm run test:sam-local -- --latency`: per-request latency of the same API served three ways
// (run.sh starts them in its network namespace). A small bounded loop, printed for the README;
// no assertion: timings are never pass/fail.
//
//   node test/sam-local/latency.ts REQUESTS NAME=URL@TOKEN...   (TOKEN: a bearer token for URL)
const [countArg, ...targets] = process.argv.slice(2);
const requests = Number(countArg);

/** Milliseconds to the whole answer, with its status and body. */
async function timed(url: string, token: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${token}`);
  const start = performance.now();
  const response = await fetch(url, { ...init, headers });
  const body = await response.text();
  return { ms: performance.now() - start, status: response.status, body };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

console.log(`${requests} sequential GET /todos/{id} each, after one warm-up request (ms):`);
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
  const { id } = JSON.parse(created.body) as { id: string };
  if (created.status !== 201) throw new Error(`${name}: POST answered ${created.status}`);
  await timed(`${base}/todos/${id}`, token);
  const samples: number[] = [];
  for (let i = 0; i < requests; i++) {
    const { ms, status } = await timed(`${base}/todos/${id}`, token);
    if (status !== 200) throw new Error(`${name}: GET answered ${status}`);
    samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  const cells = [
    samples[0] ?? Number.NaN,
    percentile(samples, 50),
    percentile(samples, 90),
    samples.at(-1) ?? Number.NaN,
  ];
  console.log(name.padEnd(44), ...cells.map((ms) => ms.toFixed(1).padStart(7)));
}
