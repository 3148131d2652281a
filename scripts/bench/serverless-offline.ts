// Baseline (c): serverless-offline (13, with serverless 3, which runs without an account)
// serving the same built handler. Installed by the benchmark into its scratch folder, never
// into the product's dependencies.
import { spawnSync } from "node:child_process";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Artifact } from "./artifacts.ts";
import { scratchDir } from "./artifacts.ts";
import { type Child, startChild } from "./children.ts";
import { freePort } from "./free-port.ts";

export const serverlessVersion = "3.40.0";
export const serverlessOfflineVersion = "13.9.0";
const installDir = join(scratchDir, "serverless-offline");
const serviceDir = join(installDir, "service");

const wantedPackage = {
  name: "bench-serverless-offline",
  private: true,
  description: "Scratch install for npm run bench (baseline c); not part of the product.",
  dependencies: {
    serverless: serverlessVersion,
    "serverless-offline": serverlessOfflineVersion,
  },
};

async function installedVersion(name: string): Promise<string | undefined> {
  try {
    const text = await readFile(join(installDir, "node_modules", name, "package.json"), "utf8");
    return (JSON.parse(text) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** Installs serverless and serverless-offline into .bench/ once; later runs reuse them. */
export async function ensureServerlessOffline(log: (message: string) => void): Promise<void> {
  if (
    (await installedVersion("serverless")) === serverlessVersion &&
    (await installedVersion("serverless-offline")) === serverlessOfflineVersion
  ) {
    return;
  }
  await mkdir(installDir, { recursive: true });
  await writeFile(join(installDir, "package.json"), `${JSON.stringify(wantedPackage, null, 2)}\n`);
  log(
    `installing serverless@${serverlessVersion} and serverless-offline@${serverlessOfflineVersion} into ${installDir} (once, about a minute)`,
  );
  const npmArgs = ["install", "--no-audit", "--no-fund", "--loglevel=error"];
  // Serialised with other npm installs on this machine when flock is there.
  const hasFlock = spawnSync("flock", ["--version"], { stdio: "ignore" }).status === 0;
  const result = hasFlock
    ? spawnSync("flock", [join(tmpdir(), "npm.lock"), "npm", ...npmArgs], {
        cwd: installDir,
        stdio: "inherit",
      })
    : spawnSync("npm", npmArgs, { cwd: installDir, stdio: "inherit" });
  if (result.status !== 0) {
    throw new Error(`npm install in ${installDir} failed (exit ${result.status ?? result.signal})`);
  }
}

const cognitoAuthorizer =
  '{ name: cognito, type: COGNITO_USER_POOLS, arn: "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_bench" }';

function serverlessYaml(
  artifact: Artifact,
  environment: Record<string, string>,
  timeoutSeconds: number,
): string {
  const variables = Object.entries(environment)
    .map(([name, value]) => `    ${name}: ${JSON.stringify(value)}`)
    .join("\n");
  return `# Written by scripts/bench/serverless-offline.ts: the product's built handler behind
# serverless-offline's API Gateway emulation, with the routes of template.yaml.
service: todo-bench
frameworkVersion: "3"
configValidationMode: off
provider:
  name: aws
  # serverless 3 knows no nodejs24.x; the handler runs in this Node (24) either way.
  runtime: nodejs20.x
  region: us-east-1
  stage: v1
  # template.yaml's Timeout (serverless' default, 6 s, is shorter).
  timeout: ${timeoutSeconds}
  environment:
${variables}
functions:
  todo:
    handler: ${artifact.handler}
    # template.yaml's Cognito authorizer. Started with --noAuth, serverless-offline verifies
    # nothing but passes the bearer token's decoded claims (without an authorizer it passes
    # none, and the function answers 401): the same signed-in requests as the runtime's.
    events:
      - http: { path: todos, method: ANY, authorizer: ${cognitoAuthorizer} }
      - http: { path: "todos/{id}", method: ANY, authorizer: ${cognitoAuthorizer} }
      - http: { path: "{proxy+}", method: ANY, authorizer: ${cognitoAuthorizer} }
plugins:
  - serverless-offline
`;
}

export async function startServerlessOffline(
  artifact: Artifact,
  environment: Record<string, string>,
  timeoutSeconds: number,
): Promise<{ url: string; child: Child }> {
  await mkdir(serviceDir, { recursive: true });
  const name = artifact.file.slice(artifact.dir.length + 1);
  await copyFile(artifact.file, join(serviceDir, name));
  await copyFile(`${artifact.file}.map`, join(serviceDir, `${name}.map`)).catch(() => {});
  await writeFile(join(serviceDir, "package.json"), "{}\n");
  await writeFile(
    join(serviceDir, "serverless.yml"),
    serverlessYaml(artifact, environment, timeoutSeconds),
  );
  const [httpPort, lambdaPort] = [await freePort(), await freePort()];
  const child = await startChild({
    name: "serverless-offline",
    command: process.execPath,
    args: [
      join(installDir, "node_modules", "serverless", "bin", "serverless.js"),
      "offline",
      "start",
      "--host",
      "127.0.0.1",
      "--httpPort",
      String(httpPort),
      "--lambdaPort",
      String(lambdaPort),
      "--noPrependStageInUrl",
      "--noAuth",
    ],
    cwd: serviceDir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SLS_TELEMETRY_DISABLED: "1",
      SLS_NOTIFICATIONS_MODE: "off",
      SLS_DEPRECATION_DISABLE: "*",
      SLS_INTERACTIVE_SETUP_DISABLE: "1",
      // serverless 3 looks for credentials at start; local ones keep it from searching.
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
    },
    ready: /Server ready: (http:\/\/\S+)/,
    timeoutMs: 60_000,
  });
  return { url: `http://127.0.0.1:${httpPort}`, child };
}
