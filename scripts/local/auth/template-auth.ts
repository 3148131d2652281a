// What sign-in the template declares, read as SAM and CloudFormation would: the Cognito
// user pools (with their app clients and resource servers), each Api's Auth block (Cognito
// authorizers, DefaultAuthorizer, AddDefaultAuthorizerToCorsPreflight) and, per Api event,
// which authorizer and scopes guard that method. Ids and ARNs of the pools and clients are
// made up locally, stable per logical id, in the shapes AWS gives them.
import { createHash } from "node:crypto";
import { type IntrinsicContext, intrinsicsResolver } from "../cfn-intrinsics.ts";
import type { CfnTemplate, CfnValue } from "../cfn-template.ts";
import { localAccountId, localRegion, localStackName } from "../local-aws.ts";
import { mergeGlobals } from "../template.ts";

export interface ResourceServerDefinition {
  logicalId: string;
  identifier: string;
  /** Full scope names, as tokens carry them: "<identifier>/<ScopeName>". */
  scopes: string[];
}

export interface AppClientDefinition {
  logicalId: string;
  clientId: string;
  callbackUrls: string[];
  logoutUrls: string[];
  allowedScopes: string[];
  allowedFlows: string[];
  generateSecret: boolean;
}

export interface UserPoolDefinition {
  logicalId: string;
  /** "us-east-1_XXXXXXXXX", as Cognito names pools. */
  userPoolId: string;
  arn: string;
  name: string;
  clients: AppClientDefinition[];
  resourceServers: ResourceServerDefinition[];
}

export interface CognitoAuthorizerDefinition {
  name: string;
  /** Logical ids of the template's pools that UserPoolArn names. */
  userPoolLogicalIds: string[];
  /** Identity.Header (default Authorization). */
  identityHeader: string;
  /** Identity.ValidationExpression. */
  validationExpression?: string;
  /** The authorizer's AuthorizationScopes; undefined when it names none. */
  authorizationScopes?: string[];
}

/** What guards one method: an authorizer and the scopes it asks for (empty: ID tokens). */
export interface MethodAuthorization {
  authorizer: string;
  scopes: string[];
}

export interface ApiAuthDefinition {
  apiLogicalId: string;
  defaultAuthorizer?: string;
  addDefaultAuthorizerToCorsPreflight: boolean;
  authorizers: Record<string, CognitoAuthorizerDefinition>;
  /** What guards the OPTIONS methods SAM makes for the Api's Cors setting. */
  corsPreflight?: MethodAuthorization;
}

export interface RouteAuthDefinition {
  apiLogicalId: string;
  functionLogicalId: string;
  eventName: string;
  resourcePath: string;
  /** Upper case, or ANY. */
  method: string;
  /** Undefined: the method is open (no authorizer, or `Authorizer: NONE`). */
  authorization?: MethodAuthorization;
}

export interface TemplateAuth {
  userPools: UserPoolDefinition[];
  apis: ApiAuthDefinition[];
  routes: RouteAuthDefinition[];
  /** What guards a route of the template, by its Api, resource path and method. */
  authorizationOf(
    apiLogicalId: string,
    resourcePath: string,
    method: string,
  ): MethodAuthorization | undefined;
  /** The pools an authorizer of an Api takes tokens from. */
  poolsOf(apiLogicalId: string, authorizer: string): UserPoolDefinition[];
}

export interface TemplateAuthOptions {
  /** The template's parameter values after defaults and overrides (LocalApp.parameters). */
  parameters: Record<string, string>;
  warn?: (message: string) => void;
}

export class TemplateAuthError extends Error {
  override name = "TemplateAuthError";
}

