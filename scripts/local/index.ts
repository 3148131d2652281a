// The local API Gateway + Lambda runtime, as a function: the CLI (npm start) and test
// suites start it the same way, each on its own ports.
import { randomBytes } from "node:crypto";
import { watch } from "node:fs";
import type { AddressInfo } from "node:net";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import type { Writable } from "node:stream";
import { loadCfnTemplate } from "../lib/cfn-template.ts";
import { createTableInput, ensureTable } from "../lib/dynamodb-table.ts";
import {
  type PreparedFunction,
  prepareFunction,
  removeBuilds,
  removeStaleBuilds,
} from "./build.ts";
import { type LocalDynamoDb, localDynamoDbClient, startLocalDynamoDb } from "./dynamodb.ts";
import {
  type EnvVarsFile,
  functionEnvironment,
  loadEnvVarsFile,
  parameterOverridesFrom,
} from "./environment.ts";
import { Router } from "./routing.ts";
import { type ApiServer, createApiServer } from "./server.ts";
import { localRegion, resolveLocalApp, TemplateError } from "./template.ts";
import { InstancePool } from "./workers.ts";

export { buildRestEvent } from "./events.ts";
export { TemplateError } from "./template.ts";

export interface LocalApiLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface SeedTarget {
  endpoint: string;
  tableName: string;
}

export interface LocalApiOptions {
  /** template.yaml by default (from the current folder). */
  template?: string;
  host?: string;
  /** 3000 by default; 0 picks a free port. */
  port?: number;
  /** A path to a SAM CLI env-vars JSON file, or its content. */
  envVars?: string | EnvVarsFile;
  /** Template Parameter values (beside the env-vars file's "Parameters"). */
  parameterOverrides?: Record<string, string>;
  /** Use this DynamoDB instead of the embedded one. */
  ddbEndpoint?: string;
  /** The embedded DynamoDB's port: 8000 by default (DynamoDB Local's), 0 for a free one. */
  ddbPort?: number;
  /** Where the embedded DynamoDB keeps its data: <template folder>/.data/dynamodb by default. */
  dataDir?: string;
  /** Keep nothing: the embedded DynamoDB lives in memory. */
  inMemory?: boolean;
  /** The local table's name when the template has one table (its logical id by default). */
  tableName?: string;
  /** Rebuild and swap instances when sources change (true by default). */
  watch?: boolean;
  /** Serve an existing `sam build` output (e.g. .aws-sam/build) instead of building. */
  buildDir?: string;
  /**
   * Instances per function at most; requests beyond wait their turn, as they would at a
   * Lambda concurrency limit. By default one per core (at least 2): see defaultMaxInstances.
   */
  maxInstances?: number;
  /** The contract behind /docs: <template folder>/openapi.yaml by default. */
  openapi?: string;
  /** Called once for each table this start created (not for one that already had data). */
  seed?: (target: SeedTarget) => Promise<void>;
  log?: LocalApiLogger;
  /** Where the functions' own console output goes (the server's stdout/stderr by default). */
  functionOutput?: { stdout: Writable; stderr: Writable };
}

export interface LocalApi {
  /** http://host:port, no trailing slash. */
  url: string;
  ddbEndpoint: string;
  /** The table's local name (the first table's, if the template has several). */
  tableName: string | undefined;
  tableNames: Record<string, string>;
  /** Where the data is kept, or undefined (in memory, or an external DynamoDB). */
  dataDir: string | undefined;
  functions: string[];
  /** Instances per function at most (before a function's ReservedConcurrentExecutions). */
  maxInstances: number;
  /** The template's Api routes, as served (at the root, without the stage). */
  routes: Array<{ method: string; path: string; functionId: string }>;
  /** Stops accepting, answers requests in flight, stops instances and closes the store. */
  close(): Promise<void>;
}

export class LocalApiError extends Error {
  override name = "LocalApiError";
  readonly code: string | undefined;
  constructor(message: string, code?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Instances per function unless told otherwise: one per core the process may use, at least
 * two. Each instance is a V8 isolate serving one request at a time, with its own JIT-compiled
 * copy of the handler and SDK, and its own heap; more of them than cores cannot run at once,
 * so they only add memory (tens of MB each) and split the traffic so that each stays colder.
 * Measured on 2 cores, GET /todos/{id} at 16 connections: 2 instances ~235 req/s, 3.3 ms of
 * CPU per request, 280 MB RSS; 10 instances ~175 req/s, 4.9-6.9 ms, 600 MB. Requests beyond
 * wait in the pool's queue, like requests beyond a reserved concurrency. A function that
 * spends its time waiting (a slow downstream) can use more: --max-instances N.
 */
export function defaultMaxInstances(): number {
  return Math.max(2, availableParallelism());
}

const consoleLogger: LocalApiLogger = {
  info: (message) => console.log(message),
  warn: (message) => console.warn(`warning: ${message}`),
  error: (message) => console.error(message),
};

async function listen(server: ApiServer, host: string, port: number): Promise<AddressInfo> {
  await new Promise<void>((resolvePromise, reject) => {
    server.server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new LocalApiError(
              `port ${port} is in use on ${host}: choose another with --port (-p), e.g. --port ${port + 1}, or --port 0 for a free one`,
              "EADDRINUSE",
            )
          : error,
      );
    });
    server.server.listen(port, host, () => resolvePromise());
  });
  return server.server.address() as AddressInfo;
}

