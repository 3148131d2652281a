// Sign-in under `sam local start-api`, where no authorizer runs: the function's own
// verification (src/http/sam-local-sign-in.ts) against a local issuer's JWKS served on
// loopback, with real tokens signed by jose; and the built function, which loads that code
// only where AWS_SAM_LOCAL is set.
import { execFile, spawnSync } from "node:child_process";
import { createHmac, KeyObject } from "node:crypto";
import { readFileSync, renameSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  claimsAsApiGatewayPassesThem,
  createBearerVerifier,
  samLocalIssuerFrom,
} from "../../src/http/sam-local-sign-in.ts";
import type { BearerVerifier } from "../../src/http/sign-in.ts";

const clientId = "0prl5kwrcml7do52lh6samkih9";
type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

let server: Server;
let issuer: string;
let published: { keys: JWK[] };
let current: KeyPair;
let other: KeyPair;
let verify: BearerVerifier;
const refusals: string[] = [];

const publicJwk = async (pair: KeyPair, kid: string) => ({
  ...(await exportJWK(pair.publicKey)),
  kid,
  alg: "RS256",
  use: "sig",
});

beforeAll(async () => {
  [current, other] = await Promise.all([generateKeyPair("RS256"), generateKeyPair("RS256")]);
  published = { keys: [await publicJwk(current, "current")] };
  server = createServer((request, response) => {
    if (request.url !== "/auth/.well-known/jwks.json") return void response.writeHead(404).end();
    response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(published));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth`;
  verify = createBearerVerifier({
    issuer,
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    clientIds: [clientId],
    scopes: ["todos/read", "todos/write"],
    onRefusal: (reason) => refusals.push(reason),
  });
});
afterAll(() => new Promise((resolve) => server?.close(resolve)));

interface Minted {
  claims?: Record<string, unknown>;
  kid?: string;
  key?: KeyPair;
  exp?: number;
  nbf?: number;
}

const now = () => Math.floor(Date.now() / 1000);

/** An access token of the local issuer, as the local issuer mints them, with changes. */
function mint({ claims = {}, kid = "current", key = current, exp, nbf }: Minted = {}) {
  const jwt = new SignJWT({
    client_id: clientId,
    token_use: "access",
    scope: "todos/read todos/write",
    username: "alice",
    version: 2,
    auth_time: now(),
    ...claims,
  })
    .setProtectedHeader({ alg: "RS256", kid })
    .setIssuer((claims.iss as string) ?? issuer)
    .setSubject("8d0c6a4e-0c1b-8f2a-9e47-5a1d3c2b1a00")
    .setIssuedAt()
    .setExpirationTime(exp ?? now() + 3600);
  if (nbf !== undefined) jwt.setNotBefore(nbf);
  return jwt.sign(key.privateKey);
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");

describe("the function's own verification (sam local start-api)", () => {
  it("takes a valid access token, raw or as Bearer, and passes its claims as API Gateway does", async () => {
    const token = await mint();
    const claims = await verify(`Bearer ${token}`);
    expect(claims).toMatchObject({
      sub: "8d0c6a4e-0c1b-8f2a-9e47-5a1d3c2b1a00",
      token_use: "access",
      client_id: clientId,
      scope: "todos/read todos/write",
      iss: issuer,
      version: "2",
    });
    expect(claims?.exp).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$/);
    expect(await verify(token)).toEqual(claims);
    expect(await verify(`bearer   ${token}`)).toEqual(claims);
  });

  it("takes a token carrying only one of the API's scopes (each operation checks its own)", async () => {
    expect(await verify(`Bearer ${await mint({ claims: { scope: "todos/read" } })}`)).toBeDefined();
  });

  const refused: [string, () => Promise<string | undefined>][] = [
    ["no header", async () => undefined],
    ["an empty header", async () => "   "],
    ["not a JWT", async () => "Bearer not-a-token"],
    [
      "a bad signature",
      async () => {
        const [header, payload] = (await mint()).split(".");
        const [, , signature] = (await mint({ key: other })).split(".");
        return `Bearer ${header}.${payload}.${signature}`;
      },
    ],
    [
      "alg: none",
      async () => {
        const [, payload] = (await mint()).split(".");
        return `Bearer ${base64url(JSON.stringify({ alg: "none", kid: "current" }))}.${payload}.`;
      },
    ],
    [
      "HS256 keyed with the public key (algorithm confusion)",
      async () => {
        const pem = KeyObject.from(current.publicKey as CryptoKey)
          .export({ type: "spki", format: "pem" })
          .toString();
        const [, payload] = (await mint()).split(".");
        const header = base64url(JSON.stringify({ alg: "HS256", kid: "current" }));
        const signature = createHmac("sha256", pem).update(`${header}.${payload}`).digest();
        return `Bearer ${header}.${payload}.${base64url(signature)}`;
      },
    ],
    ["an expired token", () => mint({ exp: now() - 10 })],
    ["a token not valid yet", () => mint({ nbf: now() + 600 })],
    ["another issuer", () => mint({ claims: { iss: "https://cognito-idp.example/other" } })],
    ["another client", () => mint({ claims: { client_id: "someotherclient" } })],
    [
      "an ID token",
      () => mint({ claims: { token_use: "id", client_id: undefined, aud: clientId } }),
    ],
    ["a key the JWKS does not have", () => mint({ key: other, kid: "gone" })],
    ["none of the API's scopes", () => mint({ claims: { scope: "openid email" } })],
    ["no scope at all", () => mint({ claims: { scope: undefined } })],
  ];

  it.each(refused)("refuses %s", async (_, header) => {
    const before = refusals.length;
    expect(await verify(await header())).toBeUndefined();
    expect(refusals.length).toBe(before + 1);
  });

  it("with the keys inline (LOCAL_JWKS) verifies by them alone, calling no one", async () => {
    let fetched = 0;
    const counting = createServer((_, response) => {
      fetched += 1;
      response
        .writeHead(200, { "Content-Type": "application/json" })
        .end(JSON.stringify(published));
    });
    await new Promise<void>((resolve) => counting.listen(0, "127.0.0.1", resolve));
    try {
      const jwksUrl = `http://127.0.0.1:${(counting.address() as AddressInfo).port}/jwks.json`;
      const inline = createBearerVerifier({
        ...samLocalIssuerFrom({
          LOCAL_ISSUER_URL: issuer,
          LOCAL_CLIENT_IDS: clientId,
          LOCAL_JWKS: JSON.stringify({ keys: [await publicJwk(current, "current")] }),
          LOCAL_JWKS_URL: jwksUrl,
        }),
        scopes: ["todos/read"],
      });
      expect(await inline(`Bearer ${await mint()}`)).toMatchObject({ username: "alice" });
      // A key the inline set lacks is refused, even one the URL would publish.
      published = { keys: [await publicJwk(other, "other")] };
      expect(await inline(`Bearer ${await mint({ key: other, kid: "other" })}`)).toBeUndefined();
      expect(await inline(`Bearer ${await mint({ key: other, kid: "current" })}`)).toBeUndefined();
      expect(fetched).toBe(0);
      // The same settings without LOCAL_JWKS fetch the URL's keys (the control for the count).
      const remote = createBearerVerifier({
        ...samLocalIssuerFrom({
          LOCAL_ISSUER_URL: issuer,
          LOCAL_CLIENT_IDS: clientId,
          LOCAL_JWKS_URL: jwksUrl,
        }),
        scopes: ["todos/read"],
      });
      expect(await remote(`Bearer ${await mint({ key: other, kid: "other" })}`)).toBeDefined();
      expect(fetched).toBe(1);
    } finally {
      published = { keys: [await publicJwk(current, "current")] };
      await new Promise((resolve) => counting.close(resolve));
    }
  });

  it("stops taking a key once the issuer no longer publishes it", async () => {
    const rotated = await generateKeyPair("RS256");
    published = { keys: [await publicJwk(rotated, "next")] };
    // An unknown kid makes jose fetch the key set again (after its 30 s cooldown, so: a
    // verifier that has not fetched yet sees the new set at once).
    const fresh = createBearerVerifier({
      issuer,
      jwksUrl: `${issuer}/.well-known/jwks.json`,
      clientIds: [clientId],
      scopes: ["todos/read"],
    });
    expect(await fresh(`Bearer ${await mint()}`)).toBeUndefined();
    expect(await fresh(`Bearer ${await mint({ key: rotated, kid: "next" })}`)).toBeDefined();
    published = { keys: [await publicJwk(current, "current")] };
  });
});

