// The local API Gateway + Lambda runtime, as a function: the CLI (npm start) and test
// suites start it the same way, each on its own ports. It knows nothing of the project it
// serves: what is particular to one (sample data, its contract's docs) is given to it.
import { randomBytes } from "node:crypto";
import { watch } from "node:fs";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import type { Writable } from "node:stream";
import { createLocalSignIn, type LocalSignIn } from "./auth/sign-in.ts";
import { readTemplateAuth, TemplateAuthError } from "./auth/template-auth.ts";
import {
  type PreparedFunction,
  prepareFunction,
  removeBuilds,
  removeStaleBuilds,
} from "./build.ts";
import { loadCfnTemplate } from "./cfn-template.ts";
import { type DocsSignIn, docsPage, oauthRedirectPath } from "./docs.ts";
import { type LocalDynamoDb, localDynamoDbClient, startLocalDynamoDb } from "./dynamodb.ts";
import { createTableInput, ensureTable } from "./dynamodb-table.ts";
import {
  type EnvVarsFile,
  functionEnvironment,
  loadEnvVarsFile,
  parameterOverridesFrom,
} from "./environment.ts";
import { defaultMaxInstances, InstancePool } from "./instance-pool.ts";
import { Router } from "./routing.ts";
import { type ApiServer, createApiServer, integrationTimeoutMs, type LocalPage } from "./server.ts";
import { resolveLocalApp, TemplateError } from "./template.ts";

export { buildRestEvent } from "./rest-event.ts";
export type { LocalPage } from "./server.ts";
export { TemplateError } from "./template.ts";

export interface LocalApiLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface SeedTarget {
  endpoint: string;
  tableName: string;
  /**
   * The `sub` the local sign-in's tokens give a username (stable while its keys are kept),
   * when the template has a user pool: sample data can belong to a user who signs in.
   */
  subjectOf?: (username: string) => string;
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
  /** Keep nothing: the embedded DynamoDB lives in memory, and so do the issuer's keys. */
  inMemory?: boolean;
  /**
   * The local issuer's signing keys (made on first start): <data dir>/../issuer/keys.json by
   * default, i.e. .data/issuer/keys.json beside .data/dynamodb, where `npm run token` finds
   * them; in memory with inMemory, unless named here.
   */
  issuerKeysFile?: string;
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
  /**
   * The OpenAPI contract Swagger UI shows at /docs (and /openapi.yaml serves):
   * <template folder>/openapi.yaml by default.
   */
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
  /** Where the data is kept, or undefined (in memory, or an external DynamoDB). */
  dataDir: string | undefined;
  /** Instances per function at most (before a function's ReservedConcurrentExecutions). */
  maxInstances: number;
  /**
   * How long a request already received may still take to be answered: the longest
   * function Timeout, but at most API Gateway's 29 s integration timeout, when every
   * request has its answer (504 at the latest).
   */
  longestAnswerMs: number;
  /** Requests received and not yet answered. */
  readonly inFlight: number;
  /** The local sign-in, when the template declares a Cognito user pool with an app client. */
  signIn?: LocalSignInSummary;
  /** The template's Api routes, as served (at the root, without the stage). */
  routes: Array<{ method: string; path: string; functionId: string }>;
  /** Stops accepting, answers requests in flight, stops instances and closes the store. */
  close(): Promise<void>;
}

export interface LocalSignInSummary {
  /** Each user pool's issuer URL (every token's `iss`), e.g. http://127.0.0.1:3000/auth. */
  issuers: string[];
  /** POST {"username": "alice"} here for tokens without the sign-in page. */
  devTokenUrl: string;
  /** Where the keys are kept, or undefined (in memory). */
  keysFile: string | undefined;
}

