// The local issuer over real HTTP on loopback, mounted under /auth of a plain node:http
// server, driven the way a browser and a public client (PKCE) would drive Cognito.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCognitoAuthorizer } from "../../scripts/local/auth/authorizer.ts";
import { createLocalIssuer, type LocalIssuer } from "../../scripts/local/auth/issuer.ts";
import { openIssuerKeys } from "../../scripts/local/auth/keys.ts";

const clientId = "localclient0000000000000001";
const callback = "http://127.0.0.1:9/callback";
const clients = [
  {
    clientId,
    callbackUrls: [callback],
    logoutUrls: ["http://127.0.0.1:9/signed-out"],
    allowedScopes: ["openid", "email", "todos/read", "todos/write"],
  },
];

interface Running {
  origin: string;
  issuer: LocalIssuer;
  close(): Promise<void>;
}

async function startIssuer(
  options: { keysFile?: string; port?: number; clients?: typeof clients } = {},
): Promise<Running> {
  const keys = await openIssuerKeys({ file: options.keysFile });
  let origin = "";
  const issuer = createLocalIssuer({
    keys,
    issuer: () => `${origin}/auth`,
    clients: options.clients ?? clients,
  });
  const server: Server = createServer(async (request, response) => {
    if (await issuer.handle(request, response)) return;
    response.writeHead(418).end("not the issuer's");
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    issuer,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const pkcePair = () => {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
};

function authorizeUrl(origin: string, query: Record<string, string>): string {
  const url = new URL(`${origin}/auth/oauth2/authorize`);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return url.href;
}

/** Follows /oauth2/authorize to the sign-in page and submits it; returns the redirect. */
async function signIn(
  origin: string,
  query: Record<string, string>,
  username = "alice",
): Promise<URL> {
  const authorize = await fetch(authorizeUrl(origin, query), { redirect: "manual" });
  expect(authorize.status).toBe(302);
  const loginUrl = new URL(authorize.headers.get("location") as string);
  expect(loginUrl.pathname).toBe("/auth/login");
  const page = await fetch(loginUrl);
  expect(page.status).toBe(200);
  const html = await page.text();
  const signInId = /name="sign_in" value="([^"]+)"/.exec(html)?.[1] as string;
  expect(signInId).toBeTruthy();
  const submitted = await fetch(`${origin}/auth/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ sign_in: signInId, username, password: "any password" }),
  });
  expect(submitted.status).toBe(302);
  return new URL(submitted.headers.get("location") as string);
}

/** Signs alice in at `origin` for `redirectUri`; returns the code and its PKCE verifier. */
async function codeFor(origin: string, redirectUri = callback) {
  const { verifier, challenge } = pkcePair();
  const redirect = await signIn(origin, {
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  return { code: redirect.searchParams.get("code") as string, verifier };
}

/** The token request that exchanges a code. */
const exchangeOf = (code: string, verifier: string, redirectUri = callback) => ({
  grant_type: "authorization_code",
  client_id: clientId,
  code,
  redirect_uri: redirectUri,
  code_verifier: verifier,
});

async function token(origin: string, parameters: Record<string, string>) {
  const response = await fetch(`${origin}/auth/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(parameters),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

describe("the local issuer over HTTP", () => {
  let running: Running;
  beforeAll(async () => {
    running = await startIssuer();
  });
  afterAll(() => running.close());

  it("publishes OIDC discovery and its JWKS under the issuer URL, and nothing outside it", async () => {
    const { origin } = running;
    const discovery = await (await fetch(`${origin}/auth/.well-known/openid-configuration`)).json();
    expect(discovery).toMatchObject({
      issuer: `${origin}/auth`,
      authorization_endpoint: `${origin}/auth/oauth2/authorize`,
      token_endpoint: `${origin}/auth/oauth2/token`,
      jwks_uri: `${origin}/auth/.well-known/jwks.json`,
      code_challenge_methods_supported: ["S256"],
      grant_types_supported: ["authorization_code", "refresh_token"],
    });
    expect(discovery.scopes_supported).toEqual(
      expect.arrayContaining(["todos/read", "todos/write"]),
    );
    const jwks = (await (await fetch(discovery.jwks_uri)).json()) as JSONWebKeySet;
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" });
    expect(jwks.keys[0]).not.toHaveProperty("d");
    expect((await fetch(`${origin}/other`)).status).toBe(418);
    expect((await fetch(`${origin}/authority`)).status).toBe(418);
    expect((await fetch(`${origin}/auth/nothing-here`)).status).toBe(404);
  });

  it("signs in with authorization code + PKCE: state echoed, tokens the authorizer takes, refresh works", async () => {
    const { origin } = running;
    const { verifier, challenge } = pkcePair();
    const redirect = await signIn(origin, {
      response_type: "code",
      client_id: clientId,
      redirect_uri: callback,
      scope: "openid todos/read",
      state: "xyz 123",
      nonce: "n-0S6_WzA2Mj",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    expect(`${redirect.origin}${redirect.pathname}`).toBe(callback);
    expect(redirect.searchParams.get("state")).toBe("xyz 123");
    const code = redirect.searchParams.get("code") as string;

    const exchanged = await token(origin, {
      grant_type: "authorization_code",
      client_id: clientId,
      code,
      redirect_uri: callback,
      code_verifier: verifier,
    });
    expect(exchanged.status).toBe(200);
    expect(exchanged.headers.get("cache-control")).toBe("no-store");
    expect(exchanged.body).toMatchObject({ token_type: "Bearer", expires_in: 3600 });
    const access = decodeJwt(exchanged.body.access_token);
    expect(access).toMatchObject({
      iss: `${origin}/auth`,
      token_use: "access",
      client_id: clientId,
      scope: "openid todos/read",
      username: "alice",
    });
    expect((access.exp as number) - (access.iat as number)).toBe(3600);
    expect(decodeJwt(exchanged.body.id_token)).toMatchObject({ nonce: "n-0S6_WzA2Mj" });
    expect(decodeJwt(exchanged.body.id_token)).toMatchObject({
      token_use: "id",
      aud: clientId,
      sub: access.sub,
    });
    // Opaque to the client: five JWE parts, nothing readable.
    expect(exchanged.body.refresh_token.split(".")).toHaveLength(5);
    expect(() => decodeJwt(exchanged.body.refresh_token)).toThrow();

    const jwks = (await (
      await fetch(`${origin}/auth/.well-known/jwks.json`)
    ).json()) as JSONWebKeySet;
    const authorizer = createCognitoAuthorizer({
      identityHeader: "Authorization",
      issuers: [`${origin}/auth`],
      clientIds: [clientId],
      jwksOf: () => jwks,
    });
    const checked = await authorizer.authorize(
      { authorization: `Bearer ${exchanged.body.access_token}` },
      ["todos/read", "todos/write"],
    );
    expect(checked).toMatchObject({
      allowed: true,
      claims: { username: "alice", sub: access.sub },
    });

    const refreshed = await token(origin, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: exchanged.body.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).toBeUndefined();
    expect(decodeJwt(refreshed.body.id_token)).toMatchObject({ token_use: "id", sub: access.sub });
    const renewed = decodeJwt(refreshed.body.access_token);
    expect(renewed).toMatchObject({
      sub: access.sub,
      scope: "openid todos/read",
      auth_time: access.auth_time,
    });
    expect(renewed.jti).not.toBe(access.jti);

    const wrongClient = await token(origin, {
      grant_type: "refresh_token",
      client_id: "someotherclient00000000000",
      refresh_token: exchanged.body.refresh_token,
    });
    expect(wrongClient).toMatchObject({ status: 400, body: { error: "invalid_client" } });
    const junk = await token(origin, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: "junk",
    });
    expect(junk).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
  });

  it("gives an ID token only when openid was asked for, as Cognito does", async () => {
    const { origin } = running;
    const { verifier, challenge } = pkcePair();
    const redirect = await signIn(origin, {
      response_type: "code",
      client_id: clientId,
      redirect_uri: callback,
      scope: "todos/read",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const exchanged = await token(
      origin,
      exchangeOf(redirect.searchParams.get("code") as string, verifier),
    );
    expect(exchanged.status).toBe(200);
    expect(exchanged.body.id_token).toBeUndefined();
    expect(decodeJwt(exchanged.body.access_token).scope).toBe("todos/read");
  });

  it("refuses a wrong code_verifier, and the code is spent by the attempt", async () => {
    const { origin } = running;
    const { code, verifier } = await codeFor(origin);
    const wrong = await token(origin, exchangeOf(code, pkcePair().verifier));
    expect(wrong).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect(wrong.body.error_description).toMatch(/code_verifier/);
    const retried = await token(origin, exchangeOf(code, verifier));
    expect(retried).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
  });

  it("refuses a code used twice", async () => {
    const { origin } = running;
    const { code, verifier } = await codeFor(origin);
    const exchange = exchangeOf(code, verifier);
    expect((await token(origin, exchange)).status).toBe(200);
    const again = await token(origin, exchange);
    expect(again).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect(again.body.error_description).toMatch(/already used/);
  });

  it("refuses a redirect_uri that is not the client's, without redirecting there", async () => {
    const { origin } = running;
    const { challenge } = pkcePair();
    for (const redirectUri of [
      "http://127.0.0.1:9/elsewhere",
      "http://127.0.0.1:9/callback/",
      "https://evil.example/callback",
    ]) {
      const response = await fetch(
        authorizeUrl(origin, {
          response_type: "code",
          client_id: clientId,
          redirect_uri: redirectUri,
          code_challenge: challenge,
          code_challenge_method: "S256",
        }),
        { redirect: "manual" },
      );
      expect(response.status).toBe(400);
      expect(response.headers.get("location")).toBeNull();
      expect(await response.text()).toMatch(/callback URLs/);
    }
    const unknownClient = await fetch(
      authorizeUrl(origin, { response_type: "code", client_id: "nobody", redirect_uri: callback }),
      { redirect: "manual" },
    );
    expect(unknownClient.status).toBe(400);
    expect(unknownClient.headers.get("location")).toBeNull();
  });

  it("refuses a token request whose redirect_uri differs from the authorization's", async () => {
    const localhostCallback = "http://localhost:9/callback";
    const twoCallbacks = await startIssuer({
      clients: clients.map((client) => ({
        ...client,
        callbackUrls: [callback, localhostCallback],
      })),
    });
    try {
      const { code, verifier } = await codeFor(twoCallbacks.origin);
      const response = await token(
        twoCallbacks.origin,
        exchangeOf(code, verifier, localhostCallback),
      );
      expect(response).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
      expect(response.body.error_description).toMatch(/redirect_uri/);
    } finally {
      await twoCallbacks.close();
    }
  });

  it("requires PKCE (S256) of the public client, and tells the client so at its callback", async () => {
    const { origin } = running;
    const withoutS256: Record<string, string>[] = [
      {},
      { code_challenge: pkcePair().challenge, code_challenge_method: "plain" },
    ];
    for (const pkce of withoutS256) {
      const response = await fetch(
        authorizeUrl(origin, {
          response_type: "code",
          client_id: clientId,
          redirect_uri: callback,
          state: "s1",
          ...pkce,
        }),
        { redirect: "manual" },
      );
      expect(response.status).toBe(302);
      const location = new URL(response.headers.get("location") as string);
      expect(`${location.origin}${location.pathname}`).toBe(callback);
      expect(location.searchParams.get("error")).toBe("invalid_request");
      expect(location.searchParams.get("state")).toBe("s1");
      expect(location.searchParams.get("code")).toBeNull();
    }
    const scope = await fetch(
      authorizeUrl(origin, {
        response_type: "code",
        client_id: clientId,
        redirect_uri: callback,
        scope: "todos/admin",
        code_challenge: pkcePair().challenge,
        code_challenge_method: "S256",
      }),
      { redirect: "manual" },
    );
    expect(new URL(scope.headers.get("location") as string).searchParams.get("error")).toBe(
      "invalid_scope",
    );
  });

  it("serves a sign-in page with no script, a strict CSP and no external assets", async () => {
    const { origin } = running;
    const response = await fetch(
      `${origin}/auth/login?${new URLSearchParams({
        response_type: "code",
        client_id: clientId,
        redirect_uri: callback,
        code_challenge: pkcePair().challenge,
        code_challenge_method: "S256",
      })}`,
    );
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self' http://127.0.0.1:9");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    const html = await response.text();
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).toContain('action="/auth/login"');
    const css = await fetch(`${origin}/auth/assets/sign-in.css`);
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
  });

  it("refuses a sign-in form used twice or without a username", async () => {
    const { origin } = running;
    const page = await (
      await fetch(
        `${origin}/auth/login?${new URLSearchParams({
          response_type: "code",
          client_id: clientId,
          redirect_uri: callback,
          code_challenge: pkcePair().challenge,
          code_challenge_method: "S256",
        })}`,
      )
    ).text();
    const signInId = /name="sign_in" value="([^"]+)"/.exec(page)?.[1] as string;
    const post = (fields: Record<string, string>) =>
      fetch(`${origin}/auth/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields),
      });
    const blank = await post({ sign_in: signInId, username: "has space", password: "x" });
    expect(blank.status).toBe(400);
    expect(await blank.text()).toMatch(/Enter a username/);
    const reused = await post({ sign_in: signInId, username: "alice", password: "x" });
    expect(reused.status).toBe(400);
    expect(reused.headers.get("location")).toBeNull();
  });

  it("answers token-endpoint mistakes with RFC 6749 errors, never a 5xx", async () => {
    const { origin } = running;
    expect(await token(origin, { client_id: clientId })).toMatchObject({
      status: 400,
      body: { error: "invalid_request" },
    });
    expect(await token(origin, { grant_type: "password", client_id: clientId })).toMatchObject({
      status: 400,
      body: { error: "unsupported_grant_type" },
    });
    expect(
      await token(origin, { grant_type: "authorization_code", client_id: "nobody" }),
    ).toMatchObject({
      status: 400,
      body: { error: "invalid_client" },
    });
    const asJson = await fetch(`${origin}/auth/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    expect(asJson.status).toBe(400);
    expect((await asJson.json()).error).toBe("invalid_request");
    const huge = await fetch(`${origin}/auth/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `grant_type=${"a".repeat(100_000)}`,
    });
    expect(huge.status).toBe(413);
    expect((await fetch(`${origin}/auth/oauth2/token`)).status).toBe(405);
  });

  it("gives scripts tokens through the documented shortcut", async () => {
    const { origin } = running;
    const response = await fetch(`${origin}/auth/dev/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: "bob", scopes: ["todos/read"] }),
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(decodeJwt(body.access_token)).toMatchObject({
      iss: `${origin}/auth`,
      username: "bob",
      scope: "todos/read",
      token_use: "access",
      client_id: clientId,
    });
    const everything = await (
      await fetch(`${origin}/auth/dev/token`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: "bob" }),
      })
    ).json();
    expect(decodeJwt(everything.access_token).scope).toBe("openid email todos/read todos/write");
    for (const [body, error] of [
      [{ username: "" }, "invalid_request"],
      [{ username: "bob", scopes: ["todos/admin"] }, "invalid_scope"],
      [{ username: "bob", clientId: "nobody" }, "invalid_client"],
      [[], "invalid_request"],
    ] as const) {
      const refused = await fetch(`${origin}/auth/dev/token`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(refused.status).toBe(400);
      expect((await refused.json()).error).toBe(error);
    }
  });

  it("signs out to a logout URL of the client only", async () => {
    const { origin } = running;
    const ok = await fetch(
      `${origin}/auth/logout?client_id=${clientId}&logout_uri=${encodeURIComponent("http://127.0.0.1:9/signed-out")}`,
      { redirect: "manual" },
    );
    expect(ok.status).toBe(302);
    expect(ok.headers.get("location")).toBe("http://127.0.0.1:9/signed-out");
    const elsewhere = await fetch(
      `${origin}/auth/logout?client_id=${clientId}&logout_uri=${encodeURIComponent("https://evil.example/")}`,
      { redirect: "manual" },
    );
    expect(elsewhere.status).toBe(400);
  });
});

describe("the local issuer across a restart", () => {
  it("keeps its keys on the same folder: tokens of the first run verify against the second's JWKS", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "issuer-restart-"));
    try {
      const keysFile = join(dataDir, "issuer", "keys.json");
      const first = await startIssuer({ keysFile });
      const issued = await first.issuer.tokensFor({ username: "alice" });
      const firstJwks = await (await fetch(`${first.origin}/auth/.well-known/jwks.json`)).json();
      await first.close();

      // Same folder, same port: the same issuer URL, as npm start on its default port.
      const second = await startIssuer({ keysFile, port: Number(new URL(first.origin).port) });
      try {
        expect(second.origin).toBe(first.origin);
        const secondJwks = (await (
          await fetch(`${second.origin}/auth/.well-known/jwks.json`)
        ).json()) as JSONWebKeySet;
        expect(secondJwks).toEqual(firstJwks);
        const authorizer = createCognitoAuthorizer({
          identityHeader: "Authorization",
          issuers: [`${second.origin}/auth`],
          clientIds: [clientId],
          jwksOf: () => secondJwks,
        });
        const outcome = await authorizer.authorize(
          { authorization: `Bearer ${issued.access_token}` },
          ["todos/read"],
        );
        expect(outcome.allowed).toBe(true);
        const refreshed = await token(second.origin, {
          grant_type: "refresh_token",
          client_id: clientId,
          refresh_token: issued.refresh_token as string,
        });
        expect(refreshed.status).toBe(200);
        expect(decodeJwt(refreshed.body.access_token).sub).toBe(decodeJwt(issued.access_token).sub);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