/** The API SAM creates for Api events that name no RestApiId. */
const implicitApiId = "ServerlessRestApi";
const alphanumerics = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function madeUpId(seed: string, length: number, alphabet: string): string {
  const digest = createHash("sha256").update(seed).digest();
  return Array.from(digest.subarray(0, length), (byte) => alphabet[byte % alphabet.length]).join(
    "",
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function strings(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw new TemplateAuthError(`${where} must be a list of strings`);
  }
  return value as string[];
}

function refName(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  return isRecord(value) && typeof value.Ref === "string" ? value.Ref : undefined;
}

/** Reads the sign-in parts of a parsed template. Throws TemplateAuthError when they are wrong. */
export function readTemplateAuth(
  template: CfnTemplate,
  options: TemplateAuthOptions,
): TemplateAuth {
  const warn = options.warn ?? (() => {});
  const resources = Object.entries(template.Resources);
  const ofType = (type: string) => resources.filter(([, resource]) => resource.Type === type);
  const context: IntrinsicContext = {
    template,
    parameters: options.parameters,
    region: localRegion,
    accountId: localAccountId,
    stackName: localStackName,
    refs: {},
    attributes: {},
  };
  const resolveIn = intrinsicsResolver(context, (message) => new TemplateAuthError(message));

  const pools = new Map<string, UserPoolDefinition>();
  for (const [logicalId, resource] of ofType("AWS::Cognito::UserPool")) {
    const userPoolId = `${localRegion}_${madeUpId(`user-pool:${logicalId}`, 9, alphanumerics)}`;
    const arn = `arn:aws:cognito-idp:${localRegion}:${localAccountId}:userpool/${userPoolId}`;
    const providerName = `cognito-idp.${localRegion}.amazonaws.com/${userPoolId}`;
    context.refs[logicalId] = userPoolId;
    context.attributes[`${logicalId}.Arn`] = arn;
    context.attributes[`${logicalId}.UserPoolId`] = userPoolId;
    context.attributes[`${logicalId}.ProviderName`] = providerName;
    context.attributes[`${logicalId}.ProviderURL`] = `https://${providerName}`;
    const name = resolveIn(
      resource.Properties?.UserPoolName ?? logicalId,
      `user pool ${logicalId}`,
    );
    pools.set(logicalId, {
      logicalId,
      userPoolId,
      arn,
      name: String(name),
      clients: [],
      resourceServers: [],
    });
  }
  const poolByReference = (value: unknown, where: string): UserPoolDefinition => {
    const id = resolveIn(value as CfnValue, `${where} UserPoolId`);
    const pool = [...pools.values()].find((candidate) => candidate.userPoolId === id);
    if (!pool)
      throw new TemplateAuthError(`${where}: UserPoolId names no user pool of the template`);
    return pool;
  };

  for (const [logicalId, resource] of ofType("AWS::Cognito::UserPoolResourceServer")) {
    const where = `resource server ${logicalId}`;
    const properties = resource.Properties ?? {};
    const identifier = resolveIn(properties.Identifier, `${where} Identifier`);
    if (typeof identifier !== "string" || !identifier) {
      throw new TemplateAuthError(`${where}: Identifier must be a string`);
    }
    context.refs[logicalId] = identifier;
    const scopes = resolveIn(properties.Scopes ?? [], `${where} Scopes`);
    if (!Array.isArray(scopes)) throw new TemplateAuthError(`${where}: Scopes must be a list`);
    poolByReference(properties.UserPoolId, where).resourceServers.push({
      logicalId,
      identifier,
      scopes: scopes.map((scope) => {
        if (!isRecord(scope) || typeof scope.ScopeName !== "string") {
          throw new TemplateAuthError(`${where}: every scope needs a ScopeName`);
        }
        return `${identifier}/${scope.ScopeName}`;
      }),
    });
  }
  for (const [logicalId] of ofType("AWS::Cognito::UserPoolDomain")) {
    context.refs[logicalId] = madeUpId(`domain:${logicalId}`, 12, "abcdefghijklmnopqrstuvwxyz");
  }

  // Client ids first: a client's own properties may name another resource's Ref.
  const clientResources = ofType("AWS::Cognito::UserPoolClient");
  for (const [logicalId] of clientResources) {
    const clientId = madeUpId(`client:${logicalId}`, 26, "abcdefghijklmnopqrstuvwxyz0123456789");
    context.refs[logicalId] = clientId;
    context.attributes[`${logicalId}.ClientId`] = clientId;
  }
  for (const [logicalId, resource] of clientResources) {
    const where = `app client ${logicalId}`;
    const properties = (resolveIn(resource.Properties ?? {}, where) ?? {}) as Record<
      string,
      unknown
    >;
    const pool = poolByReference(resource.Properties?.UserPoolId, where);
    const allowedScopes = strings(properties.AllowedOAuthScopes, `${where} AllowedOAuthScopes`);
    const known = new Set([
      "openid",
      "email",
      "phone",
      "profile",
      "aws.cognito.signin.user.admin",
      ...pool.resourceServers.flatMap((server) => server.scopes),
    ]);
    for (const scope of allowedScopes) {
      if (!known.has(scope)) {
        throw new TemplateAuthError(
          `${where}: AllowedOAuthScopes names ${scope}, which no resource server of ${pool.logicalId} defines`,
        );
      }
    }
    const generateSecret =
      properties.GenerateSecret === true || properties.GenerateSecret === "true";
    if (generateSecret) {
      warn(
        `${where} has a client secret: the local issuer treats it as a public client (PKCE, no secret)`,
      );
    }
    pool.clients.push({
      logicalId,
      clientId: context.refs[logicalId] as string,
      callbackUrls: strings(properties.CallbackURLs, `${where} CallbackURLs`),
      logoutUrls: strings(properties.LogoutURLs, `${where} LogoutURLs`),
      allowedScopes,
      allowedFlows: strings(properties.AllowedOAuthFlows, `${where} AllowedOAuthFlows`),
      generateSecret,
    });
  }

  const apis = new Map<string, ApiAuthDefinition>();
  const readApiAuth = (apiLogicalId: string, merged: Record<string, CfnValue>) => {
    const where = `api ${apiLogicalId}`;
    const auth = resolveIn(merged.Auth ?? {}, `${where} Auth`);
    if (!isRecord(auth)) throw new TemplateAuthError(`${where}: Auth must be a map`);
    const authorizers: Record<string, CognitoAuthorizerDefinition> = {};
    for (const [name, settings] of Object.entries(
      isRecord(auth.Authorizers) ? auth.Authorizers : {},
    )) {
      const authorizerWhere = `${where} authorizer ${name}`;
      if (!isRecord(settings) || settings.UserPoolArn === undefined) {
        warn(
          `${authorizerWhere} is not a Cognito authorizer, which is all the local runtime emulates`,
        );
        continue;
      }
      const arns = Array.isArray(settings.UserPoolArn)
        ? settings.UserPoolArn
        : [settings.UserPoolArn];
      const userPoolLogicalIds = arns.map((arn) => {
        const pool = [...pools.values()].find((candidate) => candidate.arn === arn);
        if (!pool) {
          throw new TemplateAuthError(
            `${authorizerWhere}: UserPoolArn ${String(arn)} is not a user pool of the template, so no local issuer can sign for it`,
          );
        }
        return pool.logicalId;
      });
      const identity = isRecord(settings.Identity) ? settings.Identity : {};
      authorizers[name] = {
        name,
        userPoolLogicalIds,
        identityHeader: typeof identity.Header === "string" ? identity.Header : "Authorization",
        validationExpression:
          typeof identity.ValidationExpression === "string"
            ? identity.ValidationExpression
            : undefined,
        authorizationScopes:
          settings.AuthorizationScopes === undefined
            ? undefined
            : strings(settings.AuthorizationScopes, `${authorizerWhere} AuthorizationScopes`),
      };
    }
    const defaultAuthorizer =
      typeof auth.DefaultAuthorizer === "string" ? auth.DefaultAuthorizer : undefined;
    if (defaultAuthorizer === "AWS_IAM") {
      throw new TemplateAuthError(`${where}: DefaultAuthorizer AWS_IAM cannot be emulated locally`);
    }
    if (defaultAuthorizer !== undefined && !(defaultAuthorizer in authorizers)) {
      throw new TemplateAuthError(
        `${where}: DefaultAuthorizer ${defaultAuthorizer} is not one of its Cognito authorizers`,
      );
    }
    const addToPreflight =
      auth.AddDefaultAuthorizerToCorsPreflight !== false &&
      auth.AddDefaultAuthorizerToCorsPreflight !== "false";
    const definition: ApiAuthDefinition = {
      apiLogicalId,
      defaultAuthorizer,
      addDefaultAuthorizerToCorsPreflight: addToPreflight,
      authorizers,
    };
    if (merged.Cors !== undefined && defaultAuthorizer && addToPreflight) {
      definition.corsPreflight = {
        authorizer: defaultAuthorizer,
        scopes: authorizers[defaultAuthorizer]?.authorizationScopes ?? [],
      };
    }
    apis.set(apiLogicalId, definition);
  };
  const apiGlobals = template.Globals?.Api ?? {};
  for (const [logicalId, resource] of ofType("AWS::Serverless::Api")) {
    readApiAuth(
      logicalId,
      mergeGlobals(apiGlobals, resource.Properties ?? {}) as Record<string, CfnValue>,
    );
  }

  const routes: RouteAuthDefinition[] = [];
  for (const [functionLogicalId, resource] of ofType("AWS::Serverless::Function")) {
    const events = (resource.Properties?.Events ?? {}) as Record<
      string,
      { Type?: string; Properties?: CfnValue }
    >;
    for (const [eventName, event] of Object.entries(events)) {
      if (event.Type !== "Api") continue;
      const where = `function ${functionLogicalId} event ${eventName}`;
      const properties = (event.Properties ?? {}) as Record<string, CfnValue>;
      const apiLogicalId = refName(properties.RestApiId) ?? implicitApiId;
      if (apiLogicalId === implicitApiId && !apis.has(implicitApiId)) {
        readApiAuth(implicitApiId, apiGlobals as Record<string, CfnValue>);
      }
      const api = apis.get(apiLogicalId);
      if (!api) throw new TemplateAuthError(`${where}: RestApiId names no AWS::Serverless::Api`);
      const resourcePath = String(resolveIn(properties.Path, `${where} Path`));
      const method = String(resolveIn(properties.Method, `${where} Method`)).toUpperCase();
      const eventAuth = resolveIn(properties.Auth ?? {}, `${where} Auth`);
      if (!isRecord(eventAuth)) throw new TemplateAuthError(`${where}: Auth must be a map`);
      const named = eventAuth.Authorizer;
      const eventScopes =
        eventAuth.AuthorizationScopes === undefined
          ? undefined
          : strings(eventAuth.AuthorizationScopes, `${where} AuthorizationScopes`);

      let authorizer: string | undefined;
      if (named === "NONE") {
        if (!api.defaultAuthorizer) {
          throw new TemplateAuthError(
            `${where}: Authorizer NONE needs a DefaultAuthorizer on the Api`,
          );
        }
      } else if (named === "AWS_IAM") {
        throw new TemplateAuthError(`${where}: Authorizer AWS_IAM cannot be emulated locally`);
      } else if (typeof named === "string") {
        authorizer = named;
      } else if (
        api.defaultAuthorizer &&
        (method !== "OPTIONS" || api.addDefaultAuthorizerToCorsPreflight)
      ) {
        // SAM puts the DefaultAuthorizer on every method of the path (ANY included), except
        // the ones named OPTIONS when AddDefaultAuthorizerToCorsPreflight is false.
        authorizer = api.defaultAuthorizer;
      }
      if (authorizer !== undefined && !(authorizer in api.authorizers)) {
        throw new TemplateAuthError(
          `${where}: Authorizer ${authorizer} is not a Cognito authorizer of api ${apiLogicalId}`,
        );
      }
      routes.push({
        apiLogicalId,
        functionLogicalId,
        eventName,
        resourcePath,
        method,
        authorization:
          authorizer === undefined
            ? undefined
            : {
                authorizer,
                // The event's scopes replace the authorizer's (SAM's AuthorizationScopes rule).
                scopes: eventScopes ?? api.authorizers[authorizer]?.authorizationScopes ?? [],
              },
      });
    }
  }

  const byRoute = new Map(
    routes.map((route) => [`${route.apiLogicalId} ${route.resourcePath} ${route.method}`, route]),
  );
  const userPools = [...pools.values()];
  return {
    userPools,
    apis: [...apis.values()],
    routes,
    authorizationOf(apiLogicalId, resourcePath, method) {
      return byRoute.get(`${apiLogicalId} ${resourcePath} ${method.toUpperCase()}`)?.authorization;
    },
    poolsOf(apiLogicalId, authorizer) {
      const ids = apis.get(apiLogicalId)?.authorizers[authorizer]?.userPoolLogicalIds ?? [];
      return userPools.filter((pool) => ids.includes(pool.logicalId));
    },
  };
}
