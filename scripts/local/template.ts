// What the local runtime needs from a SAM template: the functions (Globals merged,
// intrinsics resolved), the Api events that route to them, each Api's stage and Cors,
// and the DynamoDB tables. Everything is read from the template; nothing is assumed.
import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import {
  type IntrinsicContext,
  intrinsicsResolver,
  resolveIntrinsics,
  UnresolvableIntrinsicError,
} from "./cfn-intrinsics.ts";
import type { CfnTemplate, CfnValue } from "./cfn-template.ts";
import { localAccountId, localRegion, localStackName } from "./local-aws.ts";

/** The API SAM creates for Api events that name no RestApiId. */
const implicitApiId = "ServerlessRestApi";

export interface CorsSettings {
  allowOrigin: string;
  allowMethods?: string;
  allowHeaders?: string;
  maxAge?: string;
  allowCredentials: boolean;
}

/** An Api's GatewayResponses entry: how API Gateway's own answers of one type look. */
export interface GatewayResponseSettings {
  statusCode?: number;
  /** Static header values (ResponseParameters' quoted literals). */
  headers: Record<string, string>;
  /** Body templates by content type (ResponseTemplates). */
  templates: Record<string, string>;
}

export interface ApiDefinition {
  logicalId: string;
  /** What API Gateway would call its id: stable per API so logs and events are comparable. */
  restApiId: string;
  stageName: string;
  /** The stage's Variables, as the event's stageVariables (null there when undefined). */
  stageVariables?: Record<string, string>;
  cors?: CorsSettings;
  /** Media types API Gateway passes to the function base64-encoded (BinaryMediaTypes). */
  binaryMediaTypes: string[];
  /** By response type: MISSING_AUTHENTICATION_TOKEN, DEFAULT_4XX, DEFAULT_5XX... */
  gatewayResponses: Record<string, GatewayResponseSettings>;
}

export interface RouteDefinition {
  apiLogicalId: string;
  functionLogicalId: string;
  /** The resource path as written in the template, e.g. /todos/{id} or /{proxy+}. */
  resourcePath: string;
  /** Upper-case HTTP method, or ANY. */
  method: string;
  /** Stable per resource path, like API Gateway's resource ids. */
  resourceId: string;
}

export interface BuildDefinition {
  method: string;
  properties: Record<string, unknown>;
}

export interface FunctionDefinition {
  logicalId: string;
  functionName: string;
  /** "file.export", relative to the built artifact's root. */
  handler: string;
  /** Absolute path of the function's CodeUri. */
  codeDir: string;
  runtime: string;
  timeoutSeconds: number;
  memoryMb: number;
  architecture: string;
  /** The template's variables after Globals are merged and intrinsics evaluated. */
  environment: Record<string, string>;
  build?: BuildDefinition;
  reservedConcurrency?: number;
}

export interface TableDefinition {
  logicalId: string;
  tableName: string;
}

export interface LocalApp {
  templateDir: string;
  parameters: Record<string, string>;
  apis: ApiDefinition[];
  routes: RouteDefinition[];
  functions: FunctionDefinition[];
  tables: TableDefinition[];
}

export interface ResolveOptions {
  templatePath: string;
  /** Overrides of template Parameters (by name). */
  parameterOverrides?: Record<string, string>;
  /** Local table names by logical id; a table not named here is named by its logical id. */
  tableNames?: Record<string, string>;
  warn?: (message: string) => void;
}

export class TemplateError extends Error {
  override name = "TemplateError";
}

function shortId(seed: string, length: number): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * SAM's Globals rules: a map merges key by key (the resource wins), a list is the
 * global list followed by the resource's, anything else from the resource replaces.
 */
export function mergeGlobals(globals: unknown, own: unknown): unknown {
  if (own === undefined) return globals;
  if (globals === undefined) return own;
  if (Array.isArray(globals) && Array.isArray(own)) return [...globals, ...own];
  if (isRecord(globals) && isRecord(own) && !isIntrinsic(own) && !isIntrinsic(globals)) {
    const merged: Record<string, unknown> = { ...globals };
    for (const [key, value] of Object.entries(own)) merged[key] = mergeGlobals(globals[key], value);
    return merged;
  }
  return own;
}

function isIntrinsic(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === "Ref" || Boolean(keys[0]?.startsWith("Fn::")));
}

function unquoteCorsValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  // SAM writes Cors values as API Gateway header mappings: quoted literals, "'*'".
  const text = String(value);
  return text.length >= 2 && text.startsWith("'") && text.endsWith("'") ? text.slice(1, -1) : text;
}

function corsSettings(cors: unknown): CorsSettings | undefined {
  if (cors === undefined || cors === null) return undefined;
  if (typeof cors === "string") {
    return { allowOrigin: unquoteCorsValue(cors) as string, allowCredentials: false };
  }
  if (!isRecord(cors)) throw new TemplateError("Cors must be a string or a map");
  const allowOrigin = unquoteCorsValue(cors.AllowOrigin);
  if (!allowOrigin) throw new TemplateError("Cors needs AllowOrigin");
  return {
    allowOrigin,
    allowMethods: unquoteCorsValue(cors.AllowMethods),
    allowHeaders: unquoteCorsValue(cors.AllowHeaders),
    maxAge: unquoteCorsValue(cors.MaxAge),
    allowCredentials: cors.AllowCredentials === true || cors.AllowCredentials === "true",
  };
}

function gatewayResponseSettings(
  value: unknown,
  warn: (message: string) => void,
): Record<string, GatewayResponseSettings> {
  if (!isRecord(value)) return {};
  const settings: Record<string, GatewayResponseSettings> = {};
  for (const [type, response] of Object.entries(value)) {
    if (!isRecord(response)) continue;
    const headers: Record<string, string> = {};
    const parameters = isRecord(response.ResponseParameters) ? response.ResponseParameters : {};
    for (const [name, mapping] of Object.entries(
      isRecord(parameters.Headers) ? parameters.Headers : {},
    )) {
      const text = String(mapping);
      if (text.length >= 2 && text.startsWith("'") && text.endsWith("'")) {
        headers[name] = text.slice(1, -1);
      } else {
        warn(`GatewayResponses ${type}: header ${name} maps ${text}, which only AWS can fill in`);
      }
    }
    settings[type] = {
      statusCode: response.StatusCode === undefined ? undefined : Number(response.StatusCode),
      headers,
      templates: Object.fromEntries(
        Object.entries(isRecord(response.ResponseTemplates) ? response.ResponseTemplates : {}).map(
          ([contentType, template]) => [contentType, String(template)],
        ),
      ),
    };
  }
  return settings;
}

function parameterValues(
  template: CfnTemplate,
  overrides: Record<string, string>,
  warn: (message: string) => void,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, parameter] of Object.entries(template.Parameters ?? {})) {
    const value = overrides[name] ?? parameter.Default;
    if (value === undefined) {
      throw new TemplateError(
        `parameter ${name} has no Default: give it a value (env-vars file "Parameters" or --parameter-overrides)`,
      );
    }
    values[name] = Array.isArray(value) ? value.join(",") : String(value);
  }
  for (const name of Object.keys(overrides)) {
    if (!(name in values)) warn(`parameter override ${name} names no parameter of the template`);
  }
  return values;
}

function stringValue(value: unknown, what: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new TemplateError(`${what} must be a string, found ${JSON.stringify(value)}`);
}

type Resolver = (value: CfnValue, where: string) => unknown;
type Properties = Record<string, CfnValue>;

