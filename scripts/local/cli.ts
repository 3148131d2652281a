// The local API Gateway + Lambda runtime on http://127.0.0.1:3000, as a command:
// `node cli.ts [options]`, or runCli() from a project's own entry script, which adds what
// is particular to the project (sample data for a new table, the command's name).
// Flags mirror `sam local start-api` where they overlap; the work is in ./index.ts.
// The project's npm start runs it with two V8 settings (package.json), both for memory:
// - --max-semi-space-size=4: under load V8 otherwise grows this thread's young generation to
//   128 MB, a third of the runtime's memory, for garbage that dies within a request (RSS
//   218 -> 336 MB over 12,000 requests by default; scavenges stay cheap, since little of a
//   request outlives it);
// - --v8-pool-size=1: one V8 helper thread (GC and compiler tasks of the server and every
//   instance) instead of four, each keeping its own malloc arena. RSS after 1,000 -> 13,000
//   requests: 213 -> 241 MB with four, 211 -> 219 MB with one, and no slower measured.
// A third, also for memory, is no flag: MALLOC_ARENA_MAX=2, which this CLI and npm start set
// for themselves on Linux as they start (malloc-arenas.ts).
import { parseArgs } from "node:util";
import { type LocalApi, type SeedTarget, startLocalApi } from "./index.ts";
import { capMallocArenas } from "./malloc-arenas.ts";

/** A project's sample data, added to a table this start created. */
export interface CliSeed {
  /** What is added, for the help and the log: "sample todos". */
  description: string;
  run(target: SeedTarget): Promise<unknown>;
}

export interface CliProject {
  /** How the help names the command: "npm start --" (node cli.ts by default). */
  command?: string;
  /** Without one, a new table stays empty (and --no-seed changes nothing). */
  seed?: CliSeed;
  /** How the banner says to get a token from the local sign-in: "npm run -s token -- alice". */
  tokenCommand?: string;
}

function usageText(project: CliProject): string {
  return `Usage: ${project.command ?? "node cli.ts"} [options]

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
      --in-memory            keep nothing: the embedded DynamoDB lives in memory, and
                             so do the local sign-in's signing keys
      --issuer-keys FILE     the local sign-in's signing keys, made on first start
                             (default: issuer/keys.json beside the data dir, i.e.
                             .data/issuer/keys.json)
      --table-name NAME      the local table's name (default: its logical id)
      --no-watch             do not rebuild when sources change
      --no-seed              do not add ${project.seed?.description ?? "sample data"} to a new table
      --grace-period SECONDS on Ctrl-C or SIGTERM, how long requests already received
                             (uploads included) get to be answered before it exits
                             anyway (default: the longest function Timeout, at most 29 s);
                             a second Ctrl-C, a second or more later, exits at once
  -h, --help                 this help
`;
}

/**
 * A second signal this soon after the first is the same user action arriving again: a
 * signal to the process group (Ctrl-C, `kill -TERM -PGID`, a process manager) reaches npm
 * too, which forwards its own copy. A deliberate second Ctrl-C comes later than this.
 */
const repeatedSignalMs = 1_000;

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

function seedRunner(seed: CliSeed): (target: SeedTarget) => Promise<void> {
  return async (target) => {
    try {
      await seed.run(target);
      console.log(`added ${seed.description} to ${target.tableName}`);
    } catch (error) {
      // Sample data is a convenience: a table it does not fit still gets served.
      console.warn(
        `warning: no ${seed.description} added to ${target.tableName}: ${(error as Error).message}`,
      );
    }
  };
}

export async function runCli(args: string[], project: CliProject = {}): Promise<void> {
  const usage = usageText(project);
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(args);
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
  const gracePeriodMs =
    values["grace-period"] === undefined ? undefined : Number(values["grace-period"]) * 1000;
  if (gracePeriodMs !== undefined && !(Number.isFinite(gracePeriodMs) && gracePeriodMs >= 0)) {
    fail(`--grace-period ${values["grace-period"]} is not a number of seconds`);
  }

  // Listening for signals before anything starts: a signal during startup stops the
  // runtime as soon as it is up, instead of killing it halfway (data folder locked...).
  let api: LocalApi | undefined;
  let stopStartedAt: number | undefined;
  const stopApi = (running: LocalApi) => {
    const graceMs = gracePeriodMs ?? running.longestAnswerMs;
    // Bounded: a client that never finishes its upload must not hold the ports for ever.
    setTimeout(() => {
      console.error(
        `grace period of ${graceMs / 1000} s is over: exiting with ${running.inFlight} request(s) unanswered`,
      );
      process.exit(1);
    }, graceMs).unref();
    return running.close().then(
      () => {
        console.log("stopped");
        process.exit(0);
      },
      (error: Error) => fail(`while stopping: ${error.message}`),
    );
  };
  /** One graceful stop, whatever starts it; only a deliberate, later signal cuts it short. */
  const stop = (cause: string, deliberate: boolean) => {
    const now = performance.now();
    if (stopStartedAt !== undefined) {
      if (!deliberate || now - stopStartedAt < repeatedSignalMs) return;
      console.error(
        `${cause} again: exiting now, without answering ${api?.inFlight ?? 0} request(s) in flight`,
      );
      process.exit(1);
    }
    stopStartedAt = now;
    console.log(`${cause}: answering requests in flight, then stopping`);
    if (api) void stopApi(api);
  };
  process.on("SIGINT", () => stop("SIGINT", true));
  process.on("SIGTERM", () => stop("SIGTERM", true));
  // npm runs this through `sh -c`, and a SIGTERM sent to npm alone (some editors' stop
  // buttons, concurrently...) ends npm and that shell but not this process, which would go
  // on serving and holding the ports and the data folder. So when the process that started
  // this one is gone (this one is re-parented), stop as on SIGTERM. When a signal to the
  // whole group ended npm, this is that same stop, already under way.
  const startedBy = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid === startedBy) return;
    clearInterval(parentWatch);
    stop("the process that started this one is gone", false);
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
      issuerKeysFile: values["issuer-keys"],
      tableName: values["table-name"],
      watch: values.watch && !buildDir,
      seed: values.seed && project.seed ? seedRunner(project.seed) : undefined,
    });
  } catch (error) {
    fail((error as Error).message);
  }

  if (stopStartedAt !== undefined) {
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
      ...signInLines(api, project),
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

/** The banner's sign-in lines: where the issuer is, who may sign in, how to get a token. */
function signInLines(api: LocalApi, project: CliProject): string[] {
  if (!api.signIn) return [];
  const token =
    project.tokenCommand ??
    `curl -s -X POST ${api.signIn.devTokenUrl} -H 'Content-Type: application/json' -d '{"username": "alice"}'`;
  return [
    `  Sign-in    ${api.signIn.issuers.join(", ")}   (any username, any password; keys ${api.signIn.keysFile ?? "in memory"})`,
    `             a token: ${token}`,
  ];
}

function parseCommandLine(args: string[]) {
  return parseArgs({
    args,
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
      "issuer-keys": { type: "string" },
      "table-name": { type: "string" },
      watch: { type: "boolean", default: true },
      seed: { type: "boolean", default: true },
      "grace-period": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

if (import.meta.main) {
  capMallocArenas();
  await runCli(process.argv.slice(2));
}