export class LocalApiError extends Error {
  override name = "LocalApiError";
  readonly code: string | undefined;
  constructor(message: string, code?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
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

/** The origin and its other loopback name: a browser may be on 127.0.0.1 or on localhost. */
function loopbackAliases(origin: string): string[] {
  const url = new URL(origin);
  const other =
    url.hostname === "127.0.0.1" ? "localhost" : url.hostname === "localhost" ? "127.0.0.1" : "";
  return other ? [url.origin, `${url.protocol}//${other}:${url.port}`] : [url.origin];
}

/** The local issuers' pages and endpoints (under /auth), served before anything else. */
function issuerPage(signIn: LocalSignIn): LocalPage {
  return (request, response) => signIn.handle(request, response);
}

/** What Swagger UI's Authorize needs: the first pool's issuer and an app client that can use it. */
function docsSignInOf(signIn: LocalSignIn): DocsSignIn | undefined {
  const [first] = signIn.issuers;
  if (!first) return undefined;
  const client =
    first.pool.clients.find((candidate) => candidate.allowedFlows.includes("code")) ??
    first.pool.clients[0];
  if (!client) return undefined;
  const resourceScopes = new Set(first.pool.resourceServers.flatMap((server) => server.scopes));
  return {
    issuerPath: () => new URL(first.issuer.issuer()).pathname,
    clientId: client.clientId,
    scopes: client.allowedScopes.filter((scope) => resourceScopes.has(scope)),
  };
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

  let templateAuth: ReturnType<typeof readTemplateAuth>;
  try {
    templateAuth = readTemplateAuth(template, { parameters: app.parameters, warn: log.warn });
  } catch (error) {
    if (error instanceof TemplateAuthError) {
      throw new LocalApiError(`${templatePath}: ${error.message}`, "TEMPLATE", { cause: error });
    }
    throw error;
  }
  const dataDir = resolve(options.dataDir ?? join(app.templateDir, ".data", "dynamodb"));
  // A keys file named explicitly is used even with inMemory (tests sign tokens with it).
  const issuerKeysFile =
    options.issuerKeysFile !== undefined
      ? resolve(options.issuerKeysFile)
      : options.inMemory
        ? undefined
        : join(dirname(dataDir), "issuer", "keys.json");
  // Known once the server listens (port 0 picks one).
  let origin = "";

  const cleanups: Array<() => Promise<void>> = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: Error) => log.error(`while stopping: ${error.message}`));
    }
  };

  try {
    // Before the tables: sample data may belong to a local user (SeedTarget.subjectOf).
    const signIn: LocalSignIn | undefined = await createLocalSignIn({
      templateAuth,
      origin: () => origin,
      keysFile: issuerKeysFile,
      // Swagger UI's OAuth callback on the origin it is served from, whatever the port.
      extraCallbackUrls: () => loopbackAliases(origin).map((alias) => alias + oauthRedirectPath),
    }).catch((error: Error) => {
      throw new LocalApiError(`the local sign-in's keys: ${error.message}`, "ISSUER_KEYS", {
        cause: error,
      });
    });
    const database: LocalDynamoDb = await startLocalDynamoDb({
      endpoint: options.ddbEndpoint,
      host,
      port: options.ddbPort ?? 8000,
      dataDir,
      inMemory: options.inMemory ?? false,
    });
    cleanups.push(() => database.close());

    const client = localDynamoDbClient(database.endpoint);
    try {
      for (const table of app.tables) {
        const created = await ensureTable(
          client,
          createTableInput(template, table.logicalId, table.tableName),
        );
        if (created) {
          log.info(`created table ${table.tableName} from ${table.logicalId}'s definition`);
          await options.seed?.({
            endpoint: database.endpoint,
            tableName: table.tableName,
            subjectOf: signIn && ((username) => signIn.keys.subjectOf(username)),
          });
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
      pages: [
        ...(signIn ? [issuerPage(signIn)] : []),
        docsPage(
          resolve(options.openapi ?? join(app.templateDir, "openapi.yaml")),
          signIn && docsSignInOf(signIn),
        ),
      ],
      authorize: signIn && ((route, headers) => signIn.authorize(route, headers)),
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
    origin = `http://${urlHost}:${address.port}`;
    let closing: Promise<void> | undefined;
    return {
      url: origin,
      signIn: signIn && {
        issuers: signIn.issuers.map(({ issuer }) => issuer.issuer()),
        devTokenUrl: `${signIn.issuers[0]?.issuer.issuer()}/dev/token`,
        keysFile: issuerKeysFile,
      },
      ddbEndpoint: database.endpoint,
      tableName: app.tables[0]?.tableName,
      dataDir: database.dataDir,
      maxInstances: options.maxInstances ?? defaultMaxInstances(),
      longestAnswerMs: Math.min(
        integrationTimeoutMs,
        Math.max(0, ...app.functions.map((fn) => fn.timeoutSeconds * 1000)),
      ),
      get inFlight() {
        return apiServer.inFlight;
      },
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
