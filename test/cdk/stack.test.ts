// The CDK app (cdk/) deploys template.yaml as it is: the synthesized template holds the same
// parameters, conditions, resources and outputs, property by property, and only the function's
// CodeUri differs, pointing at the code CDK uploads as an asset.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionLogicalId, TodoStack, templatePath } from "../../cdk/todo-stack.ts";
import { loadCfnTemplate } from "../../scripts/local/cfn-template.ts";

const samTemplate = loadCfnTemplate(templatePath) as ReturnType<typeof loadCfnTemplate> &
  Record<string, unknown>;

// The same template in two spellings CloudFormation treats alike: CDK writes GetAtt as
// "Resource.Attribute" and DependsOn as a list, where the YAML has a pair and a name.
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (key === "Fn::GetAtt" && typeof item === "string") {
        const dot = item.indexOf(".");
        return [key, [item.slice(0, dot), item.slice(dot + 1)]];
      }
      if (key === "DependsOn" && typeof item === "string") return [key, [item]];
      return [key, canonical(item)];
    }),
  );
}

let workDir: string;
let stack: TodoStack;
let synthesized: Template;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), "todo-cdk-"));
  const app = new App({ outdir: join(workDir, "cdk.out") });
  stack = new TodoStack(app, "TodoApi", {
    stackName: "todo-api-test",
    bundleDir: join(workDir, "bundle"),
  });
  synthesized = Template.fromStack(stack);
});

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe("the CDK app", () => {
  it("keeps the SAM transform, for CloudFormation to expand at deploy", () => {
    expect(synthesized.toJSON().Transform).toBe("AWS::Serverless-2016-10-31");
  });

  it("holds the same resources as template.yaml, of the same types", () => {
    const types = (resources: Record<string, { Type: string }>) =>
      Object.fromEntries(Object.entries(resources).map(([id, { Type }]) => [id, Type]));
    expect(types(synthesized.toJSON().Resources)).toEqual(types(samTemplate.Resources));
  });

  it("changes no property of any resource but the function's CodeUri", () => {
    const resources = structuredClone(synthesized.toJSON().Resources);
    const original = structuredClone(samTemplate.Resources);
    delete resources[functionLogicalId].Properties.CodeUri;
    delete original[functionLogicalId]?.Properties?.CodeUri;
    expect(canonical(resources)).toEqual(canonical(original));
  });

  it("has the same parameters, mappings, conditions, globals and outputs, and nothing of its own", () => {
    const json = synthesized.toJSON();
    for (const section of ["Parameters", "Mappings", "Conditions", "Globals", "Outputs"]) {
      expect(canonical(json[section]), section).toEqual(canonical(samTemplate[section]));
    }
    expect(json.Rules).toBeUndefined();
  });

  it("points the function's CodeUri at the asset, which holds the bundled handler", () => {
    synthesized.hasResourceProperties("AWS::Serverless::Function", {
      CodeUri: {
        Bucket: Match.anyValue(),
        Key: `${stack.functionCode.assetHash}.zip`,
      },
      Handler: "handler.handler",
    });
    expect(existsSync(join(workDir, "bundle", "handler.mjs"))).toBe(true);
  });
});
