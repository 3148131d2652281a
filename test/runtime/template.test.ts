// Reading a SAM template as CloudFormation and the SAM CLI would: intrinsics, Globals,
// implicit APIs, Cors and the errors a broken template gets.
import { describe, expect, it } from "vitest";
import { esbuildOptions } from "../../scripts/local/build.ts";
import { parseCfnTemplate } from "../../scripts/local/cfn-template.ts";
import {
  type FunctionDefinition,
  mergeGlobals,
  resolveLocalApp,
} from "../../scripts/local/template.ts";

function resolveText(text: string, options: Partial<Parameters<typeof resolveLocalApp>[1]> = {}) {
  return resolveLocalApp(parseCfnTemplate(text), {
    templatePath: "/app/template.yaml",
    ...options,
  });
}

const functionWith = (extra: string) => `
Parameters:
  Stage:
    Type: String
    Default: dev
  Origins:
    Type: CommaDelimitedList
    Default: a,b
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Mappings:
  Sizes:
    dev: { Memory: 256 }
Globals:
  Function:
    Runtime: nodejs24.x
    Timeout: 7
    Environment:
      Variables:
        SHARED: from-globals
        REPLACED: from-globals
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
      KeySchema: [{ AttributeName: pk, KeyType: HASH }]
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ./code
      Handler: index.handler
${extra}
`;

describe("reading a template", () => {
  it("merges Globals: maps key by key, the function winning", () => {
    expect(
      mergeGlobals(
        { Timeout: 3, Environment: { Variables: { A: "1", B: "1" } }, Layers: ["x"] },
        { Environment: { Variables: { B: "2" } }, Layers: ["y"] },
      ),
    ).toEqual({ Timeout: 3, Environment: { Variables: { A: "1", B: "2" } }, Layers: ["x", "y"] });
  });

  it("resolves !Ref, !Sub, !GetAtt, !Join, !If, !FindInMap and !Select in variables", () => {
    const app = resolveText(
      functionWith(`      MemorySize: !FindInMap [Sizes, !Ref Stage, Memory]
      Environment:
        Variables:
          REPLACED: from-function
          TABLE: !Ref Table
          ARN: !GetAtt Table.Arn
          SUB: !Sub "\${Table}-\${Stage}-\${AWS::Region}-\${!Literal}"
          SUB_VARS: !Sub ["\${x}/\${Fn}", { x: !Ref AWS::AccountId }]
          JOINED: !Join [":", [a, !Ref Stage]]
          CHOSEN: !If [IsProd, prod-value, other-value]
          FIRST_ORIGIN: !Select [0, !Split [",", !Join [",", !Ref Origins]]]
          NUMBER: 42`),
      { tableNames: { Table: "local-table" } },
    );
    const [fn] = app.functions;
    expect(fn?.memoryMb).toBe(256);
    expect(fn?.timeoutSeconds).toBe(7);
    expect(fn?.codeDir).toBe("/app/code");
    expect(fn?.environment).toEqual({
      SHARED: "from-globals",
      REPLACED: "from-function",
      TABLE: "local-table",
      ARN: "arn:aws:dynamodb:us-east-1:123456789012:table/local-table",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's escaped literal
      SUB: "local-table-dev-us-east-1-${Literal}",
      SUB_VARS: "123456789012/Fn",
      JOINED: "a:dev",
      CHOSEN: "other-value",
      FIRST_ORIGIN: "a",
      NUMBER: "42",
    });
  });

  it("takes a Parameter from the overrides before its Default", () => {
    const app = resolveText(
      functionWith(`      Environment:
        Variables:
          STAGE: !Ref Stage`),
      { parameterOverrides: { Stage: "prod" } },
    );
    expect(app.functions[0]?.environment.STAGE).toBe("prod");
  });

  it("leaves out a property that !If sets to AWS::NoValue, and keeps the other branch", () => {
    const reserved = functionWith(
      "      ReservedConcurrentExecutions: !If [IsProd, 5, !Ref AWS::NoValue]",
    );
    expect(resolveText(reserved).functions[0]?.reservedConcurrency).toBeUndefined();
    expect(
      resolveText(reserved, { parameterOverrides: { Stage: "prod" } }).functions[0]
        ?.reservedConcurrency,
    ).toBe(5);
  });

  it("routes Api events without RestApiId to the implicit API (stage Prod)", () => {
    const app = resolveText(
      functionWith(`      Events:
        Get:
          Type: Api
          Properties:
            Path: /things/{id}
            Method: get`),
    );
    expect(app.routes).toEqual([
      expect.objectContaining({
        apiLogicalId: "ServerlessRestApi",
        resourcePath: "/things/{id}",
        method: "GET",
      }),
    ]);
    expect(app.apis).toEqual([
      expect.objectContaining({ logicalId: "ServerlessRestApi", stageName: "Prod" }),
    ]);
  });

  it("reads an Api's stage, Cors (string form) and BinaryMediaTypes", () => {
    const app = resolveText(`
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Sub "\${AWS::StackName}-stage"
      Cors: "'*'"
      BinaryMediaTypes: [image~1png]
`);
    expect(app.apis[0]).toMatchObject({
      stageName: "local-stage",
      cors: { allowOrigin: "*", allowCredentials: false },
      binaryMediaTypes: ["image/png"],
    });
  });

  it("says what is wrong with a function it cannot run", () => {
    expect(() =>
      resolveText(`
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      CodeUri: .
`),
    ).toThrow(/Fn: Runtime python3.13 is not a Node.js runtime/);
    expect(() =>
      resolveText(
        functionWith(`      Events:
        Get:
          Type: Api
          Properties:
            RestApiId: !Ref Missing
            Path: /x
            Method: get`),
      ),
    ).toThrow(/RestApiId names no AWS::Serverless::Api/);
  });

  it("refuses a parameter without a value", () => {
    expect(() =>
      resolveText(`
Parameters:
  Needed:
    Type: String
Resources: {}
`),
    ).toThrow(/parameter Needed has no Default/);
  });
});

