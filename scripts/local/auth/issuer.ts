// A local sign-in issuer shaped like an Amazon Cognito user pool with its hosted sign-in
// (managed login), as one node:http request handler mounted under the issuer URL's path:
//
//   GET  {issuer}/.well-known/openid-configuration   OIDC discovery
//   GET  {issuer}/.well-known/jwks.json              the signing keys (all kept ones)
//   GET  {issuer}/oauth2/authorize                   authorization code + PKCE (S256, required)
//   GET  {issuer}/login, POST {issuer}/login         the sign-in page and its form
//   POST {issuer}/oauth2/token                       authorization_code, refresh_token
//   GET  {issuer}/logout                             back to one of the client's logout URLs
//   POST {issuer}/dev/token                          scripts' shortcut: {"username", "scopes"?}
//
// Local users: any username Cognito would take (1–128 letters, digits, symbols,
// punctuation) signs in with any non-empty password; the same username always gets the
// same `sub` for as long as the issuer's keys are kept. It is a development login: it
// exists only inside the local runtime, never in anything deployed.

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { BodyTooLargeError, readRequestBody } from "../request-body.ts";
import type { IssuerKeys } from "./keys.ts";
import {
  accessTokenSeconds,
  type Grant,
  isValidUsername,
  mintAccessToken,
  mintIdToken,
  openRefreshToken,
  sealRefreshToken,
} from "./tokens.ts";

/** An app client of the pool (AWS::Cognito::UserPoolClient), as the issuer needs it. */
export interface IssuerClient {
  clientId: string;
  callbackUrls: string[];
  logoutUrls: string[];
  /** AllowedOAuthScopes: what the client may ask for. */
  allowedScopes: string[];
}

export interface LocalIssuerOptions {
  keys: IssuerKeys;
  /**
   * The issuer URL (every token's `iss`), e.g. http://127.0.0.1:3000/auth: its path is where
   * the handler answers. A function when the port is known only once the server listens.
   */
  issuer: string | (() => string);
  clients: IssuerClient[];
  /** Answer POST {issuer}/dev/token (default true). */
  devTokens?: boolean;
  /** What a sign-in page says the pool is called. */
  poolName?: string;
  /**
   * Redirect URIs every client may use beside its CallbackURLs: the runtime's own pages
   * (Swagger UI's OAuth callback on the origin it serves), whose port the template cannot know.
   */
  extraCallbackUrls?: () => string[];
}

export interface LocalIssuer {
  /** Answers the request if it is under the issuer's path; false (nothing written) if not. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
  issuer(): string;
  /** The scripts' shortcut, in process: tokens for a username without the sign-in page. */
  tokensFor(request: DevTokenRequest): Promise<TokenResponse>;
}

export interface DevTokenRequest {
  username: string;
  /** Default: every scope the client may ask for. */
  scopes?: string[];
  /** Default: the first app client. */
  clientId?: string;
}

export interface TokenResponse {
  access_token: string;
  /** As from Cognito: only when `openid` was granted (the shortcut always gives one). */
  id_token?: string;
  refresh_token?: string;
  token_type: "Bearer";
  expires_in: number;
}

interface TokenOptions {
  withRefresh: boolean;
  withIdToken?: boolean;
  /** The authorization request's nonce, which the ID token must carry (OIDC Core §3.1.3.6). */
  nonce?: string;
}

/** An RFC 6749 §5.2 error, answered as JSON by the token endpoints. */
class OAuthError extends Error {
  readonly error: string;
  readonly status: number;
  constructor(error: string, description: string, status = 400) {
    super(description);
    this.error = error;
    this.status = status;
  }
}

const authorizationCodeSeconds = 5 * 60;
const signInPageSeconds = 10 * 60;
/** Bounds what unfinished sign-ins and unused codes can hold. */
const maxPending = 10_000;
const maxFormBytes = 64 * 1024;
/** Cognito's built-in scopes, which any client may be allowed. */
const builtInScopes = ["openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"];

interface AuthorizationRequest {
  client: IssuerClient;
  redirectUri: string;
  state: string | undefined;
  codeChallenge: string;
  scopes: string[];
  nonce: string | undefined;
}

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

