// Who is calling: the caller's access token, as API Gateway's Cognito authorizer passes its
// claims to the function (requestContext.authorizer.claims, every value a string). API Gateway
// invokes the function only after it has verified the token (signature, issuer, expiry and one
// of the API's scopes), so the function reads no JWT and calls no one; it checks what the
// authorizer cannot know: the scope of this operation. It fails closed: no claims, no `sub`, or
// the claims of an ID token are 401, never a shared owner.
import type middy from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { HttpProblem } from "./problem.ts";

type Middleware = middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>;

/** The claims as API Gateway REST passes them (src/http/sam-local-sign-in.ts makes the same). */
export type TokenClaims = Record<string, string>;

export interface Caller {
  /** The token's `sub`: every todo belongs to one. */
  owner: string;
  scopes: ReadonlySet<string>;
}

/** 401: RFC 6750 §3 says `Bearer` with no error code when the request had no usable token. */
export const signInRequired = () =>
  new HttpProblem(
    {
      type: "about:blank",
      title: "Unauthorized",
      status: 401,
      detail: "Sign in and send the access token as Authorization: Bearer <token>.",
    },
    { "WWW-Authenticate": "Bearer" },
  );

function insufficientScope(scopes: readonly string[]) {
  const needed = scopes.join(" ");
  return new HttpProblem(
    {
      type: "/problems/insufficient-scope",
      title: "The access token lacks a scope this operation needs",
      status: 403,
      detail: `This operation needs the scope ${needed}.`,
    },
    { "WWW-Authenticate": `Bearer error="insufficient_scope", scope="${needed}"` },
  );
}

function claimsOf(event: APIGatewayProxyEvent): Record<string, unknown> | undefined {
  const claims: unknown = event.requestContext?.authorizer?.claims;
  return claims !== null && typeof claims === "object"
    ? (claims as Record<string, unknown>)
    : undefined;
}

/** The signed-in caller, or 401. Only access tokens sign in: an ID token says who, not what for. */
export function callerOf(event: APIGatewayProxyEvent): Caller {
  const claims = claimsOf(event);
  const sub = claims?.sub;
  if (typeof sub !== "string" || sub === "" || claims?.token_use !== "access") {
    throw signInRequired();
  }
  const scope = claims.scope;
  return {
    owner: sub,
    scopes: new Set(typeof scope === "string" ? scope.split(" ").filter(Boolean) : []),
  };
}

/**
 * Verifies a bearer token where no authorizer did (only under `sam local start-api`): the
 * claims as API Gateway would pass them, or undefined for a token it refuses.
 */
export type BearerVerifier = (
  authorization: string | undefined,
) => Promise<TokenClaims | undefined>;

/**
 * Every request but a CORS preflight needs a signed-in caller (as API Gateway's authorizer sits
 * on every method but OPTIONS). With a verifier, the claims are the ones it finds in the
 * request's Authorization header, whatever the event carried.
 */
export function signIn(verifyBearer?: BearerVerifier): Middleware {
  return {
    before: async ({ event }) => {
      if (event.httpMethod === "OPTIONS") return;
      if (verifyBearer) {
        const claims = await verifyBearer(event.headers?.authorization);
        event.requestContext = {
          ...event.requestContext,
          authorizer: claims ? { claims } : undefined,
        };
      }
      callerOf(event);
    },
  };
}

/** The operation's scopes (generated/operations.ts, from its `security`): all of them, or 403. */
export function requireScopes(scopes: readonly string[]): Middleware {
  return {
    before: ({ event }) => {
      const { scopes: granted } = callerOf(event);
      if (!scopes.every((scope) => granted.has(scope))) throw insufficientScope(scopes);
    },
  };
}