/** One function's definition: Globals merged, intrinsics resolved. */
function functionDefinition(
  logicalId: string,
  merged: Properties,
  metadata: Record<string, CfnValue>,
  scope: {
    context: IntrinsicContext;
    resolveIn: Resolver;
    templateDir: string;
    warn: (message: string) => void;
  },
): FunctionDefinition {
  const { context, resolveIn, templateDir, warn } = scope;
  const where = `function ${logicalId}`;
  const environment: Record<string, string> = {};
  const variables = (merged.Environment as { Variables?: Properties } | undefined)?.Variables;
  for (const [name, value] of Object.entries(variables ?? {})) {
    let resolved: unknown;
    try {
      resolved = resolveIntrinsics(value, context);
    } catch (error) {
      if (!(error instanceof UnresolvableIntrinsicError)) throw error;
      // The SAM CLI also leaves out what it cannot resolve; say so instead of failing.
      warn(`${where}: variable ${name} left empty: ${error.message}`);
      resolved = "";
    }
    if (resolved !== undefined) environment[name] = stringValue(resolved, `${where} ${name}`);
  }

  const codeUri = resolveIn(merged.CodeUri ?? ".", `${where} CodeUri`);
  if (typeof codeUri !== "string") {
    throw new TemplateError(`${where}: only a local CodeUri (a folder) can run locally`);
  }
  const handler = resolveIn(merged.Handler, `${where} Handler`);
  if (typeof handler !== "string" || !handler.includes(".")) {
    throw new TemplateError(`${where}: Handler must look like file.export`);
  }
  const runtime = String(resolveIn(merged.Runtime ?? "", `${where} Runtime`));
  if (!runtime.startsWith("nodejs")) {
    throw new TemplateError(`${where}: Runtime ${runtime || "(none)"} is not a Node.js runtime`);
  }
  const build =
    typeof metadata.BuildMethod === "string"
      ? {
          method: metadata.BuildMethod,
          properties: (resolveIn(metadata.BuildProperties ?? {}, `${where} BuildProperties`) ??
            {}) as Record<string, unknown>,
        }
      : undefined;
  const architectures = resolveIn(merged.Architectures ?? ["x86_64"], `${where} Architectures`);
  const reserved = resolveIn(merged.ReservedConcurrentExecutions, `${where} concurrency`);
  return {
    logicalId,
    functionName: context.refs[logicalId] as string,
    handler,
    codeDir: resolve(templateDir, codeUri),
    runtime,
    timeoutSeconds: Number(resolveIn(merged.Timeout ?? 3, `${where} Timeout`)),
    memoryMb: Number(resolveIn(merged.MemorySize ?? 128, `${where} MemorySize`)),
    architecture: String((architectures as unknown[])[0] ?? "x86_64"),
    environment,
    build,
    reservedConcurrency: reserved === undefined ? undefined : Number(reserved),
  };
}

/** The routes a function's Api events add, each on the Api its RestApiId names. */
function functionRoutes(
  logicalId: string,
  merged: Properties,
  apiLogicalIds: Set<string>,
  resolveIn: Resolver,
): RouteDefinition[] {
  const events = (merged.Events ?? {}) as Record<string, { Type?: string; Properties?: CfnValue }>;
  const routes: RouteDefinition[] = [];
  for (const [eventName, event] of Object.entries(events)) {
    if (event.Type !== "Api") continue;
    const where = `function ${logicalId} event ${eventName}`;
    const properties = (event.Properties ?? {}) as Properties;
    const restApi = properties.RestApiId as { Ref?: string } | string | undefined;
    const apiLogicalId =
      restApi === undefined
        ? implicitApiId
        : typeof restApi === "string"
          ? restApi
          : (restApi.Ref ?? "");
    if (apiLogicalId !== implicitApiId && !apiLogicalIds.has(apiLogicalId)) {
      throw new TemplateError(`${where}: RestApiId names no AWS::Serverless::Api`);
    }
    const resourcePath = stringValue(resolveIn(properties.Path, where), `${where} Path`);
    const method = stringValue(resolveIn(properties.Method, where), `${where} Method`);
    routes.push({
      apiLogicalId,
      functionLogicalId: logicalId,
      resourcePath,
      method: method.toUpperCase(),
      resourceId: shortId(`resource:${apiLogicalId}:${resourcePath}`, 6),
    });
  }
  return routes;
}

/**
 * One Api as API Gateway serves it. The implicit API SAM makes for events without a
 * RestApiId takes its settings from Globals alone and is staged as Prod.
 */
function apiDefinition(
  logicalId: string,
  merged: Properties,
  resolveIn: Resolver,
  warn: (message: string) => void,
): ApiDefinition {
  const where = `api ${logicalId}`;
  const stageName =
    logicalId === implicitApiId
      ? "Prod"
      : stringValue(resolveIn(merged.StageName, `${where} StageName`), where);
  const variables = resolveIn(merged.Variables, `${where} Variables`);
  if (variables !== undefined && !isRecord(variables)) {
    throw new TemplateError(`${where}: Variables must be a map`);
  }
  return {
    logicalId,
    restApiId: shortId(`api:${logicalId}`, 10),
    stageName,
    stageVariables: variables
      ? Object.fromEntries(
          Object.entries(variables).map(([name, value]) => [
            name,
            stringValue(value, `${where} Variables ${name}`),
          ]),
        )
      : undefined,
    cors: corsSettings(resolveIn(merged.Cors, `${where} Cors`)),
    binaryMediaTypes: (
      (resolveIn(merged.BinaryMediaTypes ?? [], `${where} BinaryMediaTypes`) as unknown[]) ?? []
    )
      // SAM escapes "/" as "~1" in BinaryMediaTypes, as in a JSON pointer.
      .map((type) => String(type).replaceAll("~1", "/")),
    gatewayResponses: gatewayResponseSettings(
      resolveIn(merged.GatewayResponses, `${where} GatewayResponses`),
      warn,
    ),
  };
}

