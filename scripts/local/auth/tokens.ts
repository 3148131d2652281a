// The tokens of the local issuer, shaped like Amazon Cognito's: access tokens (what an API
// takes), ID tokens (who signed in, for the client only) and refresh tokens (opaque to the
// client: sealed with A256GCM, like Cognito's encrypted ones, so they survive a restart
// without a token table). jose signs, seals and opens all of them.
import { randomUUID } from "node:crypto";
import { EncryptJWT, jwtDecrypt, SignJWT } from "jose";
import { type IssuerKeys, signingAlgorithm } from "./keys.ts";

export const accessTokenSeconds = 60 * 60;
export const idTokenSeconds = 60 * 60;
export const refreshTokenSeconds = 30 * 24 * 60 * 60;

/** Cognito's own rule for usernames: 1–128 letters, marks, symbols, digits, punctuation. */
const usernamePattern = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u;

export function isValidUsername(username: unknown): username is string {
  return typeof username === "string" && usernamePattern.test(username);
}

/** Who a token is about and for which client, with what it may do. */
export interface Grant {
  /** The issuer URL: every token's `iss`. */
  issuer: string;
  clientId: string;
  username: string;
  scopes: string[];
  /** When the user signed in (seconds); refreshes keep it. Defaults to now. */
  authTime?: number;
  /** Ties the tokens of one sign-in together, as Cognito's `origin_jti` does. */
  originJti?: string;
}

/** Only tests and the token script ask for other times, to make expired or early tokens. */
export interface MintOptions {
  /** Seconds since the epoch to count from (default now). */
  now?: number;
  lifetimeSeconds?: number;
  notBefore?: number;
  /** ID tokens: the authorization request's nonce. */
  nonce?: string;
}

const seconds = (now?: number) => now ?? Math.floor(Date.now() / 1000);

/** The address a local user's ID token names: theirs if the username is one. */
export function emailOf(username: string): string {
  return username.includes("@") ? username : `${username}@example.com`;
}

/** Signs claims about the grant's user with the current key, Cognito's registered claims added. */
async function signed(
  keys: IssuerKeys,
  grant: Grant,
  options: MintOptions,
  lifetimeSeconds: number,
  claims: Record<string, unknown>,
): Promise<string> {
  const now = seconds(options.now);
  const { kid, privateKey } = keys.current();
  const jwt = new SignJWT({
    origin_jti: grant.originJti ?? randomUUID(),
    auth_time: grant.authTime ?? now,
    ...claims,
  })
    .setProtectedHeader({ alg: signingAlgorithm, kid })
    .setIssuer(grant.issuer)
    .setSubject(keys.subjectOf(grant.username))
    .setIssuedAt(now)
    .setExpirationTime(now + (options.lifetimeSeconds ?? lifetimeSeconds))
    .setJti(randomUUID());
  if (options.notBefore !== undefined) jwt.setNotBefore(options.notBefore);
  return jwt.sign(privateKey);
}

export function mintAccessToken(
  keys: IssuerKeys,
  grant: Grant,
  options: MintOptions = {},
): Promise<string> {
  return signed(keys, grant, options, accessTokenSeconds, {
    version: 2,
    client_id: grant.clientId,
    token_use: "access",
    scope: [...new Set(grant.scopes)].join(" "),
    username: grant.username,
  });
}

export function mintIdToken(
  keys: IssuerKeys,
  grant: Grant,
  options: MintOptions = {},
): Promise<string> {
  return signed(keys, grant, options, idTokenSeconds, {
    aud: grant.clientId,
    email_verified: true,
    "cognito:username": grant.username,
    token_use: "id",
    email: emailOf(grant.username),
    ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
  });
}

export async function sealRefreshToken(
  keys: IssuerKeys,
  grant: Grant,
  options: MintOptions = {},
): Promise<string> {
  const now = seconds(options.now);
  return new EncryptJWT({
    client_id: grant.clientId,
    username: grant.username,
    scope: [...new Set(grant.scopes)].join(" "),
    auth_time: grant.authTime ?? now,
    origin_jti: grant.originJti ?? randomUUID(),
  })
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", cty: "JWT" })
    .setIssuer(grant.issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.lifetimeSeconds ?? refreshTokenSeconds))
    .setJti(randomUUID())
    .encrypt(keys.sealingKey());
}

/** The grant a refresh token carries, or undefined when it is not one of ours, or expired. */
export async function openRefreshToken(
  keys: IssuerKeys,
  token: string,
  issuer: string,
): Promise<Grant | undefined> {
  try {
    const { payload } = await jwtDecrypt(token, keys.sealingKey(), {
      issuer,
      keyManagementAlgorithms: ["dir"],
      contentEncryptionAlgorithms: ["A256GCM"],
    });
    const { client_id, username, scope, auth_time, origin_jti } = payload;
    if (
      typeof client_id !== "string" ||
      !isValidUsername(username) ||
      typeof scope !== "string" ||
      typeof auth_time !== "number"
    ) {
      return undefined;
    }
    return {
      issuer,
      clientId: client_id,
      username,
      scopes: scope.split(" ").filter(Boolean),
      authTime: auth_time,
      originJti: typeof origin_jti === "string" ? origin_jti : undefined,
    };
  } catch {
    return undefined;
  }
}
