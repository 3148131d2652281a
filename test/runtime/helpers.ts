// Starts the local runtime for a test: random ports, in-memory DynamoDB, quiet logs kept
// for assertions, and a copy of a fixture folder when a test must edit its sources.
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { type LocalApi, type LocalApiOptions, startLocalApi } from "../../scripts/local/index.ts";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const fixturesDir = join(repoRoot, "test/fixtures/runtime");
export const fixtureTemplate = join(fixturesDir, "template.yaml");
export const cliPath = join(repoRoot, "scripts/local/cli.ts");
/** What npm start runs: the runtime's CLI with this project's sample todos. */
export const startPath = join(repoRoot, "scripts/start.ts");

/**
 * The product as the tests serve it: built from the sources, or, with SAM_BUILD_DIR set
 * (e.g. .aws-sam/build after `sam build`), the very artifacts that would be deployed.
 */
export function productOptions(): LocalApiOptions {
  const samBuildDir = process.env.SAM_BUILD_DIR;
  return {
    template: join(repoRoot, "template.yaml"),
    ...(samBuildDir ? { buildDir: resolve(repoRoot, samBuildDir) } : {}),
  };
}

export interface StartedRuntime extends LocalApi {
  logs: string[];
  warnings: string[];
  errors: string[];
  /** What the functions printed. */
  functionOutput(): string;
}

export async function startRuntime(options: LocalApiOptions = {}): Promise<StartedRuntime> {
  const logs: string[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  const output: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const api = await startLocalApi({
    template: fixtureTemplate,
    port: 0,
    ddbPort: 0,
    inMemory: true,
    watch: false,
    ...options,
    log: {
      info: (message) => logs.push(message),
      warn: (message) => warnings.push(message),
      error: (message) => errors.push(message),
    },
    functionOutput: { stdout, stderr },
  });
  return Object.assign(api, {
    logs,
    warnings,
    errors,
    functionOutput: () => output.join(""),
  });
}

/** A scratch folder, removed by the returned function. */
export async function scratchDir(prefix: string): Promise<[string, () => Promise<void>]> {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  return [dir, () => rm(dir, { recursive: true, force: true })];
}

/** A copy of the fixture folder (template and functions) that a test may edit. */
export async function copyFixtures(target: string): Promise<string> {
  await cp(fixturesDir, target, {
    recursive: true,
    filter: (source) => !source.includes(`${fixturesDir}/.build`),
  });
  return join(target, "template.yaml");
}

/** Retries `probe` until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`gave up after ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ""}`);
}