describe("building like `sam build`", () => {
  const buildOf = (properties: string) =>
    resolveText(`
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs24.x
      Handler: handler.handler
      CodeUri: ./
    Metadata:
      BuildMethod: esbuild
      BuildProperties:
${properties}
`).functions[0];

  it("uses sam build's defaults: es2020, CommonJS, minified, platform node", () => {
    const fn = buildOf("        EntryPoints: [src/handler.ts]");
    expect(esbuildOptions(fn as FunctionDefinition, "/out")).toMatchObject({
      entryPoints: ["src/handler.ts"],
      bundle: true,
      platform: "node",
      target: "es2020",
      format: "cjs",
      minify: true,
      absWorkingDir: "/app",
    });
  });

  it("passes every property on, as sam build passes them to the esbuild CLI", () => {
    const fn = buildOf(`        Format: esm
        Minify: false
        Sourcemap: true
        Target: es2024
        Platform: browser
        OutExtension: [.js=.mjs]
        Banner: ["js=const a = 'x=y';"]
        Alias: [node:http=./shim.ts]
        External: ["@aws-sdk/*"]
        MainFields: module,main
        EntryPoints: [src/handler.ts]`);
    expect(esbuildOptions(fn as FunctionDefinition, "/out")).toMatchObject({
      format: "esm",
      minify: false,
      sourcemap: true,
      target: ["es2024"],
      platform: "node",
      outExtension: { ".js": ".mjs" },
      banner: { js: "const a = 'x=y';" },
      alias: { "node:http": "./shim.ts" },
      external: ["@aws-sdk/*"],
      mainFields: ["module", "main"],
    });
  });
});

describe("stage variables", () => {
  const withApi = (api: string) => `
Parameters:
  Stage:
    Type: String
    Default: dev
Globals:
  Api:
${api}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs24.x
      Handler: index.handler
      Events:
        Get: { Type: Api, Properties: { Path: /, Method: GET } }
`;

  it("takes Globals Api Variables for the implicit API, intrinsics resolved", () => {
    const app = resolveText(withApi("    Variables:\n      stage: !Ref Stage\n      n: 3"));
    expect(app.apis[0]?.stageVariables).toEqual({ stage: "dev", n: "3" });
  });

  it("has none when the Api declares none", () => {
    const app = resolveText(withApi("    BinaryMediaTypes: []"));
    expect(app.apis[0]?.stageVariables).toBeUndefined();
  });
});