describe("the local issuer, from env_local.json", () => {
  it("reads the issuer, its JWKS URL (default: the issuer's own) and the clients", () => {
    const env = { LOCAL_ISSUER_URL: "http://127.0.0.1:3000/auth/", LOCAL_CLIENT_IDS: "a, b," };
    expect(samLocalIssuerFrom(env)).toEqual({
      issuer: "http://127.0.0.1:3000/auth",
      jwksUrl: "http://127.0.0.1:3000/auth/.well-known/jwks.json",
      clientIds: ["a", "b"],
    });
    const jwksUrl = "http://host.docker.internal:3000/auth/.well-known/jwks.json";
    expect(samLocalIssuerFrom({ ...env, LOCAL_JWKS_URL: jwksUrl }).jwksUrl).toBe(jwksUrl);
  });

  it("takes the keys inline from LOCAL_JWKS, and refuses one that is not a JWKS", () => {
    const env = { LOCAL_ISSUER_URL: "http://127.0.0.1:3000/auth", LOCAL_CLIENT_IDS: "a" };
    const jwks = { keys: [{ kty: "RSA", n: "AQAB", e: "AQAB", kid: "k" }] };
    expect(samLocalIssuerFrom({ ...env, LOCAL_JWKS: JSON.stringify(jwks) }).jwks).toEqual(jwks);
    expect(samLocalIssuerFrom({ ...env, LOCAL_JWKS: "" }).jwks).toBeUndefined();
    for (const bad of ["{", "[]", '{"keys": []}', '"keys"']) {
      expect(() => samLocalIssuerFrom({ ...env, LOCAL_JWKS: bad })).toThrow(
        /LOCAL_JWKS is not a JWKS/,
      );
    }
  });

  it("refuses to go on without an issuer and its clients", () => {
    for (const env of [{}, { LOCAL_ISSUER_URL: "http://i" }, { LOCAL_CLIENT_IDS: "a" }]) {
      expect(() => samLocalIssuerFrom(env)).toThrow(/LOCAL_ISSUER_URL and LOCAL_CLIENT_IDS/);
    }
  });
});

