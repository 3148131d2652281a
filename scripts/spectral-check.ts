// Spectral with the committed ruleset (.spectral.yaml: the OWASP API Security Top 10) on
// openapi.yaml, for CI. Passes when nothing is reported: a rule that does not fit is switched
// off in .spectral.yaml with its reason, never here.
//
//   node scripts/spectral-check.ts
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");

interface SpectralResult {
  code: string;
  message: string;
  path: (string | number)[];
  severity: 0 | 1 | 2 | 3;
}
const severities = ["error", "warning", "info", "hint"] as const;

const run = spawnSync(
  resolve(root, "node_modules/.bin/spectral"),
  ["lint", "openapi.yaml", "--ruleset", ".spectral.yaml", "--format", "json", "--quiet"],
  { cwd: root, encoding: "utf8" },
);
let results: SpectralResult[];
try {
  results = JSON.parse(run.stdout || "[]");
} catch {
  console.error(`spectral: no JSON report (exit ${run.status})\n${run.stdout}\n${run.stderr}`);
  process.exit(1);
}

const where = (result: SpectralResult) => `#/${result.path.join("/")}`;
const line = (result: SpectralResult) =>
  `  ${severities[result.severity]} ${result.code} ${where(result)}: ${result.message}`;
const count = (severity: number) => results.filter((result) => result.severity === severity).length;

console.log(`spectral (OWASP API ruleset): ${count(0)} errors, ${count(1)} warnings in all`);
if (results.length) {
  console.error(`to fix in openapi.yaml, or to override in .spectral.yaml with the reason:`);
  for (const result of results) console.error(line(result));
}
process.exit(results.length ? 1 : 0);
