// Each function's process.env, in this order (later wins): the template's variables
// (Globals merged with the function's), the --env-vars file (SAM CLI format), then what
// the local runtime itself must set: the local DynamoDB endpoint, dummy credentials and
// region, and the variables the Lambda service sets in every execution environment.
import { readFileSync } from "node:fs";
import { localAwsCredentials, localRegion } from "./local-aws.ts";
import type { FunctionDefinition } from "./template.ts";

/** `{"Parameters": {...}, "<FunctionLogicalId>": {...}}`, as `sam local --env-vars` reads it. */
export type EnvVarsFile = Record<string, Record<string, unknown>>;

export class EnvVarsError extends Error {
  override name = "EnvVarsError";
}

export function loadEnvVarsFile(path: string): EnvVarsFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new EnvVarsError(`--env-vars ${path}: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new EnvVarsError(`--env-vars ${path}: expected a JSON object of sections`);
  }
  for (const [section, values] of Object.entries(parsed)) {
    if (!values || typeof values !== "object" || Array.isArray(values)) {
      throw new EnvVarsError(`--env-vars ${path}: section ${section} must be an object`);
    }
  }
  return parsed as EnvVarsFile;
}

function asEnvValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * The "Parameters" section's entries that name a template Parameter: they override that
 * parameter's Default (so `!Ref AllowedOrigins` sees them).
 */
export function parameterOverridesFrom(
  file: EnvVarsFile | undefined,
  templateParameters: Iterable<string>,
): Record<string, string> {
  const names = new Set(templateParameters);
  return Object.fromEntries(
    Object.entries(file?.Parameters ?? {})
      .filter(([name]) => names.has(name))
      .map(([name, value]) => [name, asEnvValue(value)]),
  );
}

export interface LocalRuntimeVariables {
  ddbEndpoint: string;
  /** Handler of the function, for _HANDLER. */
  handler: string;
}

export function functionEnvironment(
  fn: FunctionDefinition,
  file: EnvVarsFile | undefined,
  templateParameters: Iterable<string>,
  local: LocalRuntimeVariables,
  warn: (message: string) => void,
): Record<string, string> {
  const environment: Record<string, string> = { ...fn.environment };
  const declared = new Set(Object.keys(fn.environment));
  const parameterNames = new Set(templateParameters);
  const apply = (values: Record<string, unknown>, section: string) => {
    for (const [name, value] of Object.entries(values)) {
      if (section === "Parameters" && parameterNames.has(name)) continue;
      if (!declared.has(name)) {
        // The SAM CLI would drop it silently; passing it (with a word) is less surprising.
        warn(
          `${fn.logicalId}: ${name} from the env-vars file (${section}) is not declared in the template: passed anyway, but it will not exist when deployed`,
        );
      }
      environment[name] = asEnvValue(value);
    }
  };
  if (file?.Parameters) apply(file.Parameters, "Parameters");
  const own = file?.[fn.logicalId];
  if (own) apply(own, fn.logicalId);

  return {
    ...environment,
    DDB_ENDPOINT: local.ddbEndpoint,
    // The SDK's own setting: even a client that ignores DDB_ENDPOINT stays local.
    AWS_ENDPOINT_URL_DYNAMODB: local.ddbEndpoint,
    ...localAwsCredentials,
    AWS_REGION: localRegion,
    AWS_DEFAULT_REGION: localRegion,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    _HANDLER: local.handler,
    LANG: "en_US.UTF-8",
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
  };
}