class ExpiringMap<T> {
  readonly #entries = new Map<string, Expiring<T>>();
  readonly #seconds: number;
  constructor(seconds: number) {
    this.#seconds = seconds;
  }
  add(value: T): string {
    const now = Date.now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now || this.#entries.size >= maxPending) this.#entries.delete(key);
      else break; // insertion order is expiry order
    }
    const key = randomBytes(32).toString("base64url");
    this.#entries.set(key, { value, expiresAt: now + this.#seconds * 1000 });
    return key;
  }
  /** Takes the entry out: each one is good for one use. */
  take(key: string): T | undefined {
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    return entry && entry.expiresAt > Date.now() ? entry.value : undefined;
  }
}

const codeVerifierPattern = /^[A-Za-z0-9\-._~]{43,128}$/;
const codeChallengePattern = /^[A-Za-z0-9\-_]{43}$/;

function pkceMatches(verifier: string, challenge: string): boolean {
  if (!codeVerifierPattern.test(verifier)) return false;
  const computed = Buffer.from(createHash("sha256").update(verifier).digest("base64url"));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (character) =>
      ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[
        character
      ] as string,
  );
}

const stylesheet = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;width:20rem}
h1{font-size:1.25rem;margin:0 0 .25rem}p{color:#555;font-size:.875rem;margin:.25rem 0 1rem}
label{display:block;font-size:.875rem;margin:.75rem 0 .25rem}input{box-sizing:border-box;width:100%;padding:.5rem;font-size:1rem}
button{margin-top:1.25rem;width:100%;padding:.6rem;font-size:1rem;background:#1f6feb;color:#fff;border:0;border-radius:4px;cursor:pointer}
.error{color:#b00020}`;

function pageHeaders(formTargets: string[] = []): Record<string, string> {
  return {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    // No script at all; the one stylesheet is ours. form-action also governs the redirect
    // that follows the form, so it names the client's callback origin.
    "Content-Security-Policy": `default-src 'none'; style-src 'self'; form-action 'self' ${formTargets.join(" ")}; frame-ancestors 'none'; base-uri 'none'`,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
  };
}

function send(
  response: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string,
): void {
  const bytes = Buffer.from(body);
  response.writeHead(status, { ...headers, "Content-Length": String(bytes.length) });
  response.end(bytes);
}

const openCors = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
  "Access-Control-Allow-Headers": "Authorization, Content-Type",
  "Access-Control-Max-Age": "600",
};

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(
    response,
    status,
    {
      "Content-Type": "application/json; charset=utf-8",
      "Cache-Control": "no-store",
      Pragma: "no-cache",
      "X-Content-Type-Options": "nosniff",
      ...openCors,
    },
    JSON.stringify(value),
  );
}

function sendOAuthError(response: ServerResponse, error: OAuthError): void {
  sendJson(response, error.status, { error: error.error, error_description: error.message });
}

async function readBody(request: IncomingMessage): Promise<string> {
  try {
    return (await readRequestBody(request, maxFormBytes)).toString("utf8");
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new OAuthError("invalid_request", "the request body is too large", 413);
    }
    throw error;
  }
}

