// Builds a function the way `sam build` does (esbuild driven by Metadata.BuildProperties),
// rebuilds it incrementally when its sources change, and hands each good build to the
// caller as a folder of its own, so instances running the previous build are untouched.
import { existsSync, type FSWatcher, watch } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import * as esbuild from "esbuild";
import type { FunctionDefinition } from "./template.ts";

export interface PrepareOptions {
  /** Where this runtime writes its builds; removed on close. */
  outRoot: string;
  watch: boolean;
  /** An existing `sam build` output (.aws-sam/build): serve <dir>/<FunctionId>/ as built. */
  samBuildDir?: string;
  /** Called with the folder of every good build, the first one included. */
  deploy: (artifactDir: string) => void;
  log: (message: string) => void;
  logError: (message: string) => void;
}

export interface PreparedFunction {
  close(): Promise<void>;
}

export class BuildError extends Error {
  override name = "BuildError";
}

function asList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map(String);
  return String(value)
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

/** SAM writes maps as "key=value" lists (OutExtension, Banner, Loader...). */
function asMap(value: unknown): Record<string, string> | undefined {
  const entries = asList(value).map((item) => {
    const equals = item.indexOf("=");
    return [item.slice(0, equals), item.slice(equals + 1)] as const;
  });
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

// `sam build` (aws-lambda-builders' EsbuildCommandBuilder) passes every BuildProperty to
// the esbuild CLI as it is: a boolean true as --key, a string as --key=value, a list as one
// --key:item per item; it always adds --bundle --platform=node --outdir, and, unless set,
// --target=es2020 --format=cjs --minify. The same translation, into esbuild's JS API:
const notForEsbuild = new Set(["EntryPoints", "UseNpmCi"]);
const setBySamBuild = new Set(["Bundle", "Platform", "Outdir"]);
/** Options whose CLI list items are key=value pairs. */
const mapOptions = new Set([
  "alias",
  "banner",
  "define",
  "footer",
  "loader",
  "logOverride",
  "outExtension",
  "supported",
]);
/** Options whose CLI string value is a comma-separated list. */
const commaListOptions = new Set(["mainFields", "conditions", "resolveExtensions", "target"]);

function camelCase(propertyName: string): string {
  return propertyName.charAt(0).toLowerCase() + propertyName.slice(1);
}

/** The esbuild options `sam build` derives from a function's BuildProperties. */
export function esbuildOptions(fn: FunctionDefinition, outdir: string): esbuild.BuildOptions {
  const properties = fn.build?.properties ?? {};
  const entryPoints = asList(properties.EntryPoints);
  if (entryPoints.length === 0) {
    throw new BuildError(`${fn.logicalId}: BuildProperties has no EntryPoints`);
  }
  const options: Record<string, unknown> = { target: "es2020", format: "cjs", minify: true };
  for (const [property, value] of Object.entries(properties)) {
    if (notForEsbuild.has(property) || setBySamBuild.has(property)) continue;
    const name = camelCase(property);
    if (typeof value === "boolean") {
      // --key only for true; a false still replaces sam build's default (Minify: false).
      options[name] = value;
    } else if (Array.isArray(value)) {
      options[name] = mapOptions.has(name) ? asMap(value) : value.map(String);
    } else if (commaListOptions.has(name)) {
      options[name] = asList(value);
    } else if (value === "true" || value === "false") {
      options[name] = value === "true";
    } else {
      options[name] = String(value);
    }
  }
  return {
    ...(options as esbuild.BuildOptions),
    absWorkingDir: fn.codeDir,
    entryPoints,
    bundle: true,
    platform: "node",
    outdir,
    write: false,
    metafile: true,
    logLevel: "silent",
  };
}

/** Folders (outside node_modules) holding the build's own sources, to watch. */
function sourceFolders(codeDir: string, metafile: esbuild.Metafile | undefined): Set<string> {
  const folders = new Set<string>();
  for (const input of Object.keys(metafile?.inputs ?? {})) {
    if (input.includes("node_modules") || input.includes(":")) continue;
    folders.add(dirname(resolve(codeDir, input)));
  }
  return folders;
}

/** A folder and its subfolders, minus node_modules and dot-folders: what a no-build function loads. */
async function folderTree(root: string, depth = 6): Promise<string[]> {
  const folders = [root];
  if (depth === 0) return folders;
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === "node_modules" || entry.name.startsWith("."))
      continue;
    folders.push(...(await folderTree(join(root, entry.name), depth - 1)));
  }
  return folders;
}

