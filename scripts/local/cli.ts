// npm start: the local API Gateway + Lambda runtime on http://127.0.0.1:3000.
// Flags mirror `sam local start-api` where they overlap; the work is in ./index.ts.
// npm start runs it with two V8 settings (package.json), both for memory:
// - --max-semi-space-size=4: under load V8 otherwise grows this thread's young generation to
//   128 MB, a third of the runtime's memory, for garbage that dies within a request (RSS
//   218 -> 336 MB over 12,000 requests by default; scavenges stay cheap, since little of a
//   request outlives it);
// - --v8-pool-size=1: one V8 helper thread (GC and compiler tasks of the server and every
//   instance) instead of four, each keeping its own malloc arena. RSS after 1,000 -> 13,000
//   requests: 213 -> 241 MB with four, 211 -> 219 MB with one, and no slower measured.
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { type LocalApi, type SeedTarget, startLocalApi } from "./index.ts";

const usage = `Usage: npm start -- [options]   (node scripts/local/cli.ts [options])

Serves the API of template.yaml like API Gateway + Lambda, with an embedded DynamoDB.

  -t, --template FILE        SAM template (default: template.yaml)
  -p, --port PORT            API port (default: 3000; 0 = a free port)
      --host HOST            address to listen on (default: 127.0.0.1)
  -n, --env-vars FILE        environment variables, SAM CLI format:
                             {"Parameters": {...}, "<FunctionId>": {...}}
      --parameter-overrides K=V[,K=V]
                             values of the template's Parameters
      --build-dir DIR        serve an existing \`sam build\` output instead of building
      --use-sam-build        same as --build-dir .aws-sam/build
      --max-instances N      instances per function at most (default: one per core,
                             at least 2); requests beyond wait their turn
      --ddb-endpoint URL     use this DynamoDB (e.g. DynamoDB Local) instead of the embedded one
      --ddb-port PORT        embedded DynamoDB's port (default: 8000; 0 = a free port)
      --data-dir DIR         where the embedded DynamoDB keeps data (default: .data/dynamodb)
      --in-memory            keep nothing: the embedded DynamoDB lives in memory
      --table-name NAME      the local table's name (default: its logical id)
      --no-watch             do not rebuild when sources change
      --no-seed              do not add sample todos to a new table
  -h, --help                 this help
`;

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

function portNumber(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`${flag} ${value} is not a port`);
  return port;
}

function parseOverrides(values: string[] | undefined): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const item of (values ?? []).flatMap((value) => value.split(/[\s,]+(?=[\w]+=)/))) {
    // Both "Name=Value" and the SAM CLI's "ParameterKey=Name,ParameterValue=Value".
    const sam = /^ParameterKey=([^,]+),ParameterValue=(.*)$/.exec(item);
    const equals = item.indexOf("=");
    if (sam) overrides[sam[1] as string] = sam[2] as string;
    else if (equals > 0) overrides[item.slice(0, equals)] = item.slice(equals + 1);
    else fail(`--parameter-overrides ${item}: expected Name=Value`);
  }
  return overrides;
}