function mediaType(request: IncomingMessage): string {
  return (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  if (mediaType(request) !== "application/x-www-form-urlencoded") {
    throw new OAuthError(
      "invalid_request",
      "send the parameters as application/x-www-form-urlencoded",
    );
  }
  return new URLSearchParams(await readBody(request));
}

/** A parameter given once, or undefined; twice is an error (RFC 6749 §3.1). */
function single(parameters: URLSearchParams, name: string): string | undefined {
  const values = parameters.getAll(name);
  if (values.length > 1) throw new OAuthError("invalid_request", `${name} is given more than once`);
  return values[0] === "" ? undefined : values[0];
}

function required(parameters: URLSearchParams, name: string): string {
  const value = single(parameters, name);
  if (value === undefined) throw new OAuthError("invalid_request", `${name} is required`);
  return value;
}

/** A problem that must not be sent to a redirect_uri that is not known to be the client's. */
class PageError extends Error {}

/** A problem of a request whose redirect_uri is the client's: told there (RFC 6749 §4.1.2.1). */
class AuthorizationRedirect extends Error {
  readonly location: string;
  constructor(location: string, description: string) {
    super(description);
    this.location = location;
  }
}

export function createLocalIssuer(options: LocalIssuerOptions): LocalIssuer {
  const { keys, clients } = options;
  if (clients.length === 0) throw new Error("the local issuer needs at least one app client");
  const issuerUrl = () =>
    (typeof options.issuer === "function" ? options.issuer() : options.issuer).replace(/\/+$/, "");
  const basePath = () => new URL(issuerUrl()).pathname.replace(/\/+$/, "");
  const signIns = new ExpiringMap<AuthorizationRequest>(signInPageSeconds);
  const codes = new ExpiringMap<AuthorizationRequest & { grant: Grant }>(authorizationCodeSeconds);
  const devTokens = options.devTokens ?? true;
  const poolName = options.poolName ?? "the local user pool";

  const clientOf = (clientId: string | undefined) =>
    clients.find((client) => client.clientId === clientId);

  const tokenResponse = async (
    grant: Grant,
    { withRefresh, withIdToken = grant.scopes.includes("openid"), nonce }: TokenOptions,
  ): Promise<TokenResponse> => ({
    access_token: await mintAccessToken(keys, grant),
    ...(withIdToken ? { id_token: await mintIdToken(keys, grant, { nonce }) } : {}),
    ...(withRefresh ? { refresh_token: await sealRefreshToken(keys, grant) } : {}),
    token_type: "Bearer",
    expires_in: accessTokenSeconds,
  });

  const discovery = () => {
    const issuer = issuerUrl();
    const scopes = new Set([
      ...builtInScopes,
      ...clients.flatMap((client) => client.allowedScopes),
    ]);
    return {
      issuer,
      authorization_endpoint: `${issuer}/oauth2/authorize`,
      token_endpoint: `${issuer}/oauth2/token`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      end_session_endpoint: `${issuer}/logout`,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
      token_endpoint_auth_methods_supported: ["none"],
      code_challenge_methods_supported: ["S256"],
      scopes_supported: [...scopes],
      claims_supported: ["sub", "iss", "aud", "email", "email_verified", "cognito:username"],
    };
  };

  /** Checks an authorization request; what cannot be redirected is thrown as a PageError. */
  const authorizationRequest = (query: URLSearchParams): AuthorizationRequest => {
    let clientId: string | undefined;
    let redirectUri: string | undefined;
    try {
      clientId = single(query, "client_id");
      redirectUri = single(query, "redirect_uri");
    } catch (error) {
      throw new PageError((error as Error).message);
    }
    const client = clientOf(clientId);
    if (!client) throw new PageError("client_id names no app client of this user pool.");
    const allowed = (uri: string) =>
      client.callbackUrls.includes(uri) || (options.extraCallbackUrls?.().includes(uri) ?? false);
    if (!redirectUri || !allowed(redirectUri)) {
      throw new PageError("redirect_uri is not one of the app client's callback URLs.");
    }
    const state = query.get("state") ?? undefined;
    const fail = (error: string, description: string) => {
      const target = new URL(redirectUri as string);
      target.searchParams.set("error", error);
      target.searchParams.set("error_description", description);
      if (state !== undefined) target.searchParams.set("state", state);
      return new AuthorizationRedirect(target.href, description);
    };
    let responseType: string | undefined;
    let challenge: string | undefined;
    let method: string | undefined;
    let scope: string | undefined;
    let nonce: string | undefined;
    try {
      responseType = single(query, "response_type");
      challenge = single(query, "code_challenge");
      method = single(query, "code_challenge_method");
      scope = single(query, "scope");
      nonce = single(query, "nonce");
    } catch (error) {
      throw fail("invalid_request", (error as Error).message);
    }
    if (responseType !== "code") {
      throw fail("unsupported_response_type", "only response_type=code is supported");
    }
    if (!challenge || method !== "S256" || !codeChallengePattern.test(challenge)) {
      throw fail(
        "invalid_request",
        "PKCE is required: code_challenge with code_challenge_method=S256",
      );
    }
    const scopes = scope === undefined ? client.allowedScopes : scope.split(" ").filter(Boolean);
    const refused = scopes.filter((name) => !client.allowedScopes.includes(name));
    if (refused.length > 0) {
      throw fail("invalid_scope", `the app client may not ask for ${refused.join(", ")}`);
    }
    return { client, redirectUri, state, codeChallenge: challenge, scopes, nonce };
  };

  const errorPage = (response: ServerResponse, status: number, message: string) =>
    send(
      response,
      status,
      pageHeaders(),
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in error</title><link rel="stylesheet" href="${escapeHtml(basePath())}/assets/sign-in.css"></head><body><main><h1>Sign-in error</h1><p class="error">${escapeHtml(message)}</p></main></body></html>`,
    );

  const signInPage = (
    response: ServerResponse,
    status: number,
    request: AuthorizationRequest,
    message?: string,
  ) => {
    const signInId = signIns.add(request);
    const base = escapeHtml(basePath());
    send(
      response,
      status,
      pageHeaders([new URL(request.redirectUri).origin]),
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in</title><link rel="stylesheet" href="${base}/assets/sign-in.css"></head><body><main>
<h1>Sign in</h1><p>to ${escapeHtml(poolName)} (local: any username, any password)</p>
${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ""}
<form method="post" action="${base}/login">
<input type="hidden" name="sign_in" value="${escapeHtml(signInId)}">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required maxlength="128" autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form></main></body></html>`,
    );
  };

  const redirect = (response: ServerResponse, location: string) =>
    send(response, 302, { Location: location, "Cache-Control": "no-store" }, "");

  const routes: Record<
    string,
    (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void> | void
  > = {
    "GET /.well-known/openid-configuration": (_request, response) =>
      sendJson(response, 200, discovery()),
    "GET /.well-known/jwks.json": (_request, response) => sendJson(response, 200, keys.jwks()),
    "GET /assets/sign-in.css": (_request, response) =>
      send(
        response,
        200,
        { "Content-Type": "text/css; charset=utf-8", "X-Content-Type-Options": "nosniff" },
        stylesheet,
      ),
    // Cognito's hosted UI sends the browser from /oauth2/authorize to /login with the same
    // query; the query is checked on both.
    "GET /oauth2/authorize": (_request, response, url) => {
      authorizationRequest(url.searchParams);
      redirect(response, `${issuerUrl()}/login${url.search}`);
    },
    "GET /login": (_request, response, url) =>
      signInPage(response, 200, authorizationRequest(url.searchParams)),
    "POST /login": async (request, response) => {
      const form = await readForm(request).catch(() => new URLSearchParams());
      const signIn = signIns.take(form.get("sign_in") ?? "");
      if (!signIn) {
        errorPage(
          response,
          400,
          "This sign-in page has expired or was used: start again from the app.",
        );
        return;
      }
      const username = form.get("username") ?? "";
      if (!isValidUsername(username) || !form.get("password")) {
        signInPage(
          response,
          400,
          signIn,
          "Enter a username (no spaces, up to 128 characters) and a password.",
        );
        return;
      }
      const grant: Grant = {
        issuer: issuerUrl(),
        clientId: signIn.client.clientId,
        username,
        scopes: signIn.scopes,
        authTime: Math.floor(Date.now() / 1000),
      };
      const code = codes.add({ ...signIn, grant });
      const target = new URL(signIn.redirectUri);
      target.searchParams.set("code", code);
      if (signIn.state !== undefined) target.searchParams.set("state", signIn.state);
      redirect(response, target.href);
    },
    "POST /oauth2/token": async (request, response) => {
      const form = await readForm(request);
      const grantType = required(form, "grant_type");
      const client = clientOf(required(form, "client_id"));
      if (!client)
        throw new OAuthError("invalid_client", "client_id names no app client of this user pool");
      if (grantType === "authorization_code") {
        const code = required(form, "code");
        const redirectUri = required(form, "redirect_uri");
        const verifier = required(form, "code_verifier");
        // Taken before it is checked: a code is spent by any attempt, right or wrong.
        const issued = codes.take(code);
        if (!issued || issued.client.clientId !== client.clientId) {
          throw new OAuthError("invalid_grant", "the code is unknown, expired or already used");
        }
        if (issued.redirectUri !== redirectUri) {
          throw new OAuthError(
            "invalid_grant",
            "redirect_uri differs from the authorization request's",
          );
        }
        if (!pkceMatches(verifier, issued.codeChallenge)) {
          throw new OAuthError("invalid_grant", "code_verifier does not match the code_challenge");
        }
        sendJson(
          response,
          200,
          await tokenResponse(issued.grant, { withRefresh: true, nonce: issued.nonce }),
        );
        return;
      }
      if (grantType === "refresh_token") {
        const grant = await openRefreshToken(keys, required(form, "refresh_token"), issuerUrl());
        if (!grant || grant.clientId !== client.clientId) {
          throw new OAuthError("invalid_grant", "the refresh token is not valid for this client");
        }
        // Like Cognito without refresh-token rotation: new access and ID tokens, same refresh token.
        sendJson(response, 200, await tokenResponse(grant, { withRefresh: false }));
        return;
      }
      throw new OAuthError(
        "unsupported_grant_type",
        "grant_type must be authorization_code or refresh_token",
      );
    },
    "GET /logout": (_request, response, url) => {
      const client = clientOf(url.searchParams.get("client_id") ?? undefined);
      const target = url.searchParams.get("logout_uri") ?? "";
      if (!client?.logoutUrls.includes(target)) {
        errorPage(response, 400, "logout_uri is not one of the app client's sign-out URLs.");
        return;
      }
      redirect(response, target);
    },
  };

  const tokensFor = async (wanted: DevTokenRequest): Promise<TokenResponse> => {
    const client = wanted.clientId === undefined ? clients[0] : clientOf(wanted.clientId);
    if (!client)
      throw new OAuthError("invalid_client", "clientId names no app client of this user pool");
    if (!isValidUsername(wanted.username)) {
      throw new OAuthError("invalid_request", "username must be 1–128 characters without spaces");
    }
    const scopes = wanted.scopes ?? client.allowedScopes;
    if (!Array.isArray(scopes) || scopes.some((scope) => typeof scope !== "string")) {
      throw new OAuthError("invalid_request", "scopes must be a list of strings");
    }
    const refused = scopes.filter((scope) => !client.allowedScopes.includes(scope));
    if (refused.length > 0) {
      throw new OAuthError("invalid_scope", `the app client may not ask for ${refused.join(", ")}`);
    }
    return tokenResponse(
      { issuer: issuerUrl(), clientId: client.clientId, username: wanted.username, scopes },
      // Scripts get the ID token whatever the scopes: tests show the API refuses it.
      { withRefresh: true, withIdToken: true },
    );
  };

  if (devTokens) {
    routes["POST /dev/token"] = async (request, response) => {
      if (mediaType(request) !== "application/json") {
        throw new OAuthError("invalid_request", 'send {"username": "alice"} as application/json');
      }
      let body: unknown;
      try {
        body = JSON.parse(await readBody(request));
      } catch (error) {
        if (error instanceof OAuthError) throw error;
        throw new OAuthError("invalid_request", "the body is not JSON");
      }
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        throw new OAuthError("invalid_request", 'send {"username": "alice"}');
      }
      const { username, scopes, clientId } = body as Record<string, unknown>;
      if (clientId !== undefined && typeof clientId !== "string") {
        throw new OAuthError("invalid_request", "clientId must be a string");
      }
      sendJson(
        response,
        200,
        await tokensFor({
          username: username as string,
          scopes: scopes as string[] | undefined,
          clientId: clientId as string | undefined,
        }),
      );
    };
  }

  return {
    issuer: issuerUrl,
    tokensFor,
    async handle(request, response) {
      const url = new URL(request.url ?? "/", "http://issuer.invalid");
      const base = basePath();
      if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return false;
      const path = url.pathname.slice(base.length) || "/";
      const method = request.method === "HEAD" ? "GET" : (request.method ?? "GET");
      try {
        if (method === "OPTIONS") {
          send(response, 204, openCors, "");
          return true;
        }
        const route = routes[`${method} ${path}`];
        if (!route) {
          const known = Object.keys(routes).some((key) => key.endsWith(` ${path}`));
          sendJson(response, known ? 405 : 404, {
            error: known ? "method_not_allowed" : "not_found",
            error_description: known ? `${method} is not answered here` : `nothing is at ${path}`,
          });
          return true;
        }
        await route(request, response, url);
      } catch (error) {
        if (response.headersSent) {
          response.destroy();
        } else if (error instanceof PageError) {
          errorPage(response, 400, error.message);
        } else if (error instanceof OAuthError) {
          sendOAuthError(response, error);
        } else if (error instanceof AuthorizationRedirect) {
          redirect(response, error.location);
        } else {
          sendJson(response, 500, {
            error: "server_error",
            error_description: "the local issuer failed",
          });
        }
      }
      return true;
    },
  };
}
