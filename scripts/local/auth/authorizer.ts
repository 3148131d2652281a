// API Gateway REST's Cognito user pool authorizer (COGNITO_USER_POOLS), emulated: it reads
// the token from the authorizer's identity header, verifies it against the user pool's
// JWKS and either passes the claims on (as requestContext.authorizer.claims, every value a
// string) or refuses with the gateway response API Gateway gives, UNAUTHORIZED (401).
//
// What API Gateway does, and so what this does:
// - The header holds the raw token or "Bearer <token>" (both work on AWS).
// - A method with AuthorizationScopes takes only access tokens carrying one of those scopes;
//   a method without takes only ID tokens. Either way: RS256 signature by a key of the
//   pool's JWKS, `iss` the pool, `exp` in the future.
// - Every refusal is UNAUTHORIZED, 401 {"message":"Unauthorized"}, whatever the cause: the
//   EXPIRED_TOKEN and INVALID_SIGNATURE responses are for AWS (SigV4) credentials, and
//   ACCESS_DENIED for Lambda authorizers' Deny policies.
// Stricter than AWS, on purpose: `client_id` (access) or `aud` (ID) must name an app client
// of the pool declared in the template (AWS takes any client of the pool), and `nbf` is
// honoured when present (Cognito never sets it).
import {
  createLocalJWKSet,
  decodeJwt,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
} from "jose";
import { signingAlgorithm } from "./keys.ts";

/** An answer of API Gateway's own, as the runtime renders it through the Api's GatewayResponses. */
export interface GatewayFailure {
  type: "UNAUTHORIZED";
  statusCode: 401;
  message: "Unauthorized";
  errorType: "UnauthorizedException";
}

export const unauthorized: GatewayFailure = {
  type: "UNAUTHORIZED",
  statusCode: 401,
  message: "Unauthorized",
  errorType: "UnauthorizedException",
};

export type AuthorizerOutcome =
  | { allowed: true; claims: Record<string, string> }
  /** `reason` is for the runtime's log only: API Gateway tells the client nothing more. */
  | { allowed: false; failure: GatewayFailure; reason: string };

export interface CognitoAuthorizerSettings {
  /** The header the token comes in (the authorizer's Identity.Header), in any case. */
  identityHeader: string;
  /** Identity.ValidationExpression: the header value must match it whole. */
  validationExpression?: string;
  /** The `iss` of each user pool the authorizer names. */
  issuers: string[];
  /** The app clients of those pools. */
  clientIds: string[];
  /** The keys an issuer publishes now (its JWKS); undefined for an issuer it does not know. */
  jwksOf(issuer: string): JSONWebKeySet | undefined;
}

export type RequestHeaders = Record<string, string | string[] | undefined>;

export interface CognitoAuthorizer {
  /**
   * Decides one request. `scopes` are the method's AuthorizationScopes: empty means the
   * method takes ID tokens, as on AWS.
   */
  authorize(headers: RequestHeaders, scopes: readonly string[]): Promise<AuthorizerOutcome>;
}

const refuse = (reason: string): AuthorizerOutcome => ({
  allowed: false,
  failure: unauthorized,
  reason,
});

function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

function verificationFailure(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    return error.claim === "nbf" ? "the token is not valid yet" : `claim ${error.claim} refused`;
  }
  if (error instanceof errors.JWKSNoMatchingKey) return "no key of the JWKS signed it";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the signature is wrong";
  if (error instanceof errors.JOSEAlgNotAllowed) return "its algorithm is not RS256";
  if (error instanceof errors.JOSEError) return `not a valid token (${error.code})`;
  return "not a valid token";
}

/** How many verified tokens are remembered, and for how long at most. */
const maxVerifiedTokens = 1000;
const verifiedTokenLifetimeMs = 60_000;