/** scripts/seed.ts adds the sample todos; the runtime itself knows nothing of todos. */
async function sampleTodosSeeder(): Promise<(target: SeedTarget) => Promise<void>> {
  const seedUrl = new URL("../seed.ts", import.meta.url);
  return async (target) => {
    if (!existsSync(seedUrl)) {
      console.warn("warning: scripts/seed.ts is not there yet: the new table has no sample todos");
      return;
    }
    const seedModule = (await import(seedUrl.href)) as {
      seedSampleTodos?: (target: SeedTarget) => Promise<unknown>;
    };
    if (typeof seedModule.seedSampleTodos !== "function") {
      console.warn("warning: scripts/seed.ts exports no seedSampleTodos: no sample todos added");
      return;
    }
    try {
      await seedModule.seedSampleTodos(target);
      console.log(`added sample todos to ${target.tableName}`);
    } catch (error) {
      // Sample data is a convenience: a table it does not fit still gets served.
      console.warn(
        `warning: no sample todos added to ${target.tableName}: ${(error as Error).message}`,
      );
    }
  };
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine();
  } catch (error) {
    fail(`${(error as Error).message}\n\n${usage}`);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const buildDir = values["build-dir"] ?? (values["use-sam-build"] ? ".aws-sam/build" : undefined);
  const maxInstances =
    values["max-instances"] === undefined ? undefined : Number(values["max-instances"]);
  if (maxInstances !== undefined && !(Number.isInteger(maxInstances) && maxInstances > 0)) {
    fail(`--max-instances ${values["max-instances"]} is not a positive whole number`);
  }

  // Listening for signals before anything starts: a signal during startup stops the
  // runtime as soon as it is up, instead of killing it halfway (data folder locked...).
  let api: LocalApi | undefined;
  let stopping = false;
  const stopApi = (running: LocalApi) =>
    running.close().then(
      () => {
        console.log("stopped");
        process.exit(0);
      },
      (error: Error) => fail(`while stopping: ${error.message}`),
    );
  const stop = (signal: string) => {
    if (stopping) {
      console.error(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: answering requests in flight, then stopping`);
    if (api) void stopApi(api);
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  // npm runs this through `sh -c`, and a SIGTERM sent to npm (an editor's stop button, a
  // process manager, concurrently...) ends npm and that shell but not this process, which
  // would go on serving and holding the ports and the data folder. So when the process that
  // started this one is gone (this one is re-parented), stop as on SIGTERM.
  const startedBy = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid === startedBy) return;
    clearInterval(parentWatch);
    stop("the process that started npm start is gone");
  }, 500);
  parentWatch.unref();

  try {
    api = await startLocalApi({
      template: values.template,
      host: values.host,
      port: portNumber(values.port, "--port", 3000),
      envVars: values["env-vars"],
      parameterOverrides: parseOverrides(values["parameter-overrides"]),
      buildDir,
      maxInstances,
      ddbEndpoint: values["ddb-endpoint"],
      ddbPort: portNumber(values["ddb-port"], "--ddb-port", 8000),
      dataDir: values["data-dir"],
      inMemory: values["in-memory"],
      tableName: values["table-name"],
      watch: values.watch && !buildDir,
      seed: values.seed ? await sampleTodosSeeder() : undefined,
    });
  } catch (error) {
    fail((error as Error).message);
  }

  if (stopping) {
    await stopApi(api);
    return;
  }
  const pathWidth = Math.max(0, ...api.routes.map((route) => route.path.length));
  console.log(
    [
      "",
      `  API        ${api.url}   (${values.template ?? "template.yaml"}, routes at the root as with sam local)`,
      ...api.routes.map(
        (route) =>
          `               ${route.method.padEnd(7)} ${route.path.padEnd(pathWidth)}  → ${route.functionId}`,
      ),
      `  Docs       ${api.url}/docs   (contract: ${api.url}/openapi.yaml)`,
      `  DynamoDB   ${api.ddbEndpoint}   table ${api.tableName ?? "(none)"}`,
      `  Data       ${api.dataDir ?? (values["ddb-endpoint"] ? "kept by that DynamoDB" : "in memory: nothing is kept")}`,
      `  Reload     ${values.watch && !buildDir ? "on: saving a source file rebuilds" : "off"}`,
      `  Instances  up to ${api.maxInstances} per function${maxInstances === undefined ? " (one per core; --max-instances N for more)" : ""}; requests beyond wait their turn`,
      "",
      "  Ctrl-C stops (requests in flight are answered first).",
      "",
    ].join("\n"),
  );
}

function parseCommandLine() {
  return parseArgs({
    allowNegative: true,
    strict: true,
    options: {
      template: { type: "string", short: "t" },
      port: { type: "string", short: "p" },
      host: { type: "string" },
      "env-vars": { type: "string", short: "n" },
      "parameter-overrides": { type: "string", multiple: true },
      "build-dir": { type: "string" },
      "use-sam-build": { type: "boolean", default: false },
      "max-instances": { type: "string" },
      "ddb-endpoint": { type: "string" },
      "ddb-port": { type: "string" },
      "data-dir": { type: "string" },
      "in-memory": { type: "boolean", default: false },
      "table-name": { type: "string" },
      watch: { type: "boolean", default: true },
      seed: { type: "boolean", default: true },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

await main();
