// What people read: a table in the terminal and an SVG chart (plain string building).
import { endpoints } from "./endpoints.ts";
import {
  type CpuAccount,
  type PerRequestFigures,
  type TargetName,
  targetLabels,
} from "./per-request.ts";
import type { BenchResults } from "./results.ts";
import { scaleQueries } from "./scale.ts";
import { stepLabels } from "./trace.ts";

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, index) =>
    Math.max(cell.length, ...rows.map((row) => (row[index] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, index) =>
        index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0),
      )
      .join("  ");
  return [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)]
    .map((text) => `  ${text}`)
    .join("\n");
}

const targetOrder: TargetName[] = [
  "runtime",
  "in-process",
  "plain",
  "serverless-offline",
  "isolation-floor",
];

const cpuColumns: (keyof CpuAccount)[] = [
  "server thread",
  "instance threads",
  "V8 helpers",
  "libuv pool",
  "other threads",
  "child processes",
  "dynalite",
];

/** The per-request CPU account of the runs that have one, as table rows. */
function cpuRows(runs: PerRequestFigures[], concurrencies: number[]): string[][] {
  const rows: string[][] = [];
  for (const endpoint of endpoints) {
    for (const concurrency of concurrencies) {
      for (const target of targetOrder) {
        const run = runs.find(
          (r) =>
            r.target === target && r.endpoint === endpoint.key && r.concurrency === concurrency,
        );
        if (!run?.cpuMsPerRequest) continue;
        const account = run.cpuMsPerRequest;
        const total = Object.values(account).reduce((sum, ms) => sum + (ms ?? 0), 0);
        rows.push([
          `${endpoint.label} c=${concurrency}`,
          targetLabels[target],
          ...cpuColumns.map((column) => (account[column] ? account[column].toFixed(3) : "")),
          total.toFixed(3),
        ]);
      }
    }
  }
  return rows;
}

/**
 * The trace's account as rows: one per step (mean / p50 ms: a GC pause or a wait for a core
 * shows in the mean), one column per endpoint and concurrency, then the sums of the means.
 * Empty for results without a trace.
 */
function traceTable(results: BenchResults): { header: string[]; rows: string[][] } {
  const accounts = results.trace?.accounts ?? [];
  const header = accounts.map((account) => {
    const label = endpoints.find((endpoint) => endpoint.key === account.endpoint)?.label;
    return `${label ?? account.endpoint} c=${account.concurrency}`;
  });
  const first = accounts[0];
  if (!first) return { header, rows: [] };
  const rows = first.steps.map((figures, index) => [
    stepLabels[figures.step],
    ...accounts.map((account) => {
      const step = account.steps[index];
      return step ? `${step.meanMs.toFixed(3)} / ${step.p50Ms.toFixed(3)}` : "";
    }),
  ]);
  rows.push(
    ["received → response written", ...accounts.map((account) => account.totalMs.toFixed(3))],
    [
      "the runtime's own steps (no handler, no queue)",
      ...accounts.map((account) => account.runtimeMs.toFixed(3)),
    ],
  );
  return { header, rows };
}

const samLocalTitle = "sam local start-api, a reported anchor (not a target)";

/**
 * The sam local anchor: one row per server as the harness measured it (p50 / p90 ms), and a
 * line that says how, with the bench's own figure for the runtime beside it; or, when it was
 * not measured, only the line that says why. Empty for results without it.
 */
function samLocalAnchor(results: BenchResults): { rows: string[][]; note: string } {
  const anchor = results.samLocal;
  if (!anchor) return { rows: [], note: "" };
  if (anchor.status !== "measured") {
    return { rows: [], note: `${samLocalTitle}: ${anchor.status} (${anchor.reason})` };
  }
  const runtime = results.perRequest.runs.find(
    (run) => run.target === "runtime" && run.endpoint === "get" && run.concurrency === 1,
  );
  return {
    rows: anchor.servers.map((server) => [
      server.name,
      server.p50Ms.toFixed(1),
      server.p90Ms.toFixed(1),
    ]),
    note: `${anchor.requests} sequential ${anchor.endpoint} per server after one warm-up, one at a time (fetch), by npm run test:sam-local -- --latency in its network namespace; npm start there is the same runtime.${runtime ? ` The bench's own figure for it, ${anchor.endpoint} at c=1 under autocannon above: p50 ${runtime.p50Ms.toFixed(1)} ms.` : ""}`,
  };
}

