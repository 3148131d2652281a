// Tokens for tests that sign in against the local runtime: good ones from its keys file, and
// every kind a Cognito authorizer must refuse (issue #11's list), each for the same user and
// client so that only the one flaw differs.
import { createHash, randomBytes } from "node:crypto";
import { exportSPKI, importJWK, type JWK, SignJWT, UnsecuredJWT } from "jose";
import { freePort } from "../../scripts/bench/free-port.ts";
import { type IssuerKeys, openIssuerKeys } from "../../scripts/local/auth/keys.ts";
import { type Grant, mintAccessToken, mintIdToken } from "../../scripts/local/auth/tokens.ts";

export interface PreparedIssuer {
  /** The port the runtime must listen on: the issuer URL, and so every token, names it. */
  port: number;
  issuer: string;
  /** The same keys the runtime loads from the file (new tokens verify there). */
  keys: IssuerKeys;
  /** A token signed by a key that was dropped from the file before the runtime started. */
  retiredKeyToken(grant: Omit<Grant, "issuer">): Promise<string>;
}

/**
 * Makes the runtime's keys file before it starts: a first key signs tokens, then a second
 * one takes over and the first is retired, so its tokens name a kid the JWKS no longer has.
 */
export async function prepareIssuer(keysFile: string): Promise<PreparedIssuer> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}/auth`;
  const keys = await openIssuerKeys({ file: keysFile });
  const retiring = keys.current();
  await keys.rotate();
  await keys.retire(retiring.kid);
  return {
    port,
    issuer,
    keys,
    retiredKeyToken: (grant) =>
      signedBy(retiring, {
        ...accessClaims({ ...grant, issuer }),
        sub: keys.subjectOf(grant.username),
      }),
  };
}

const now = () => Math.floor(Date.now() / 1000);

function accessClaims(grant: Grant): Record<string, unknown> {
  return {
    iss: grant.issuer,
    client_id: grant.clientId,
    token_use: "access",
    scope: grant.scopes.join(" "),
    username: grant.username,
    version: 2,
    iat: now(),
    exp: now() + 3600,
  };
}

function signedBy(key: { kid: string; privateKey: CryptoKey }, claims: Record<string, unknown>) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: key.kid })
    .sign(key.privateKey);
}

/** Authorization header values the API must answer 401, by what is wrong with them. */
export async function refusedAuthorizations(
  prepared: PreparedIssuer,
  grant: Omit<Grant, "issuer">,
): Promise<Array<[string, Record<string, string>]>> {
  const { keys, issuer } = prepared;
  const full: Grant = { ...grant, issuer };
  const good = await mintAccessToken(keys, full);
  const [header, payload, signature] = good.split(".") as [string, string, string];
  const flipped = `${signature.slice(0, 10)}${signature[10] === "A" ? "B" : "A"}${signature.slice(11)}`;
  const claims = { ...accessClaims(full), sub: keys.subjectOf(grant.username) };
  const publicJwk = keys.jwks().keys[0] as JWK;
  const publicPem = await exportSPKI((await importJWK(publicJwk, "RS256")) as CryptoKey);
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  return [
    ["no token", {}],
    ["an empty Bearer", { Authorization: "Bearer " }],
    ["a malformed token", bearer("not-a.jwt")],
    ["a bad signature", bearer(`${header}.${payload}.${flipped}`)],
    ["alg none", bearer(new UnsecuredJWT(claims).encode())],
    [
      "HS256 keyed with the public key",
      bearer(
        await new SignJWT(claims)
          .setProtectedHeader({ alg: "HS256", kid: publicJwk.kid })
          .sign(new TextEncoder().encode(publicPem)),
      ),
    ],
    ["an expired token", bearer(await mintAccessToken(keys, full, { now: now() - 3700 }))],
    [
      "a token not valid yet",
      bearer(await mintAccessToken(keys, full, { notBefore: now() + 600 })),
    ],
    [
      "another issuer's token",
      bearer(await mintAccessToken(keys, { ...full, issuer: "http://127.0.0.1:9/auth" })),
    ],
    [
      "another client's token",
      bearer(await mintAccessToken(keys, { ...full, clientId: "someotherclient00000000000" })),
    ],
    ["an ID token", bearer(await mintIdToken(keys, full))],
    ["a retired key's token", bearer(await prepared.retiredKeyToken(grant))],
    [
      "a token without the API's scopes",
      bearer(await mintAccessToken(keys, { ...full, scopes: ["openid", "email"] })),
    ],
  ];
}

/** Signs in the way scripts do: POST {origin}/auth/dev/token. Returns the access token. */
export async function devToken(
  origin: string,
  username: string,
  options: { scopes?: string[]; idToken?: boolean } = {},
): Promise<string> {
  const response = await fetch(`${origin}/auth/dev/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, scopes: options.scopes }),
  });
  const body = (await response.json()) as Record<string, string>;
  if (response.status !== 200) {
    throw new Error(`/auth/dev/token answered ${response.status}: ${JSON.stringify(body)}`);
  }
  return (options.idToken ? body.id_token : body.access_token) as string;
}

/**
 * Signs in the way a browser app does, over HTTP: /oauth2/authorize with PKCE (S256), the
 * sign-in page's form, the code back at redirectUri, then the token endpoint. Returns the
 * token endpoint's answer (access_token, id_token with openid, refresh_token).
 */
export async function signInWithPkce(
  origin: string,
  request: { clientId: string; redirectUri: string; username: string; scopes?: string[] },
): Promise<Record<string, string>> {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const state = randomBytes(8).toString("hex");
  const authorize = new URL(`${origin}/auth/oauth2/authorize`);
  for (const [name, value] of Object.entries({
    response_type: "code",
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state,
    ...(request.scopes ? { scope: request.scopes.join(" ") } : {}),
  })) {
    authorize.searchParams.set(name, value);
  }
  const toLogin = await fetch(authorize, { redirect: "manual" });
  const loginUrl = toLogin.headers.get("location");
  if (toLogin.status !== 302 || !loginUrl) {
    throw new Error(`/oauth2/authorize answered ${toLogin.status}: ${await toLogin.text()}`);
  }
  const page = await (await fetch(new URL(loginUrl, origin))).text();
  const signInId = /name="sign_in" value="([^"]+)"/.exec(page)?.[1];
  if (!signInId) throw new Error("the sign-in page has no sign_in field");
  const submitted = await fetch(`${origin}/auth/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      sign_in: signInId,
      username: request.username,
      password: "any password",
    }),
  });
  const back = new URL(submitted.headers.get("location") ?? "", origin);
  const code = back.searchParams.get("code");
  if (submitted.status !== 302 || !code || back.searchParams.get("state") !== state) {
    throw new Error(`the sign-in form answered ${submitted.status}, back to ${back.href}`);
  }
  const exchanged = await fetch(`${origin}/auth/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: request.clientId,
      code,
      redirect_uri: request.redirectUri,
      code_verifier: verifier,
    }),
  });
  const tokens = (await exchanged.json()) as Record<string, string>;
  if (exchanged.status !== 200) {
    throw new Error(`/oauth2/token answered ${exchanged.status}: ${JSON.stringify(tokens)}`);
  }
  return tokens;
}
