import { createPublicKey } from "node:crypto";
import { exportSPKI, generateKeyPair, importJWK, type JWK, SignJWT, UnsecuredJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import {
  claimsAsApiGatewayPassesThem,
  createCognitoAuthorizer,
  unauthorized,
} from "../../scripts/local/auth/authorizer.ts";
import { type IssuerKeys, openIssuerKeys } from "../../scripts/local/auth/keys.ts";
import {
  type Grant,
  mintAccessToken,
  mintIdToken,
  sealRefreshToken,
} from "../../scripts/local/auth/tokens.ts";

const issuer = "http://127.0.0.1:3000/auth";
const clientId = "localclient0000000000000001";
const apiScopes = ["todos/read", "todos/write"];
const alice: Grant = { issuer, clientId, username: "alice", scopes: ["openid", "todos/read"] };
const now = () => Math.floor(Date.now() / 1000);

let keys: IssuerKeys;
let authorizer: ReturnType<typeof createCognitoAuthorizer>;
beforeAll(async () => {
  keys = await openIssuerKeys();
  authorizer = createCognitoAuthorizer({
    identityHeader: "Authorization",
    issuers: [issuer],
    clientIds: [clientId],
    jwksOf: (name) => (name === issuer ? keys.jwks() : undefined),
  });
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function expectRefused(
  headers: Record<string, string>,
  reason: RegExp,
  scopes: string[] = apiScopes,
) {
  const outcome = await authorizer.authorize(headers, scopes);
  expect(outcome.allowed).toBe(false);
  if (outcome.allowed) return;
  expect(outcome.failure).toEqual(unauthorized);
  expect(outcome.failure).toMatchObject({
    type: "UNAUTHORIZED",
    statusCode: 401,
    message: "Unauthorized",
  });
  expect(outcome.reason).toMatch(reason);
}

describe("the Cognito authorizer emulation", () => {
  it("passes a valid access token's claims on as API Gateway REST does: all strings", async () => {
    const token = await mintAccessToken(keys, { ...alice, authTime: 1_784_510_932 });
    const outcome = await authorizer.authorize(bearer(token), apiScopes);
    expect(outcome.allowed).toBe(true);
    if (!outcome.allowed) return;
    const { claims } = outcome;
    expect(Object.values(claims).every((value) => typeof value === "string")).toBe(true);
    expect(claims).toMatchObject({
      iss: issuer,
      sub: keys.subjectOf("alice"),
      token_use: "access",
      client_id: clientId,
      scope: "openid todos/read",
      username: "alice",
      auth_time: "1784510932",
      version: "2",
    });
    expect(claims.exp).toMatch(
      /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$/,
    );
    expect(claims.iat).toMatch(/ UTC \d{4}$/);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("takes the raw token as well as Bearer <token>, in any case of the scheme", async () => {
    const token = await mintAccessToken(keys, alice);
    for (const value of [token, `Bearer ${token}`, `bearer ${token}`, `BEARER  ${token}`]) {
      expect((await authorizer.authorize({ Authorization: value }, apiScopes)).allowed).toBe(true);
    }
  });

  it("refuses a request without a token", async () => {
    await expectRefused({}, /no Authorization header/);
    await expectRefused({ authorization: "" }, /no Authorization header/);
    await expectRefused({ authorization: "Bearer " }, /not a JWT/);
  });

  it("refuses what is not a JWT", async () => {
    await expectRefused({ authorization: "Bearer not-a-token" }, /not a JWT/);
    await expectRefused({ authorization: "Basic YWxpY2U6c2VjcmV0" }, /not a JWT/);
    await expectRefused(bearer("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"), /another issuer/);
    await expectRefused(bearer("a.b.c"), /not a JWT/);
    // A refresh token is sealed (JWE), not signed: never an access token.
    await expectRefused(bearer(await sealRefreshToken(keys, alice)), /not a JWT/);
  });

  it("refuses a token whose signature is wrong", async () => {
    const token = await mintAccessToken(keys, alice);
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const flipped = `${signature.slice(0, 10)}${signature[10] === "A" ? "B" : "A"}${signature.slice(11)}`;
    await expectRefused(bearer(`${header}.${payload}.${flipped}`), /signature is wrong/);
  });

  it("refuses a token signed by a stranger's key that claims the issuer's kid", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const forged = await new SignJWT({
      token_use: "access",
      client_id: clientId,
      scope: "todos/read",
    })
      .setProtectedHeader({ alg: "RS256", kid: keys.current().kid })
      .setIssuer(issuer)
      .setSubject(keys.subjectOf("alice"))
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(privateKey);
    await expectRefused(bearer(forged), /signature is wrong/);
  });

  it("refuses alg: none", async () => {
    const unsigned = new UnsecuredJWT({
      token_use: "access",
      client_id: clientId,
      scope: "todos/read",
    })
      .setIssuer(issuer)
      .setSubject(keys.subjectOf("alice"))
      .setIssuedAt()
      .setExpirationTime("1h")
      .encode();
    await expectRefused(bearer(unsigned), /algorithm is not RS256|not a valid token/);
  });

  it("refuses HS256 signed with the issuer's public key (algorithm confusion)", async () => {
    const publicJwk = keys.jwks().keys[0] as JWK;
    const publicPem = await exportSPKI((await importJWK(publicJwk, "RS256")) as CryptoKey);
    expect(createPublicKey(publicPem).asymmetricKeyType).toBe("rsa");
    for (const secret of [publicPem, JSON.stringify(publicJwk)]) {
      const confused = await new SignJWT({
        token_use: "access",
        client_id: clientId,
        scope: "todos/read",
      })
        .setProtectedHeader({ alg: "HS256", kid: publicJwk.kid })
        .setIssuer(issuer)
        .setSubject(keys.subjectOf("alice"))
        .setIssuedAt()
        .setExpirationTime("1h")
        .sign(new TextEncoder().encode(secret));
      await expectRefused(bearer(confused), /algorithm is not RS256/);
    }
  });

  it("refuses an expired token", async () => {
    const expired = await mintAccessToken(keys, alice, { now: now() - 3700 });
    await expectRefused(bearer(expired), /expired/);
  });

  it("refuses a token once it expires, though it passed a moment before (no verdict outlives exp)", async () => {
    const shortLived = await mintAccessToken(keys, alice, { now: now() - 3599 });
    expect((await authorizer.authorize(bearer(shortLived), apiScopes)).allowed).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await expectRefused(bearer(shortLived), /expired/);
  });

  it("refuses a token that is not valid yet", async () => {
    const early = await mintAccessToken(keys, alice, { notBefore: now() + 600 });
    await expectRefused(bearer(early), /not valid yet/);
  });

  it("refuses a token of another issuer, even signed with the same keys", async () => {
    const foreign = await mintAccessToken(keys, { ...alice, issuer: "http://127.0.0.1:3001/auth" });
    await expectRefused(bearer(foreign), /another issuer/);
    const noIssuer = await new SignJWT({
      token_use: "access",
      client_id: clientId,
      scope: "todos/read",
    })
      .setProtectedHeader({ alg: "RS256", kid: keys.current().kid })
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(keys.current().privateKey);
    await expectRefused(bearer(noIssuer), /another issuer/);
  });

  it("refuses a token of another app client", async () => {
    const token = await mintAccessToken(keys, { ...alice, clientId: "someotherclient00000000000" });
    await expectRefused(bearer(token), /another client/);
  });

  it("refuses an ID token where the method has scopes (only access tokens are taken then)", async () => {
    const idToken = await mintIdToken(keys, alice);
    await expectRefused(bearer(idToken), /access token is needed/);
  });

  it("refuses an access token carrying none of the method's scopes", async () => {
    const token = await mintAccessToken(keys, { ...alice, scopes: ["openid", "email"] });
    await expectRefused(bearer(token), /none of the method's scopes/);
    const writer = await mintAccessToken(keys, { ...alice, scopes: ["todos/write"] });
    await expectRefused(bearer(writer), /none of the method's scopes/, ["todos/read"]);
    expect((await authorizer.authorize(bearer(writer), apiScopes)).allowed).toBe(true);
  });

  it("refuses a token signed by a key the JWKS no longer has", async () => {
    const rotating = await openIssuerKeys();
    const rotatingAuthorizer = createCognitoAuthorizer({
      identityHeader: "Authorization",
      issuers: [issuer],
      clientIds: [clientId],
      jwksOf: () => rotating.jwks(),
    });
    const oldKid = rotating.current().kid;
    const oldToken = await mintAccessToken(rotating, alice);
    await rotating.rotate();
    expect((await rotatingAuthorizer.authorize(bearer(oldToken), apiScopes)).allowed).toBe(true);
    await rotating.retire(oldKid);
    const outcome = await rotatingAuthorizer.authorize(bearer(oldToken), apiScopes);
    expect(outcome).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/no key of the JWKS/),
    });
    const newToken = await mintAccessToken(rotating, alice);
    expect((await rotatingAuthorizer.authorize(bearer(newToken), apiScopes)).allowed).toBe(true);
  });

  it("on a method without scopes takes ID tokens and refuses access tokens, as API Gateway does", async () => {
    const idToken = await mintIdToken(keys, alice);
    const outcome = await authorizer.authorize(bearer(idToken), []);
    expect(outcome).toMatchObject({
      allowed: true,
      claims: {
        token_use: "id",
        aud: clientId,
        email: "alice@example.com",
        email_verified: "true",
      },
    });
    await expectRefused(bearer(await mintAccessToken(keys, alice)), /ID token is needed/, []);
    const foreignAudience = await mintIdToken(keys, {
      ...alice,
      clientId: "someotherclient00000000000",
    });
    await expectRefused(bearer(foreignAudience), /another client/, []);
  });

  it("reads the token from the authorizer's own header and applies its ValidationExpression", async () => {
    const custom = createCognitoAuthorizer({
      identityHeader: "X-Notes-Token",
      validationExpression: "Bearer [A-Za-z0-9._-]+",
      issuers: [issuer],
      clientIds: [clientId],
      jwksOf: () => keys.jwks(),
    });
    const token = await mintAccessToken(keys, alice);
    expect(
      (await custom.authorize({ "x-notes-token": `Bearer ${token}` }, apiScopes)).allowed,
    ).toBe(true);
    expect(await custom.authorize({ authorization: `Bearer ${token}` }, apiScopes)).toMatchObject({
      allowed: false,
      reason: "no X-Notes-Token header",
    });
    expect(await custom.authorize({ "x-notes-token": token }, apiScopes)).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/ValidationExpression/),
    });
  });
});

describe("claims as API Gateway REST passes them", () => {
  it("are strings: Java dates for exp and iat, lists joined by commas, objects as JSON", () => {
    expect(
      claimsAsApiGatewayPassesThem({
        sub: "u1",
        "cognito:groups": ["admins", "users"],
        email_verified: true,
        auth_time: 1_666_606_318,
        exp: 1_666_692_718,
        iat: 1_784_510_932,
        identities: { providerName: "Google" },
        missing: null,
      } as Record<string, unknown>),
    ).toEqual({
      sub: "u1",
      "cognito:groups": "admins,users",
      email_verified: "true",
      auth_time: "1666606318",
      exp: "Tue Oct 25 10:11:58 UTC 2022",
      iat: "Mon Jul 20 01:28:52 UTC 2026",
      identities: '{"providerName":"Google"}',
    });
  });
});
