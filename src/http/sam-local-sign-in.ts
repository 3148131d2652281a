// What only `sam local start-api` needs: the refusal of a run that would reach AWS's DynamoDB,
// and sign-in. The SAM CLI skips Cognito authorizers, so there the function verifies the bearer
// token itself, as API Gateway's authorizer would: RS256 by a
// key of the local issuer's JWKS, `iss`, `exp` (and `nbf`), an access token of one of the app
// clients, carrying one of the API's scopes; then it hands on the claims in the shape API
// Gateway REST passes them. This module is an entry point of its own in the build
// (template.yaml), loaded by src/handler.ts only where AWS_SAM_LOCAL is set: neither it nor
// jose is in the bundle Lambda loads on AWS, where API Gateway has verified the token.
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
} from "jose";
import { HttpProblem, plainProblem, retryAfterSeconds } from "./problem.ts";
import type { BearerVerifier, TokenClaims } from "./sign-in.ts";

/**
 * Why the function must answer no request, naming the fix, or undefined: under the SAM CLI
 * (AWS_SAM_LOCAL=true) an empty DDB_ENDPOINT would reach the real table of whatever AWS profile
 * the user has, so it is refused unless USE_AWS_DYNAMODB=true says that is meant.
 */
export function samLocalRefusal(env: NodeJS.ProcessEnv): string | undefined {
  if (env.AWS_SAM_LOCAL !== "true" || env.DDB_ENDPOINT || env.USE_AWS_DYNAMODB === "true") {
    return undefined;
  }
  return (
    "DDB_ENDPOINT is empty under the SAM CLI, so this function would use the real DynamoDB table " +
    "of your AWS profile. Start it with `--env-vars env_local.json` (DDB_ENDPOINT pointing at " +
    "a local DynamoDB), or set USE_AWS_DYNAMODB=true to use AWS on purpose."
  );
}

/**
 * In place of the verifier when samLocalRefusal says no: every request but a CORS preflight is
 * answered 503 through the app's own error path (problem+json, security headers, CORS, the
 * request log) before anything reads it, its detail naming the fix.
 */
export function refuseEveryRequest(detail: string): BearerVerifier {
  return async () => {
    throw new HttpProblem(
      { ...plainProblem(503, detail), type: "/problems/service-unavailable" },
      { "Retry-After": String(retryAfterSeconds) },
    );
  };
}

/** The local issuer whose tokens the function verifies, from env_local.json. */
export interface SamLocalIssuer {
  /** The tokens' `iss`: the local issuer's URL. */
  issuer: string;
  /**
   * Its public keys themselves (LOCAL_JWKS): verified with no call to anyone, so no issuer
   * needs to run. Without them, fetched from jwksUrl.
   */
  jwks?: JSONWebKeySet;
  /** Where its keys are published (as seen from inside the SAM CLI's container). */
  jwksUrl: string;
  /** The app clients whose access tokens are taken. */
  clientIds: string[];
}

// Without an issuer to verify against, the function refuses to start rather than take tokens
// it cannot check.
export function samLocalIssuerFrom(env: NodeJS.ProcessEnv): SamLocalIssuer {
  const issuer = env.LOCAL_ISSUER_URL?.replace(/\/+$/, "");
  const clientIds = (env.LOCAL_CLIENT_IDS ?? "")
    .split(",")
    .map((id) => id.trim())
    .filter(Boolean);
  if (!issuer || clientIds.length === 0) {
    throw new Error(
      "Under sam local start-api the function verifies tokens itself: set LOCAL_ISSUER_URL and LOCAL_CLIENT_IDS (env_local.json)",
    );
  }
  const jwksUrl = env.LOCAL_JWKS_URL || `${issuer}/.well-known/jwks.json`;
  return env.LOCAL_JWKS
    ? { issuer, jwks: parseJwks(env.LOCAL_JWKS), jwksUrl, clientIds }
    : { issuer, jwksUrl, clientIds };
}

function parseJwks(text: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const keys = (parsed as { keys?: unknown } | undefined)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new Error(
      'LOCAL_JWKS is not a JWKS ({"keys": [...]}, as npm run -s token -- --sam-env writes it)',
    );
  }
  return parsed as JSONWebKeySet;
}

export interface SamLocalSignInSettings extends SamLocalIssuer {
  /** The authorizer's AuthorizationScopes: a token must carry one of them. */
  scopes: readonly string[];
  /** Why a token was refused, for the function's log (the client only gets 401). */
  onRefusal?: (reason: string) => void;
}

function refusalReason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} refused`;
  if (error instanceof errors.JOSEError) return `not a valid token (${error.code})`;
  return "not a valid token";
}

export function createBearerVerifier(settings: SamLocalSignInSettings): BearerVerifier {
  // Inline keys change only with the env file; published ones may rotate: a key the issuer
  // stops publishing stops verifying within a minute.
  const keys = settings.jwks
    ? createLocalJWKSet(settings.jwks)
    : createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: 2000, cacheMaxAge: 60_000 });
  const refuse = (reason: string) => {
    settings.onRefusal?.(reason);
    return undefined;
  };
  return async (authorization) => {
    const value = authorization?.trim();
    if (!value) return refuse("no Authorization header");
    // As API Gateway's Cognito authorizer: the raw token or "Bearer <token>".
    const token = value.replace(/^bearer\s+/i, "");
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: settings.issuer,
        algorithms: ["RS256"],
        requiredClaims: ["exp", "iat", "sub", "token_use"],
      }));
    } catch (error) {
      return refuse(refusalReason(error));
    }
    if (payload.token_use !== "access") return refuse("not an access token");
    if (typeof payload.client_id !== "string" || !settings.clientIds.includes(payload.client_id)) {
      return refuse("a token of another client");
    }
    const granted = typeof payload.scope === "string" ? payload.scope.split(" ") : [];
    if (!settings.scopes.some((scope) => granted.includes(scope))) {
      return refuse("none of the API's scopes");
    }
    return claimsAsApiGatewayPassesThem(payload);
  };
}

const weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const twoDigits = (value: number) => String(value).padStart(2, "0");

/** Java's Date.toString() in UTC, which is how REST APIs pass `exp` and `iat`. */
function javaDateString(epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000);
  return `${weekdays[date.getUTCDay()]} ${months[date.getUTCMonth()]} ${twoDigits(date.getUTCDate())} ${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())}:${twoDigits(date.getUTCSeconds())} UTC ${date.getUTCFullYear()}`;
}

const claimText = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

/**
 * The claims as API Gateway REST gives them to the function: every value a string; `exp` and
 * `iat` as Java dates ("Mon Jul 20 02:28:52 UTC 2026"), other numbers and booleans as their
 * text, lists joined with commas, objects as JSON, nulls left out. (The local runtime's
 * authorizer emulation, scripts/local/auth/authorizer.ts, maps them the same way.)
 */
export function claimsAsApiGatewayPassesThem(payload: JWTPayload): TokenClaims {
  const claims: TokenClaims = {};
  for (const [name, value] of Object.entries(payload)) {
    if (value === null || value === undefined) continue;
    if ((name === "exp" || name === "iat") && typeof value === "number" && Number.isFinite(value)) {
      claims[name] = javaDateString(value);
    } else if (Array.isArray(value)) {
      claims[name] = value.map(claimText).join(",");
    } else {
      claims[name] = claimText(value);
    }
  }
  return claims;
}