/** The floor under the two hops, in words. */
function threadHopNote(results: BenchResults): string {
  const hop = results.trace?.threadHop;
  if (!hop) return "";
  return `The two hops' floor on this machine, a bare MessagePort round trip between two threads (2 KB out): p50 ${hop.busy.p50Ms.toFixed(3)} ms back to back, ${hop.afterIdle.p50Ms.toFixed(3)} ms after 1 ms idle (mean ${hop.afterIdle.meanMs.toFixed(3)} ms).`;
}

export function terminalReport(results: BenchResults): string {
  const out: string[] = [];
  const { machine } = results;
  out.push(
    `\nnpm run bench${results.mode === "smoke" ? ":smoke (short runs: the figures check that the benchmark works, they measure little)" : ""}`,
    `${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, ${results.date}, load average ${machine.loadAverage.start} → ${machine.loadAverage.end}, ${results.durationS} s`,
  );

  out.push(
    `\nCold start (fresh Node process importing the built handler, median of ${results.coldStart.rounds}, NODE_OPTIONS=${results.coldStart.nodeOptions || "(none)"})`,
  );
  const bare = results.coldStart.artifacts.find((a) => a.name === "document-client");
  out.push(
    table(
      [
        "artifact",
        "bundle",
        "source map",
        "init (median)",
        "min",
        "CPU (median)",
        "vs bare client",
      ],
      results.coldStart.artifacts.map((artifact) => [
        artifact.name,
        kib(artifact.bytes),
        kib(artifact.sourceMapBytes),
        `${artifact.initMs.toFixed(1)} ms`,
        `${Math.min(...artifact.samplesMs).toFixed(1)} ms`,
        `${artifact.cpuMs.toFixed(1)} ms`,
        bare && artifact !== bare
          ? `${artifact.initMs - bare.initMs >= 0 ? "+" : ""}${(artifact.initMs - bare.initMs).toFixed(1)} ms, ${((artifact.bytes / bare.bytes - 1) * 100).toFixed(1)}% size`
          : "",
      ]),
    ),
  );

  out.push(
    `\nPer request (autocannon, ${results.perRequest.durationS} s per figure in ${results.perRequest.rounds} turns; req/s, p50 / p99 ms)`,
  );
  const targets = targetOrder.filter((target) =>
    results.perRequest.runs.some((run) => run.target === target),
  );
  const rows: string[][] = [];
  for (const endpoint of endpoints) {
    for (const concurrency of results.perRequest.concurrencies) {
      const row = [`${endpoint.label} c=${concurrency}`];
      for (const target of targets) {
        const run = results.perRequest.runs.find(
          (r) =>
            r.target === target && r.endpoint === endpoint.key && r.concurrency === concurrency,
        );
        row.push(
          run
            ? `${run.requestsPerSecond.toFixed(0)}  ${run.p50Ms.toFixed(2)} / ${run.p99Ms.toFixed(2)}${run.failures ? ` (${run.failures} failed)` : ""}`
            : "-",
        );
      }
      rows.push(row);
    }
  }
  out.push(table(["", ...targets.map((target) => targetLabels[target])], rows));

  const sam = samLocalAnchor(results);
  if (sam.rows.length) {
    out.push(`\n${samLocalTitle}: per-request latency, ms`);
    out.push(table(["server", "p50", "p90"], sam.rows));
    out.push(`  ${sam.note}`);
  } else if (sam.note) {
    out.push(`\n${sam.note}`);
  }

  out.push(
    "\nCPU per request, ms (user + system time of each thread, from /proc, over the measured runs; dynalite is shared)",
  );
  out.push(
    table(
      ["", "target", ...cpuColumns, "total"],
      cpuRows(results.perRequest.runs, results.perRequest.concurrencies),
    ),
  );

  const trace = traceTable(results);
  if (trace.rows.length) {
    out.push(
      `\nThe runtime's account of a request, ms per step, mean / p50 (LOCAL_RUNTIME_TRACE, ${results.trace?.durationS} s per column; from the 'request' event to the socket write; sums of the means)`,
    );
    out.push(table(["step", ...trace.header], trace.rows));
    out.push(`  ${threadHopNote(results)}`);
  }

  out.push("\nDynamoDB requests per operation (SDK middleware count, success path)");
  out.push(
    table(
      ["operation", "status", "requests", "expected", "commands"],
      results.dynamoDbRequests.map((count) => [
        count.operation,
        String(count.status),
        String(count.requests),
        String(count.expected),
        `${count.commands.join(", ")}${count.note ? `  (${count.note})` : ""}`,
      ]),
    ),
  );

  out.push(`\nScale (GET /todos?limit=50 on the runtime, c=1; p50 / p99 ms)`);
  out.push(
    table(
      ["query", ...results.scale.sizes.map((size) => `${size} todos`)],
      scaleQueries.map((query) => [
        query.label,
        ...results.scale.sizes.map((size) => {
          const run = results.scale.runs.find(
            (r) => r.query === query.key && r.storedTodos === size,
          );
          return run ? `${run.p50Ms.toFixed(2)} / ${run.p99Ms.toFixed(2)}` : "-";
        }),
      ]),
    ),
  );

  out.push(
    `\nMemory of the local runtime (RSS of its process, instances included; c=${results.memory.concurrency}, ${results.memory.requestsPerSecond} req/s; peak ${results.memory.peakRssMb} MB)`,
  );
  out.push(
    table(
      ["after requests", "RSS", "threads", "child processes"],
      results.memory.samples.map((sample) => [
        String(sample.requests),
        `${sample.rssMb} MB`,
        String(sample.threads),
        `${sample.childrenRssMb} MB`,
      ]),
    ),
  );

  out.push("\nTargets");
  for (const check of results.targets) {
    out.push(`  ${check.verdict.padEnd(6)}  ${check.target}: ${check.figures}`);
  }
  return out.join("\n");
}

