// The stack of template.yaml, deployed by CDK as it is: CfnInclude reads the template (the SAM
// transform passes through to CloudFormation, which expands it at deploy), and the only change
// is where the function's code comes from. CDK does not package a local CodeUri the way
// `sam deploy` does, so the code becomes a CDK asset and TodoFunction's CodeUri points at it.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type App, DefaultStackSynthesizer, Stack, type StackProps } from "aws-cdk-lib";
import { Asset } from "aws-cdk-lib/aws-s3-assets";
import { CfnFunction } from "aws-cdk-lib/aws-sam";
import { CfnInclude } from "aws-cdk-lib/cloudformation-include";
import * as esbuild from "esbuild";
import { esbuildOptions } from "../scripts/local/build.ts";
import { loadCfnTemplate } from "../scripts/local/cfn-template.ts";
import { resolveLocalApp } from "../scripts/local/template.ts";

export const repositoryRoot = resolve(import.meta.dirname, "..");
export const templatePath = join(repositoryRoot, "template.yaml");
export const functionLogicalId = "TodoFunction";

export interface TodoStackProps extends StackProps {
  /**
   * The function's code, built: a `sam build` output folder (.aws-sam/build/TodoFunction).
   * Unset: bundled here with esbuild from the template's own BuildProperties, as `sam build`
   * and `npm start` bundle it.
   */
  functionCodeDir?: string;
  /** Where the esbuild bundle is written when functionCodeDir is unset. */
  bundleDir?: string;
}

/** The function bundled as `sam build` would (Metadata.BuildProperties), into bundleDir. */
export function bundleFunction(bundleDir: string): string {
  const app = resolveLocalApp(loadCfnTemplate(templatePath), { templatePath });
  const fn = app.functions.find((candidate) => candidate.logicalId === functionLogicalId);
  if (!fn) throw new Error(`template.yaml has no ${functionLogicalId}`);
  const result = esbuild.buildSync(esbuildOptions(fn, bundleDir));
  rmSync(bundleDir, { recursive: true, force: true });
  mkdirSync(bundleDir, { recursive: true });
  // Every entry point of the template's EntryPoints, each where sam build puts it (http/...).
  for (const file of result.outputFiles ?? []) {
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.contents);
  }
  return bundleDir;
}

export class TodoStack extends Stack {
  readonly template: CfnInclude;
  readonly functionCode: Asset;

  constructor(scope: App, id: string, props: TodoStackProps = {}) {
    super(scope, id, {
      // No Rule and Parameter of CDK's own: the stack's template stays template.yaml's.
      synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
      ...props,
    });
    this.template = new CfnInclude(this, "Template", { templateFile: templatePath });
    const codeDir =
      props.functionCodeDir ??
      bundleFunction(props.bundleDir ?? join(repositoryRoot, ".build", "cdk-function"));
    this.functionCode = new Asset(this, "FunctionCode", { path: codeDir });
    const fn = this.template.getResource(functionLogicalId) as CfnFunction;
    if (!(fn instanceof CfnFunction)) {
      throw new Error(`${functionLogicalId} is not an AWS::Serverless::Function`);
    }
    fn.codeUri = { bucket: this.functionCode.s3BucketName, key: this.functionCode.s3ObjectKey };
  }
}
