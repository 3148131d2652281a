// `node test/support/build-function.ts <dir>`: the template's function built as `sam build`
// builds it (esbuild with its BuildProperties, through the local runtime's build options),
// written to <dir> with a package.json that leaves .mjs as ES modules.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import * as esbuild from "esbuild";
import { productFunction } from "../../scripts/bench/artifacts.ts";
import { esbuildOptions } from "../../scripts/local/build.ts";

const outdir = process.argv[2];
if (!outdir) throw new Error("usage: node test/support/build-function.ts <dir>");
const result = await esbuild.build(esbuildOptions(productFunction(), outdir));
for (const file of result.outputFiles ?? []) {
  mkdirSync(dirname(file.path), { recursive: true });
  writeFileSync(file.path, file.contents);
}
writeFileSync(`${outdir}/package.json`, "{}\n");