const escapeXml = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

const colors: Record<TargetName, string> = {
  runtime: "#2563eb",
  "in-process": "#94a3b8",
  plain: "#16a34a",
  "serverless-offline": "#f97316",
  "isolation-floor": "#a855f7",
};

/** Horizontal bars: one group per row label, one bar per series. */
function barPanel(options: {
  x: number;
  y: number;
  width: number;
  title: string;
  groups: { label: string; bars: { value: number; text: string; color: string }[] }[];
}): { svg: string; height: number } {
  const { x, y, width, title, groups } = options;
  const labelWidth = 170;
  const barHeight = 11;
  const gap = 10;
  const max = Math.max(1, ...groups.flatMap((group) => group.bars.map((bar) => bar.value)));
  const scale = (width - labelWidth - 90) / max;
  const parts = [`<text x="${x}" y="${y}" class="title">${escapeXml(title)}</text>`];
  let cursor = y + 14;
  for (const group of groups) {
    const groupHeight = group.bars.length * (barHeight + 2);
    parts.push(
      `<text x="${x + labelWidth - 8}" y="${cursor + groupHeight / 2 + 4}" text-anchor="end" class="label">${escapeXml(group.label)}</text>`,
    );
    for (const bar of group.bars) {
      const length = Math.max(1, bar.value * scale);
      parts.push(
        `<rect x="${x + labelWidth}" y="${cursor}" width="${length.toFixed(1)}" height="${barHeight}" fill="${bar.color}"/>`,
        `<text x="${(x + labelWidth + length + 4).toFixed(1)}" y="${cursor + barHeight - 2}" class="value">${escapeXml(bar.text)}</text>`,
      );
      cursor += barHeight + 2;
    }
    cursor += gap;
  }
  return { svg: parts.join("\n"), height: cursor - y };
}