/** Watches folders (not files, so an editor's save-by-rename is seen) and debounces. */
class FolderWatcher {
  readonly #watchers = new Map<string, FSWatcher>();
  readonly #onChange: () => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(onChange: () => void) {
    this.#onChange = onChange;
  }

  watchOnly(folders: Iterable<string>): void {
    const wanted = new Set(folders);
    for (const [folder, watcher] of this.#watchers) {
      if (!wanted.has(folder)) {
        watcher.close();
        this.#watchers.delete(folder);
      }
    }
    for (const folder of wanted) {
      if (this.#watchers.has(folder) || !existsSync(folder)) continue;
      const watcher = watch(folder, (_event, filename) => {
        if (filename && /(^|\/)(\.|node_modules)|~$|\.swp$/.test(filename)) return;
        clearTimeout(this.#timer);
        this.#timer = setTimeout(this.#onChange, 40);
      });
      watcher.on("error", () => {});
      this.#watchers.set(folder, watcher);
    }
  }

  close(): void {
    clearTimeout(this.#timer);
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }
}

async function prepareSamBuild(
  fn: FunctionDefinition,
  options: PrepareOptions,
): Promise<PreparedFunction> {
  const artifactDir = resolve(options.samBuildDir as string, fn.logicalId);
  if (!existsSync(artifactDir)) {
    throw new BuildError(
      `${fn.logicalId}: ${artifactDir} does not exist: run \`sam build\` first, or leave out --build-dir`,
    );
  }
  options.deploy(artifactDir);
  return { close: async () => {} };
}

/** No BuildMethod: the CodeUri folder is the artifact, as with a plain JavaScript function. */
async function prepareUnbuilt(
  fn: FunctionDefinition,
  options: PrepareOptions,
): Promise<PreparedFunction> {
  options.deploy(fn.codeDir);
  if (!options.watch) return { close: async () => {} };
  const watcher = new FolderWatcher(() => {
    options.log(`${fn.logicalId}: sources changed, new instances load them`);
    options.deploy(fn.codeDir);
  });
  watcher.watchOnly(await folderTree(fn.codeDir));
  return { close: async () => watcher.close() };
}

async function prepareEsbuild(
  fn: FunctionDefinition,
  options: PrepareOptions,
): Promise<PreparedFunction> {
  const functionRoot = join(options.outRoot, fn.logicalId);
  const stagingDir = join(functionRoot, "out");
  const context = await esbuild.context(esbuildOptions(fn, stagingDir));
  let version = 0;
  let lastGoodFolders = new Set<string>([fn.codeDir]);
  let building: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const buildOnce = async (): Promise<boolean> => {
    const started = performance.now();
    let result: esbuild.BuildResult<{ write: false; metafile: true }>;
    try {
      result = (await context.rebuild()) as esbuild.BuildResult<{ write: false; metafile: true }>;
    } catch (error) {
      const failure = error as esbuild.BuildFailure;
      const formatted = failure.errors
        ? await esbuild.formatMessages(failure.errors, { kind: "error", color: false })
        : [String(error)];
      options.logError(
        `${fn.logicalId}: build failed; still serving the last good build until it is fixed\n${formatted.join("\n")}`,
      );
      return false;
    }
    version++;
    const artifactDir = join(functionRoot, `v${version}`);
    await mkdir(artifactDir, { recursive: true });
    // Lambda's task root has no package.json, so .js means CommonJS there: not this repo's "type".
    await writeFile(join(artifactDir, "package.json"), "{}\n");
    for (const file of result.outputFiles ?? []) {
      const target = join(artifactDir, relative(stagingDir, file.path));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, file.contents);
    }
    lastGoodFolders = sourceFolders(fn.codeDir, result.metafile);
    if (closed) return true;
    options.deploy(artifactDir);
    options.log(
      `${fn.logicalId}: built in ${Math.round(performance.now() - started)} ms${version > 1 ? ", new instances serve it" : ""}`,
    );
    // Instances of two builds back have long finished their requests.
    if (version > 2) {
      await rm(join(functionRoot, `v${version - 2}`), { recursive: true, force: true });
    }
    return true;
  };

  const watcher = new FolderWatcher(() => {
    void rebuild();
  });
  const rebuild = async (): Promise<void> => {
    if (closed) return;
    if (building) {
      again = true;
      return;
    }
    building = buildOnce().then(() => {});
    await building;
    building = undefined;
    watcher.watchOnly(lastGoodFolders);
    if (again) {
      again = false;
      await rebuild();
    }
  };

  const firstBuildOk = await buildOnce();
  if (!firstBuildOk && !options.watch) {
    await context.dispose();
    throw new BuildError(`${fn.logicalId}: the build failed (see above)`);
  }
  if (options.watch) {
    // Until a build succeeds, watch every source folder under CodeUri's entry points.
    if (!firstBuildOk) {
      const entryFolders = asList(fn.build?.properties.EntryPoints).map((entry) =>
        dirname(resolve(fn.codeDir, entry)),
      );
      lastGoodFolders = new Set(
        (await Promise.all(entryFolders.map((folder) => folderTree(folder)))).flat(),
      );
    }
    watcher.watchOnly(lastGoodFolders);
  }
  return {
    close: async () => {
      closed = true;
      watcher.close();
      await building;
      await context.dispose();
    },
  };
}

export async function prepareFunction(
  fn: FunctionDefinition,
  options: PrepareOptions,
): Promise<PreparedFunction> {
  if (options.samBuildDir) return prepareSamBuild(fn, options);
  if (!fn.build) return prepareUnbuilt(fn, options);
  if (fn.build.method !== "esbuild") {
    throw new BuildError(
      `${fn.logicalId}: BuildMethod ${fn.build.method} is not supported locally (esbuild is); build it with \`sam build\` and use --build-dir`,
    );
  }
  return prepareEsbuild(fn, options);
}

export async function removeBuilds(outRoot: string): Promise<void> {
  await rm(outRoot, { recursive: true, force: true });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the build folders (<pid>-<id>) of runtimes that ended without cleaning up. */
export async function removeStaleBuilds(buildsRoot: string): Promise<void> {
  const entries = await readdir(buildsRoot).catch(() => [] as string[]);
  for (const entry of entries) {
    const pid = Number(entry.split("-")[0]);
    if (Number.isInteger(pid) && pid > 0 && !isRunning(pid)) {
      await rm(join(buildsRoot, entry), { recursive: true, force: true });
    }
  }
}
