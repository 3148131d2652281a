// The local sign-in of a template, put together for the runtime's request path: one key
// store, one local issuer per user pool (at /auth, or /auth/<PoolLogicalId> when the
// template has several), and the Cognito authorizers of its Apis. The runtime calls
// `handle` first (the issuers' pages and endpoints) and `authorize` for each routed
// request before it invokes the function.
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type AuthorizerOutcome,
  type CognitoAuthorizer,
  createCognitoAuthorizer,
  type RequestHeaders,
} from "./authorizer.ts";
import { createLocalIssuer, type LocalIssuer } from "./issuer.ts";
import { type IssuerKeys, openIssuerKeys } from "./keys.ts";
import type { TemplateAuth, UserPoolDefinition } from "./template-auth.ts";

export interface LocalSignInOptions {
  templateAuth: TemplateAuth;
  /** The API's origin, e.g. http://127.0.0.1:3000: known once the server listens. */
  origin: () => string;
  /** The keys file (e.g. .data/issuer/keys.json); none keeps the keys in memory. */
  keysFile?: string;
  /** Where the issuers live on the API's origin (default /auth). */
  basePath?: string;
  /** Redirect URIs of the runtime's own pages, allowed for every app client (see issuer.ts). */
  extraCallbackUrls?: () => string[];
}

export interface PoolIssuer {
  pool: UserPoolDefinition;
  issuer: LocalIssuer;
}

/** A routed request, named as the template names its route. */
export interface RouteOfRequest {
  apiLogicalId: string;
  resourcePath: string;
  /** The route's method as the template says it (ANY included). */
  method: string;
  /**
   * An OPTIONS request answered by the Api's Cors setting (no route of the template): it
   * is guarded by the default authorizer unless AddDefaultAuthorizerToCorsPreflight is false.
   */
  corsPreflight?: boolean;
}

export interface LocalSignIn {
  keys: IssuerKeys;
  issuers: PoolIssuer[];
  /** Answers the request when it is for one of the issuers; false otherwise. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
  /** Undefined when no authorizer guards the route; otherwise the authorizer's decision. */
  authorize(route: RouteOfRequest, headers: RequestHeaders): Promise<AuthorizerOutcome | undefined>;
}

/** Undefined when the template declares no Cognito user pool. */
export async function createLocalSignIn(
  options: LocalSignInOptions,
): Promise<LocalSignIn | undefined> {
  const { templateAuth } = options;
  if (templateAuth.userPools.length === 0) return undefined;
  const keys = await openIssuerKeys({ file: options.keysFile });
  const basePath = (options.basePath ?? "/auth").replace(/\/+$/, "");
  const several = templateAuth.userPools.length > 1;
  const issuers: PoolIssuer[] = templateAuth.userPools
    .filter((pool) => pool.clients.length > 0)
    .map((pool) => ({
      pool,
      issuer: createLocalIssuer({
        keys,
        issuer: () => `${options.origin()}${basePath}${several ? `/${pool.logicalId}` : ""}`,
        clients: pool.clients,
        poolName: pool.name,
        extraCallbackUrls: options.extraCallbackUrls,
      }),
    }));
  const issuerOf = (pool: UserPoolDefinition) =>
    issuers.find((candidate) => candidate.pool === pool)?.issuer.issuer();

  const authorizers = new Map<string, CognitoAuthorizer>();
  const authorizerOf = (apiLogicalId: string, name: string): CognitoAuthorizer => {
    const key = `${apiLogicalId} ${name}`;
    let authorizer = authorizers.get(key);
    if (!authorizer) {
      const settings = templateAuth.apis.find((api) => api.apiLogicalId === apiLogicalId)
        ?.authorizers[name];
      const pools = templateAuth.poolsOf(apiLogicalId, name);
      authorizer = createCognitoAuthorizer({
        identityHeader: settings?.identityHeader ?? "Authorization",
        validationExpression: settings?.validationExpression,
        // Read when first needed, once the origin is known.
        issuers: pools.map(issuerOf).filter((url): url is string => url !== undefined),
        clientIds: pools.flatMap((pool) => pool.clients.map((client) => client.clientId)),
        jwksOf: () => keys.jwks(),
      });
      authorizers.set(key, authorizer);
    }
    return authorizer;
  };

  return {
    keys,
    issuers,
    async handle(request, response) {
      for (const { issuer } of issuers) {
        if (await issuer.handle(request, response)) return true;
      }
      return false;
    },
    async authorize(route, headers) {
      const authorization = route.corsPreflight
        ? templateAuth.apis.find((api) => api.apiLogicalId === route.apiLogicalId)?.corsPreflight
        : templateAuth.authorizationOf(route.apiLogicalId, route.resourcePath, route.method);
      if (!authorization) return undefined;
      return authorizerOf(route.apiLogicalId, authorization.authorizer).authorize(
        headers,
        authorization.scopes,
      );
    },
  };
}
