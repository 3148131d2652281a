// Signed-in test users for the in-process tests: a real RS256 access token per user, signed
// and verified with jose, shaped like Amazon Cognito's (and the local issuer's,
// scripts/local/auth/tokens.ts), and its claims as API Gateway REST's Cognito authorizer hands
// them to the function: requestContext.authorizer.claims, every value a string.
import { createHash, randomUUID } from "node:crypto";
import { generateKeyPair, jwtVerify, SignJWT } from "jose";
// The mapping API Gateway applies; scripts/local/auth/authorizer.ts (the runtime's emulation)
// has the same one, and test/unit/sam-local-sign-in.test.ts pins its shapes.
import { claimsAsApiGatewayPassesThem } from "../../src/http/sam-local-sign-in.ts";
import type { TokenClaims } from "../../src/http/sign-in.ts";

export type { TokenClaims };

export const testIssuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1";
export const testClientId = "testclient0000000000000000";
export const allScopes = ["todos/read", "todos/write"];

const { privateKey, publicKey } = await generateKeyPair("RS256");
const kid = "test-key";

/** A stable UUID per username (as the local issuer derives `sub`), so data stays a user's. */
export function subjectOf(username: string): string {
  const hex = createHash("sha256").update(`test-user:${username}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface TokenOptions {
  scopes?: string[];
  /** "id" makes an ID token (aud, email, no scope): the API must refuse its claims. */
  tokenUse?: "access" | "id";
  lifetimeSeconds?: number;
  issuer?: string;
  clientId?: string;
}

/** A signed token for the user, as Cognito (or the local issuer) would give it. */
export function tokenFor(username: string, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const clientId = options.clientId ?? testClientId;
  const claims =
    options.tokenUse === "id"
      ? {
          aud: clientId,
          token_use: "id",
          email: `${username}@example.com`,
          email_verified: true,
          "cognito:username": username,
        }
      : {
          client_id: clientId,
          token_use: "access",
          scope: (options.scopes ?? allScopes).join(" "),
          username,
          version: 2,
        };
  return new SignJWT({ origin_jti: randomUUID(), auth_time: now, ...claims })
    .setProtectedHeader({ alg: "RS256", kid })
    .setIssuer(options.issuer ?? testIssuer)
    .setSubject(subjectOf(username))
    .setIssuedAt(now)
    .setExpirationTime(now + (options.lifetimeSeconds ?? 3600))
    .setJti(randomUUID())
    .sign(privateKey);
}

/** What the authorizer hands the function for this token, once it has verified it. */
export async function claimsOf(token: string): Promise<TokenClaims> {
  const { payload } = await jwtVerify(token, publicKey, {
    issuer: testIssuer,
    algorithms: ["RS256"],
  });
  return claimsAsApiGatewayPassesThem(payload);
}

export interface TestUser {
  username: string;
  sub: string;
  token: string;
  claims: TokenClaims;
}

export async function testUser(username: string, options: TokenOptions = {}): Promise<TestUser> {
  const token = await tokenFor(username, options);
  return { username, sub: subjectOf(username), token, claims: await claimsOf(token) };
}

/** Whom every in-process request is signed in as, unless the test says otherwise. */
export const defaultTestUser = await testUser("test-user");