export async function startLocalApi(options: LocalApiOptions = {}): Promise<LocalApi> {
  const log = options.log ?? consoleLogger;
  const templatePath = resolve(options.template ?? "template.yaml");
  const host = options.host ?? "127.0.0.1";

  let template: ReturnType<typeof loadCfnTemplate>;
  try {
    template = loadCfnTemplate(templatePath);
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT"
        ? "no such file (use --template, -t)"
        : (error as Error).message;
    throw new LocalApiError(`cannot read the template ${templatePath}: ${reason}`, "TEMPLATE", {
      cause: error,
    });
  }
  const envVars =
    typeof options.envVars === "string" ? loadEnvVarsFile(options.envVars) : options.envVars;
  const parameterNames = Object.keys(template.Parameters ?? {});
  const tableIds = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === "AWS::DynamoDB::Table")
    .map(([logicalId]) => logicalId);
  const tableNameOverrides: Record<string, string> = {};
  if (options.tableName && tableIds.length === 1) {
    tableNameOverrides[tableIds[0] as string] = options.tableName;
  }

  let app: ReturnType<typeof resolveLocalApp>;
  try {
    app = resolveLocalApp(template, {
      templatePath,
      parameterOverrides: {
        ...parameterOverridesFrom(envVars, parameterNames),
        ...options.parameterOverrides,
      },
      tableNames: tableNameOverrides,
      warn: log.warn,
    });
  } catch (error) {
    if (error instanceof TemplateError) {
      throw new LocalApiError(`${templatePath}: ${error.message}`, "TEMPLATE", { cause: error });
    }
    throw error;
  }

  const cleanups: Array<() => Promise<void>> = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: Error) => log.error(`while stopping: ${error.message}`));
    }
  };

  try {
    const database: LocalDynamoDb = await startLocalDynamoDb({
      endpoint: options.ddbEndpoint,
      host,
      port: options.ddbPort ?? 8000,
      dataDir: resolve(options.dataDir ?? join(app.templateDir, ".data", "dynamodb")),
      inMemory: options.inMemory ?? false,
    });
    cleanups.push(() => database.close());

    const client = localDynamoDbClient(database.endpoint, localRegion);
    try {
      for (const table of app.tables) {
        const created = await ensureTable(
          client,
          createTableInput(template, table.logicalId, table.tableName),
        );
        if (created) {
          log.info(`created table ${table.tableName} from ${table.logicalId}'s definition`);
          await options.seed?.({ endpoint: database.endpoint, tableName: table.tableName });
        }
      }
    } finally {
      client.destroy();
    }

    const buildsRoot = join(app.templateDir, ".build", "local");
    await removeStaleBuilds(buildsRoot);
    const outRoot = join(buildsRoot, `${process.pid}-${randomBytes(4).toString("hex")}`);
    cleanups.push(() => removeBuilds(outRoot));
    const pools = new Map<string, InstancePool>();
    const prepared: PreparedFunction[] = [];
    cleanups.push(async () => {
      await Promise.all(prepared.map((item) => item.close()));
      await Promise.all([...pools.values()].map((pool) => pool.close()));
    });
    await Promise.all(
      app.functions.map(async (fn) => {
        const pool = new InstancePool({
          functionLogicalId: fn.logicalId,
          functionName: fn.functionName,
          handler: fn.handler,
          runtime: fn.runtime,
          timeoutMs: fn.timeoutSeconds * 1000,
          memoryMb: fn.memoryMb,
          environment: functionEnvironment(
            fn,
            envVars,
            parameterNames,
            { ddbEndpoint: database.endpoint, handler: fn.handler },
            log.warn,
          ),
          maxInstances: Math.max(
            1,
            Math.min(
              options.maxInstances ?? defaultMaxInstances(),
              fn.reservedConcurrency ?? Number.POSITIVE_INFINITY,
            ),
          ),
          stdout: options.functionOutput?.stdout,
          stderr: options.functionOutput?.stderr,
          log: log.error,
        });
        pools.set(fn.logicalId, pool);
        prepared.push(
          await prepareFunction(fn, {
            outRoot,
            watch: options.watch ?? true,
            samBuildDir: options.buildDir ? resolve(options.buildDir) : undefined,
            deploy: (artifactDir) => pool.deploy(artifactDir),
            log: log.info,
            logError: log.error,
          }),
        );
      }),
    );

    const apiServer = createApiServer({
      router: new Router(app.routes),
      apis: new Map(app.apis.map((api) => [api.logicalId, api])),
      pools,
      openapiPath: resolve(options.openapi ?? join(app.templateDir, "openapi.yaml")),
      log: log.info,
      logError: log.error,
    });
    if (options.watch ?? true) {
      // Routes, variables and the table come from the template once, at start.
      let warned = false;
      const templateWatcher = watch(templatePath, () => {
        if (warned) return;
        warned = true;
        log.warn(`${templatePath} changed: restart to serve the new template`);
      });
      templateWatcher.on("error", () => {});
      cleanups.push(async () => templateWatcher.close());
    }
    const address = await listen(apiServer, host, options.port ?? 3000);
    // Requests are answered before builds and instances stop, and those before the store.
    cleanups.push(() => apiServer.close());

    const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${urlHost}:${address.port}`,
      ddbEndpoint: database.endpoint,
      tableName: app.tables[0]?.tableName,
      tableNames: Object.fromEntries(app.tables.map((table) => [table.logicalId, table.tableName])),
      dataDir: database.dataDir,
      functions: app.functions.map((fn) => fn.logicalId),
      maxInstances: options.maxInstances ?? defaultMaxInstances(),
      routes: app.routes.map((route) => ({
        method: route.method,
        path: route.resourcePath,
        functionId: route.functionLogicalId,
      })),
      close: () => {
        closing ??= cleanUp();
        return closing;
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