export function createCognitoAuthorizer(settings: CognitoAuthorizerSettings): CognitoAuthorizer {
  const validation =
    settings.validationExpression === undefined
      ? undefined
      : new RegExp(`^(?:${settings.validationExpression})$`);
  // One resolver per published key set: a rotation or retirement publishes a new object.
  const resolvers = new WeakMap<JSONWebKeySet, ReturnType<typeof createLocalJWKSet>>();
  const resolverOf = (jwks: JSONWebKeySet) => {
    let resolver = resolvers.get(jwks);
    if (!resolver) {
      resolver = createLocalJWKSet(jwks);
      resolvers.set(jwks, resolver);
    }
    return resolver;
  };

  // Tokens whose signature was verified, so that a client's every request does not pay an RSA
  // verification (0.2-0.4 ms of the server thread, measured by npm run bench's trace). An
  // entry holds only for the key set that verified it (a rotation or retirement publishes a
  // new object) and never past the token's exp; everything else is checked on every request.
  const verified = new Map<string, { jwks: JSONWebKeySet; payload: JWTPayload; until: number }>();
  const verifiedPayload = async (token: string, issuer: string, jwks: JSONWebKeySet) => {
    const known = verified.get(token);
    if (known && known.jwks === jwks && Date.now() < known.until) return known.payload;
    const { payload } = await jwtVerify(token, resolverOf(jwks), {
      issuer,
      algorithms: [signingAlgorithm],
      requiredClaims: ["exp", "iat", "sub", "token_use"],
    });
    if (verified.size >= maxVerifiedTokens) verified.delete(verified.keys().next().value ?? "");
    const until = Math.min((payload.exp ?? 0) * 1000, Date.now() + verifiedTokenLifetimeMs);
    verified.set(token, { jwks, payload, until });
    return payload;
  };

  return {
    async authorize(headers, scopes) {
      const value = headerValue(headers, settings.identityHeader)?.trim();
      if (!value) return refuse(`no ${settings.identityHeader} header`);
      if (validation && !validation.test(value))
        return refuse("the ValidationExpression refuses it");
      const token = /^bearer\s+/i.test(value) ? value.replace(/^bearer\s+/i, "") : value;

      let unverified: JWTPayload;
      try {
        // Read only to pick the pool whose keys must have signed it; verified just below.
        unverified = decodeJwt(token);
      } catch {
        return refuse("not a JWT");
      }
      const issuer = unverified.iss;
      const jwks = typeof issuer === "string" ? settings.jwksOf(issuer) : undefined;
      if (!issuer || !settings.issuers.includes(issuer) || !jwks) {
        return refuse("another issuer");
      }

      let payload: JWTPayload;
      try {
        payload = await verifiedPayload(token, issuer, jwks);
      } catch (error) {
        return refuse(verificationFailure(error));
      }

      if (scopes.length > 0) {
        if (payload.token_use !== "access") return refuse("an access token is needed");
        if (
          typeof payload.client_id !== "string" ||
          !settings.clientIds.includes(payload.client_id)
        ) {
          return refuse("another client");
        }
        const granted = typeof payload.scope === "string" ? payload.scope.split(" ") : [];
        if (!scopes.some((scope) => granted.includes(scope))) {
          return refuse("none of the method's scopes");
        }
      } else {
        if (payload.token_use !== "id") return refuse("an ID token is needed");
        const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
        if (!audiences.some((aud) => typeof aud === "string" && settings.clientIds.includes(aud))) {
          return refuse("another client");
        }
      }
      return { allowed: true, claims: claimsAsApiGatewayPassesThem(payload) };
    },
  };
}

const weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const twoDigits = (value: number) => String(value).padStart(2, "0");

/** Java's Date.toString() in UTC, which is how REST APIs show `exp` and `iat`. */
function javaDateString(epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000);
  if (Number.isNaN(date.getTime())) return String(epochSeconds);
  return `${weekdays[date.getUTCDay()]} ${months[date.getUTCMonth()]} ${twoDigits(date.getUTCDate())} ${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())}:${twoDigits(date.getUTCSeconds())} UTC ${date.getUTCFullYear()}`;
}

function claimText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * The claims as API Gateway REST gives them to the function: every value a string; `exp`
 * and `iat` as Java dates ("Mon Jul 20 02:28:52 UTC 2026"), other numbers and booleans as
 * their text, lists (cognito:groups) joined with commas, objects as JSON, nulls left out.
 */
export function claimsAsApiGatewayPassesThem(payload: JWTPayload): Record<string, string> {
  const claims: Record<string, string> = {};
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