/** Reads the template into what the runtime serves. Throws TemplateError when it cannot. */
export function resolveLocalApp(template: CfnTemplate, options: ResolveOptions): LocalApp {
  const warn = options.warn ?? (() => {});
  const templateDir = dirname(resolve(options.templatePath));
  const parameters = parameterValues(template, options.parameterOverrides ?? {}, warn);
  const resources = Object.entries(template.Resources);
  const context: IntrinsicContext = {
    template,
    parameters,
    region: localRegion,
    accountId: localAccountId,
    stackName: localStackName,
    refs: {},
    attributes: {},
  };

  const tables: TableDefinition[] = resources
    .filter(([, resource]) => resource.Type === "AWS::DynamoDB::Table")
    .map(([logicalId]) => ({
      logicalId,
      tableName: options.tableNames?.[logicalId] ?? logicalId,
    }));
  for (const { logicalId, tableName } of tables) {
    const arn = `arn:aws:dynamodb:${localRegion}:${localAccountId}:table/${tableName}`;
    context.refs[logicalId] = tableName;
    context.attributes[`${logicalId}.Arn`] = arn;
    context.attributes[`${logicalId}.StreamArn`] = `${arn}/stream/1970-01-01T00:00:00.000`;
  }

  const functionResources = resources.filter(
    ([, resource]) => resource.Type === "AWS::Serverless::Function",
  );
  const apiResources = resources.filter(([, resource]) => resource.Type === "AWS::Serverless::Api");
  for (const [logicalId] of apiResources) {
    context.refs[logicalId] = shortId(`api:${logicalId}`, 10);
  }
  for (const [logicalId, resource] of functionResources) {
    const name = resource.Properties?.FunctionName;
    const functionName = typeof name === "string" ? name : logicalId;
    context.refs[logicalId] = functionName;
    context.attributes[`${logicalId}.Arn`] =
      `arn:aws:lambda:${localRegion}:${localAccountId}:function:${functionName}`;
  }

  const resolveIn: Resolver = intrinsicsResolver(context, (message) => new TemplateError(message));

  const functionGlobals = template.Globals?.Function ?? {};
  const apiLogicalIds = new Set(apiResources.map(([logicalId]) => logicalId));
  const functions: FunctionDefinition[] = [];
  const routes: RouteDefinition[] = [];
  for (const [logicalId, resource] of functionResources) {
    const merged = mergeGlobals(functionGlobals, resource.Properties ?? {}) as Properties;
    functions.push(
      functionDefinition(logicalId, merged, resource.Metadata ?? {}, {
        context,
        resolveIn,
        templateDir,
        warn,
      }),
    );
    routes.push(...functionRoutes(logicalId, merged, apiLogicalIds, resolveIn));
  }

  const apiGlobals = template.Globals?.Api ?? {};
  const apis = apiResources.map(([logicalId, resource]) =>
    apiDefinition(
      logicalId,
      mergeGlobals(apiGlobals, resource.Properties ?? {}) as Properties,
      resolveIn,
      warn,
    ),
  );
  if (routes.some((route) => route.apiLogicalId === implicitApiId)) {
    apis.push(apiDefinition(implicitApiId, apiGlobals as Properties, resolveIn, warn));
  }

  const seen = new Map<string, string>();
  for (const route of routes) {
    const key = `${route.resourcePath} ${route.method}`;
    const owner = seen.get(key);
    if (owner) {
      throw new TemplateError(
        `${key} is routed twice (functions ${owner} and ${route.functionLogicalId})`,
      );
    }
    seen.set(key, route.functionLogicalId);
  }

  return { templateDir, parameters, apis, routes, functions, tables };
}