describe("claims as API Gateway REST passes them", () => {
  it("makes every value a string: Java dates for exp and iat, text, lists with commas, JSON", () => {
    expect(
      claimsAsApiGatewayPassesThem({
        sub: "s",
        exp: 1784510932,
        iat: 1784507332,
        auth_time: 1784507332,
        email_verified: true,
        "cognito:groups": ["admins", "users"],
        address: { country: "NZ" },
        nothing: null,
      }),
    ).toEqual({
      sub: "s",
      exp: "Mon Jul 20 01:28:52 UTC 2026",
      iat: "Mon Jul 20 00:28:52 UTC 2026",
      auth_time: "1784507332",
      email_verified: "true",
      "cognito:groups": "admins,users",
      address: '{"country":"NZ"}',
    });
  });
});

describe("the built function", () => {
  const buildDir = join(tmpdir(), `sam-local-sign-in-${process.pid}`);
  const node = process.execPath;

  beforeAll(() => {
    const built = spawnSync(node, ["test/support/build-function.ts", buildDir], {
      encoding: "utf8",
    });
    expect(built.status, built.stderr).toBe(0);
  });
  afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

  /**
   * Imports the built handler in a fresh process with this environment and, if asked, invokes
   * it once (asynchronously: the JWKS it fetches is served by this process).
   */
  async function coldStart(env: Record<string, string>, invoke?: { authorization?: string }) {
    const script = `
      const { handler } = await import(${JSON.stringify(join(buildDir, "handler.mjs"))});
      const invoke = ${JSON.stringify(invoke ?? null)};
      if (invoke) {
        const event = {
          httpMethod: "GET", path: "/todos/nope", resource: "/todos/{id}",
          headers: invoke.authorization ? { Authorization: invoke.authorization } : {},
          // Claims an attacker might forge: under sam local only the token counts.
          requestContext: { requestId: "r", authorizer: { claims: { sub: "forged", token_use: "access", scope: "todos/read" } } },
          queryStringParameters: null, pathParameters: null, body: null, isBase64Encoded: false,
        };
        const answer = await handler(event, { awsRequestId: "a", getRemainingTimeInMillis: () => 5000 });
        console.log(JSON.stringify(answer));
      }
    `;
    try {
      const { stdout, stderr } = await promisify(execFile)(
        node,
        ["--input-type=module", "-e", script],
        { env: { PATH: process.env.PATH ?? "", TABLE_NAME: "T", LOG_LEVEL: "silent", ...env } },
      );
      return { status: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { status: failed.code ?? 1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
    }
  }

  it("has no jose in the bundle Lambda loads", () => {
    const bundle = readFileSync(join(buildDir, "handler.mjs"), "utf8");
    expect(bundle).not.toMatch(/jwtVerify|createRemoteJWKSet|JWSSignatureVerificationFailed/);
    expect(readFileSync(join(buildDir, "http/sam-local-sign-in.mjs"), "utf8")).toMatch(/JWKS|jwks/);
  });

  it("on AWS (no AWS_SAM_LOCAL) starts without the sam local module at all", async () => {
    renameSync(join(buildDir, "http/sam-local-sign-in.mjs"), join(buildDir, "http/gone.mjs"));
    try {
      const run = await coldStart({}, {});
      expect(run.status, run.stderr).toBe(0);
      // The authorizer's claims are taken as they are: past sign-in, the bad id is a 400.
      expect(JSON.parse(run.stdout.split("\n")[0] ?? "{}").statusCode).toBe(400);
    } finally {
      renameSync(join(buildDir, "http/gone.mjs"), join(buildDir, "http/sam-local-sign-in.mjs"));
    }
  });

  it("under sam local without a DynamoDB endpoint, the built function answers 503 naming the fix", async () => {
    // The refusal comes from the sam local bundle, whose HttpProblem is a copy of its own: the
    // main bundle must still answer it as the problem it is, not as a 500.
    const run = await coldStart({ AWS_SAM_LOCAL: "true" }, {});
    expect(run.status, run.stderr).toBe(0);
    const answer = JSON.parse(run.stdout.split("\n")[0] ?? "{}");
    expect(answer.statusCode).toBe(503);
    expect(JSON.parse(answer.body)).toMatchObject({
      type: "/problems/service-unavailable",
      detail: expect.stringMatching(/--env-vars env_local\.json/),
    });
  });

  it("under sam local without an issuer to verify against, refuses to start", async () => {
    // With an endpoint: without one the function refuses every request anyway (samLocalRefusal).
    const run = await coldStart({ AWS_SAM_LOCAL: "true", DDB_ENDPOINT: "http://127.0.0.1:9" });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("LOCAL_ISSUER_URL");
  });

  it("under sam local verifies the token itself: forged claims without a token are 401", async () => {
    const env = {
      AWS_SAM_LOCAL: "true",
      // A closed port: a local endpoint, as env_local.json gives (without one, 503 for all).
      DDB_ENDPOINT: "http://127.0.0.1:9",
      LOCAL_ISSUER_URL: issuer,
      LOCAL_CLIENT_IDS: clientId,
    };
    const forged = await coldStart(env, {});
    expect(forged.status, forged.stderr).toBe(0);
    const answer = JSON.parse(forged.stdout.split("\n")[0] ?? "{}");
    expect(answer.statusCode).toBe(401);
    expect(answer.headers["WWW-Authenticate"]).toBe("Bearer");

    const signedIn = await coldStart(env, { authorization: `Bearer ${await mint()}` });
    // Past sign-in: the bad id is a 400.
    expect(JSON.parse(signedIn.stdout.split("\n")[0] ?? "{}").statusCode).toBe(400);
  });

  it("under sam local with LOCAL_JWKS verifies by the inline keys, its JWKS URL unreachable", async () => {
    const env = {
      AWS_SAM_LOCAL: "true",
      DDB_ENDPOINT: "http://127.0.0.1:9",
      LOCAL_ISSUER_URL: issuer,
      LOCAL_CLIENT_IDS: clientId,
      LOCAL_JWKS: JSON.stringify({ keys: [await publicJwk(current, "current")] }),
      // A closed port: verification must not depend on it.
      LOCAL_JWKS_URL: "http://127.0.0.1:9/.well-known/jwks.json",
    };
    const statusOf = (run: { stdout: string }) =>
      JSON.parse(run.stdout.split("\n")[0] ?? "{}").statusCode;
    const signedIn = await coldStart(env, { authorization: `Bearer ${await mint()}` });
    expect(signedIn.status, signedIn.stderr).toBe(0);
    expect(statusOf(signedIn)).toBe(400);
    const otherKey = await coldStart(env, {
      authorization: `Bearer ${await mint({ key: other, kid: "current" })}`,
    });
    expect(statusOf(otherKey)).toBe(401);
  });
});