export function chartSvg(results: BenchResults): string {
  const width = 900;
  const columnWidth = 440;
  const targets = targetOrder.filter((target) =>
    results.perRequest.runs.some((run) => run.target === target),
  );
  const requestGroups = endpoints.flatMap((endpoint) =>
    results.perRequest.concurrencies.map((concurrency) => ({
      label: `${endpoint.label} c=${concurrency}`,
      bars: targets.map((target) => {
        const run = results.perRequest.runs.find(
          (r) =>
            r.target === target && r.endpoint === endpoint.key && r.concurrency === concurrency,
        );
        const value = run?.requestsPerSecond ?? 0;
        return { value, text: `${value.toFixed(0)} req/s`, color: colors[target] };
      }),
    })),
  );
  const left = barPanel({
    x: 20,
    y: 60,
    width: columnWidth,
    title: "Requests per second (higher is better)",
    groups: requestGroups,
  });

  const artifacts = results.coldStart.artifacts;
  const coldColors: Record<string, string> = {
    "hello-world": "#94a3b8",
    "document-client": "#16a34a",
    product: "#2563eb",
  };
  const init = barPanel({
    x: 470,
    y: 60,
    width: columnWidth,
    title: `Cold start: module init, median of ${results.coldStart.rounds} (ms)`,
    groups: artifacts.map((artifact) => ({
      label: artifact.name,
      bars: [
        {
          value: artifact.initMs,
          text: `${artifact.initMs.toFixed(1)} ms`,
          color: coldColors[artifact.name] ?? "#64748b",
        },
      ],
    })),
  });
  const size = barPanel({
    x: 470,
    y: 60 + init.height + 24,
    width: columnWidth,
    title: "Cold start: bundle size (KiB, source map aside)",
    groups: artifacts.map((artifact) => ({
      label: artifact.name,
      bars: [
        {
          value: artifact.bytes / 1024,
          text: kib(artifact.bytes),
          color: coldColors[artifact.name] ?? "#64748b",
        },
      ],
    })),
  });
  const targetsY = 60 + init.height + 24 + size.height + 24;
  const targetLines = results.targets.map(
    (check, index) =>
      `<text x="470" y="${targetsY + 16 + index * 14}" class="${check.verdict === "met" ? "met" : "missed"}">${check.verdict}: ${escapeXml(check.target)}</text>`,
  );
  const legendY = 60 + left.height + 8;
  // Three to a row: five labels do not fit the width in one.
  const legendAt = (index: number) => ({
    x: 20 + (index % 3) * 290,
    y: legendY + Math.floor(index / 3) * 16,
  });
  const legend = targets.map((target, index) => {
    const { x, y } = legendAt(index);
    return `<rect x="${x}" y="${y}" width="10" height="10" fill="${colors[target]}"/><text x="${x + 14}" y="${y + 9}" class="label">${escapeXml(targetLabels[target])}</text>`;
  });
  const legendRows = Math.ceil(targets.length / 3);
  const height =
    Math.max(legendY + 24 + legendRows * 16, targetsY + 24 + targetLines.length * 14) + 30;
  const { machine } = results;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">
<style>
.heading { font-size: 16px; font-weight: 600; fill: #0f172a; }
.title { font-size: 13px; font-weight: 600; fill: #0f172a; }
.label { font-size: 11px; fill: #334155; }
.value { font-size: 10px; fill: #475569; }
.note { font-size: 11px; fill: #64748b; }
.met { font-size: 11px; fill: #15803d; }
.missed { font-size: 11px; fill: #b91c1c; font-weight: 600; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="20" y="26" class="heading">Todo API: local runtime vs baselines, cold start vs baselines${results.mode === "smoke" ? " (smoke run)" : ""}</text>
<text x="20" y="44" class="note">${escapeXml(`${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, ${results.date.slice(0, 16).replace("T", " ")} UTC, load average ${machine.loadAverage.start} → ${machine.loadAverage.end}`)}</text>
${left.svg}
${legend.join("\n")}
${init.svg}
${size.svg}
<text x="470" y="${targetsY}" class="title">Targets</text>
${targetLines.join("\n")}
<text x="20" y="${height - 12}" class="note">Remake with: ${escapeXml(results.command)}   (figures: bench/results/latest.json)</text>
</svg>
`;
}

/** The figures as a Markdown table, for README (bench/results/summary.md). */
export function markdownSummary(results: BenchResults): string {
  const { machine } = results;
  const run = (target: TargetName, endpoint: string, concurrency: number) =>
    results.perRequest.runs.find(
      (r) => r.target === target && r.endpoint === endpoint && r.concurrency === concurrency,
    );
  const targets = targetOrder.filter((target) =>
    results.perRequest.runs.some((r) => r.target === target),
  );
  const lines = [
    `Measured on ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, ${results.date.slice(0, 10)} (load average ${machine.loadAverage.start} → ${machine.loadAverage.end}); remake with \`${results.command}\`.`,
    "",
    `| Requests per second (p50 / p99 ms) | ${targets.map((target) => targetLabels[target]).join(" | ")} |`,
    `|---|${targets.map(() => "---:").join("|")}|`,
  ];
  for (const endpoint of endpoints) {
    for (const concurrency of results.perRequest.concurrencies) {
      const cells = targets.map((target) => {
        const figures = run(target, endpoint.key, concurrency);
        return figures
          ? `${figures.requestsPerSecond.toFixed(0)} (${figures.p50Ms.toFixed(1)} / ${figures.p99Ms.toFixed(1)})`
          : "–";
      });
      lines.push(`| \`${endpoint.label}\` c=${concurrency} | ${cells.join(" | ")} |`);
    }
  }
  const sam = samLocalAnchor(results);
  if (sam.rows.length) {
    lines.push(
      "",
      `| ${samLocalTitle}: per-request latency | p50 ms | p90 ms |`,
      "|---|---:|---:|",
      ...sam.rows.map((row) => `| ${row.join(" | ")} |`),
      "",
      sam.note,
    );
  } else if (sam.note) {
    lines.push("", sam.note);
  }
  const cpu = cpuRows(results.perRequest.runs, results.perRequest.concurrencies);
  if (cpu.length) {
    lines.push(
      "",
      `| CPU per request (ms) | target | ${cpuColumns.join(" | ")} | total |`,
      `|---|---|${[...cpuColumns, "total"].map(() => "---:").join("|")}|`,
      ...cpu.map(
        (row) =>
          `| ${row.map((cell, index) => (index === 0 ? `\`${cell}\`` : cell || "–")).join(" | ")} |`,
      ),
    );
  }
  const trace = traceTable(results);
  if (trace.rows.length) {
    lines.push(
      "",
      `| Runtime step (ms, mean / p50) | ${trace.header.map((cell) => `\`${cell}\``).join(" | ")} |`,
      `|---|${trace.header.map(() => "---:").join("|")}|`,
      ...trace.rows.map((row) => `| ${row.join(" | ")} |`),
      "",
      threadHopNote(results),
    );
  }
  lines.push(
    "",
    "| Cold start | bundle | init (median) | CPU (median) |",
    "|---|---:|---:|---:|",
    ...results.coldStart.artifacts.map(
      (artifact) =>
        `| ${artifact.name} | ${kib(artifact.bytes)} | ${artifact.initMs.toFixed(1)} ms | ${artifact.cpuMs.toFixed(1)} ms |`,
    ),
    "",
    "| Target | Verdict | Figures |",
    "|---|---|---|",
    ...results.targets.map(
      (check) =>
        `| ${check.target} | ${check.verdict === "met" ? "met" : `**${check.verdict}**`} | ${check.figures} |`,
    ),
    "",
  );
  return lines.join("\n");
}
