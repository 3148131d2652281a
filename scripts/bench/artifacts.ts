// The deployed artifact and the two cold-start baselines, each built as `sam build` builds the
// function: esbuild with the template's BuildProperties, through the local runtime's own build
// module (scripts/local/build.ts), so the benchmark measures what would be deployed.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join, relative, resolve } from "node:path";
import * as esbuild from "esbuild";
import { esbuildOptions } from "../local/build.ts";
import { loadCfnTemplate } from "../local/cfn-template.ts";
import { type FunctionDefinition, resolveLocalApp } from "../local/template.ts";

export const repoRoot = resolve(import.meta.dirname, "../..");
export const templatePath = join(repoRoot, "template.yaml");
/** Scratch space (gitignored): builds, serverless-offline's install. */
export const scratchDir = join(repoRoot, ".bench");

export interface Artifact {
  /** "product", "hello-world", "document-client". */
  name: string;
  dir: string;
  /** The built handler module (.mjs). */
  file: string;
  /** "file.export", as Lambda reads Handler. */
  handler: string;
  bytes: number;
  sourceMapBytes: number;
}

/** The template's single function (the Todo router), resolved as the local runtime reads it. */
export function productFunction(): FunctionDefinition {
  const app = resolveLocalApp(loadCfnTemplate(templatePath), { templatePath });
  const fn = app.functions[0];
  if (!fn || app.functions.length !== 1) {
    throw new Error(`expected one function in ${templatePath}, found ${app.functions.length}`);
  }
  return fn;
}

/** The same function with another entry point: a baseline built exactly like the product. */
function withEntryPoint(fn: FunctionDefinition, entryPoint: string): FunctionDefinition {
  if (!fn.build) throw new Error(`${fn.logicalId} has no BuildMethod: nothing to compare with`);
  const exportName = fn.handler.slice(fn.handler.lastIndexOf(".") + 1);
  return {
    ...fn,
    handler: `${basename(entryPoint, extname(entryPoint))}.${exportName}`,
    build: {
      ...fn.build,
      properties: { ...fn.build.properties, EntryPoints: [relative(fn.codeDir, entryPoint)] },
    },
  };
}

async function buildArtifact(name: string, fn: FunctionDefinition): Promise<Artifact> {
  const dir = join(scratchDir, "artifacts", name);
  await rm(dir, { recursive: true, force: true });
  const result = (await esbuild.build(esbuildOptions(fn, dir))) as esbuild.BuildResult<{
    write: false;
  }>;
  await mkdir(dir, { recursive: true });
  // Lambda's task root has no package.json of ours: .js would be CommonJS there.
  await writeFile(join(dir, "package.json"), "{}\n");
  // The module Lambda loads is the one Handler names; other entry points (the product's sam
  // local sign-in) are written beside it but never loaded on AWS, so they are not counted.
  const moduleName = fn.handler.slice(0, fn.handler.lastIndexOf("."));
  let file = "";
  let bytes = 0;
  let sourceMapBytes = 0;
  for (const output of result.outputFiles ?? []) {
    await mkdir(dirname(output.path), { recursive: true });
    await writeFile(output.path, output.contents);
    const loaded =
      relative(dir, output.path)
        .replace(/\.map$/, "")
        .replace(/\.[^.]+$/, "") === moduleName;
    if (!loaded) continue;
    if (output.path.endsWith(".map")) sourceMapBytes += output.contents.byteLength;
    else {
      file = output.path;
      bytes += output.contents.byteLength;
    }
  }
  if (!file) throw new Error(`${name}: the build wrote no ${moduleName} module`);
  const exportName = fn.handler.slice(fn.handler.lastIndexOf(".") + 1);
  return {
    name,
    dir,
    file,
    handler: `${basename(file, extname(file))}.${exportName}`,
    bytes,
    sourceMapBytes,
  };
}

export interface Artifacts {
  product: Artifact;
  helloWorld: Artifact;
  documentClient: Artifact;
}

export async function buildArtifacts(): Promise<Artifacts> {
  const fn = productFunction();
  const baselines = join(import.meta.dirname, "baselines");
  const [product, helloWorld, documentClient] = await Promise.all([
    buildArtifact("product", fn),
    buildArtifact("hello-world", withEntryPoint(fn, join(baselines, "hello-world.ts"))),
    buildArtifact("document-client", withEntryPoint(fn, join(baselines, "document-client.ts"))),
  ]);
  return { product, helloWorld, documentClient };
}
