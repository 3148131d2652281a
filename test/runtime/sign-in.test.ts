// npm start's sign-in, end to end over real HTTP, on a fixture template that is not the
// product (a user pool, a resource server, a public app client and an Api whose default
// Cognito authorizer guards an echo function that answers with requestContext.authorizer):
// the emulation is generic. Every refusal of the authorizer is covered in test/auth/; here
// they go through the runtime's request path and the template's GatewayResponses.
import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { freePort } from "../../scripts/bench/free-port.ts";
import { localOpenApiYaml } from "../../scripts/local/docs.ts";
import {
  devToken,
  type PreparedIssuer,
  prepareIssuer,
  refusedAuthorizations,
  signInWithPkce,
} from "../support/tokens.ts";
import { repoRoot, type StartedRuntime, scratchDir, startRuntime } from "./helpers.ts";

const authTemplate = join(repoRoot, "test/fixtures/auth/template.yaml");

let runtime: StartedRuntime;
let prepared: PreparedIssuer;
let removeScratch: () => Promise<void>;
let clientId: string;

beforeAll(async () => {
  const [dir, remove] = await scratchDir("sign-in-runtime");
  removeScratch = remove;
  prepared = await prepareIssuer(join(dir, "issuer", "keys.json"));
  runtime = await startRuntime({
    template: authTemplate,
    port: prepared.port,
    issuerKeysFile: join(dir, "issuer", "keys.json"),
  });
  clientId = decodeJwt(await devToken(runtime.url, "alice")).client_id as string;
}, 60_000);

afterAll(async () => {
  await runtime?.close();
  await removeScratch?.();
});

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe("npm start's Cognito authorizer, on any template that declares one", () => {
  it("serves the issuer under /auth and says so", async () => {
    expect(runtime.signIn).toEqual({
      issuers: [`${runtime.url}/auth`],
      devTokenUrl: `${runtime.url}/auth/dev/token`,
      keysFile: expect.stringMatching(/issuer\/keys\.json$/),
    });
    const discovery = await fetch(`${runtime.url}/auth/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    expect(await discovery.json()).toMatchObject({
      issuer: `${runtime.url}/auth`,
      jwks_uri: `${runtime.url}/auth/.well-known/jwks.json`,
    });
  });

  it("answers a request without a token 401 through the template's GatewayResponses, and logs why", async () => {
    const response = await fetch(`${runtime.url}/notes`);
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    // API Gateway's own answer: its headers are not remapped as a function's would be.
    expect(response.headers.get("www-authenticate")).toBe("Bearer");
    expect(response.headers.get("x-amzn-remapped-www-authenticate")).toBeNull();
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("x-amzn-errortype")).toBe("UnauthorizedException");
    const requestId = response.headers.get("x-amzn-requestid");
    expect(await response.json()).toEqual({
      type: "about:blank",
      title: "Unauthorized",
      status: 401,
      instance: requestId,
    });
    expect(
      runtime.logs.some((line) => line.includes(`${requestId} refused by the authorizer`)),
    ).toBe(true);
  });

  it("passes a good access token's claims to the function as strings, as API Gateway REST does", async () => {
    const token = await devToken(runtime.url, "alice");
    const response = await fetch(`${runtime.url}/notes`, { headers: bearer(token) });
    expect(response.status).toBe(200);
    const { authorizer } = (await response.json()) as {
      authorizer: { claims: Record<string, unknown> };
    };
    expect(Object.keys(authorizer)).toEqual(["claims"]);
    const { claims } = authorizer;
    expect(Object.values(claims).every((value) => typeof value === "string")).toBe(true);
    expect(claims).toMatchObject({
      iss: `${runtime.url}/auth`,
      sub: prepared.keys.subjectOf("alice"),
      token_use: "access",
      client_id: clientId,
      username: "alice",
      version: "2",
    });
    expect((claims.scope as string).split(" ").sort()).toEqual(
      ["email", "openid", "todos/read", "todos/write"].sort(),
    );
    expect(claims.exp).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$/);
  });

  it("takes the same token signed in through the sign-in page with PKCE", async () => {
    const tokens = await signInWithPkce(runtime.url, {
      clientId,
      redirectUri: "http://127.0.0.1:9/callback",
      username: "bob",
      scopes: ["openid", "todos/read"],
    });
    const response = await fetch(`${runtime.url}/notes`, {
      headers: bearer(tokens.access_token as string),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { authorizer: { claims: Record<string, string> } };
    expect(body.authorizer.claims).toMatchObject({
      username: "bob",
      scope: "openid todos/read",
      sub: prepared.keys.subjectOf("bob"),
    });
  });

  it("refuses, with 401 and never the function, every token the issue lists", async () => {
    const refused = await refusedAuthorizations(prepared, {
      clientId,
      username: "alice",
      scopes: ["todos/read", "todos/write"],
    });
    for (const [what, headers] of refused) {
      const response = await fetch(`${runtime.url}/notes`, { method: "POST", headers, body: "{}" });
      expect({ what, status: response.status }).toEqual({ what, status: 401 });
      expect(await response.json()).toMatchObject({ title: "Unauthorized", status: 401 });
    }
    expect(runtime.errors).toEqual([]);
  });

  it("asks a method for its own scopes: a read-only token cannot PUT /notes/{id}", async () => {
    const reader = await devToken(runtime.url, "alice", { scopes: ["todos/read"] });
    const writer = await devToken(runtime.url, "alice", { scopes: ["todos/write"] });
    const put = (token: string) =>
      fetch(`${runtime.url}/notes/1`, { method: "PUT", headers: bearer(token), body: "{}" });
    expect((await put(reader)).status).toBe(401);
    expect((await put(writer)).status).toBe(200);
    expect((await fetch(`${runtime.url}/notes`, { headers: bearer(reader) })).status).toBe(200);
  });

  it("leaves CORS preflight (AddDefaultAuthorizerToCorsPreflight: false) and Authorizer: NONE open", async () => {
    const preflight = await fetch(`${runtime.url}/notes`, {
      method: "OPTIONS",
      headers: { Origin: "http://127.0.0.1:9", "Access-Control-Request-Method": "POST" },
    });
    expect(preflight.status).toBe(200);
    expect(await preflight.json()).toMatchObject({ method: "OPTIONS", authorizer: null });
    const health = await fetch(`${runtime.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ authorizer: null });
  });

  it("reads the token from an authorizer's Identity.Header, and a method without scopes takes ID tokens only", async () => {
    const idToken = await devToken(runtime.url, "alice", { idToken: true });
    const accessToken = await devToken(runtime.url, "alice");
    const profile = (headers: Record<string, string>) =>
      fetch(`${runtime.url}/profile`, { headers });
    const byId = await profile({ "X-Notes-Token": `Bearer ${idToken}` });
    expect(byId.status).toBe(200);
    expect(await byId.json()).toMatchObject({
      authorizer: { claims: { token_use: "id", "cognito:username": "alice", aud: clientId } },
    });
    expect((await profile({ "X-Notes-Token": `Bearer ${accessToken}` })).status).toBe(401);
    // The ValidationExpression wants "Bearer ..."; the Authorization header is not this authorizer's.
    expect((await profile({ "X-Notes-Token": idToken })).status).toBe(401);
    expect((await profile(bearer(idToken))).status).toBe(401);
  });

  it("lets Swagger UI's callback on its own origin sign in, and no other page of it", async () => {
    for (const origin of [runtime.url, runtime.url.replace("127.0.0.1", "localhost")]) {
      const tokens = await signInWithPkce(runtime.url, {
        clientId,
        redirectUri: `${origin}/docs/oauth2-redirect.html`,
        username: "carol",
      });
      expect(tokens.access_token).toBeTruthy();
    }
    const stranger = new URL(`${runtime.url}/auth/oauth2/authorize`);
    stranger.search = new URLSearchParams({
      response_type: "code",
      client_id: clientId,
      redirect_uri: `${runtime.url}/docs/elsewhere.html`,
      code_challenge: "x".repeat(43),
      code_challenge_method: "S256",
    }).toString();
    const refused = await fetch(stranger, { redirect: "manual" });
    expect(refused.status).toBe(400);
  });

  it("serves Swagger UI's initializer with PKCE sign-in as the template's app client", async () => {
    const script = await (await fetch(`${runtime.url}/docs/swagger-initializer.js`)).text();
    expect(script).toContain(`clientId: ${JSON.stringify(clientId)}`);
    expect(script).toContain("usePkceWithAuthorizationCodeGrant: true");
    expect(script).toContain('scopes: ["todos/read","todos/write"]');
    const redirect = await fetch(`${runtime.url}/docs/oauth2-redirect.html`);
    expect(redirect.status).toBe(200);
    expect(redirect.headers.get("content-security-policy")).toContain("script-src 'self'");
  });
});

describe("the issuer's keys", () => {
  it("are kept beside the data folder, so tokens survive a restart; --in-memory keeps none", async () => {
    const [dir, remove] = await scratchDir("sign-in-keys");
    try {
      const port = await freePort();
      const options = {
        template: authTemplate,
        port,
        inMemory: false,
        dataDir: join(dir, ".data", "dynamodb"),
      };
      const first = await startRuntime(options);
      const token = await devToken(first.url, "alice");
      await first.close();
      const stored = JSON.parse(await readFile(join(dir, ".data", "issuer", "keys.json"), "utf8"));
      expect(stored.signingKeys).toHaveLength(1);
      const second = await startRuntime(options);
      try {
        const response = await fetch(`${second.url}/notes`, { headers: bearer(token) });
        expect(response.status).toBe(200);
      } finally {
        await second.close();
      }
      const inMemory = await startRuntime({ template: authTemplate, port });
      try {
        expect(inMemory.signIn?.keysFile).toBeUndefined();
        const response = await fetch(`${inMemory.url}/notes`, { headers: bearer(token) });
        expect(response.status).toBe(401);
      } finally {
        await inMemory.close();
      }
    } finally {
      await remove();
    }
  }, 60_000);

  it("are not made for a template without a user pool", async () => {
    const plain = await startRuntime();
    try {
      expect(plain.signIn).toBeUndefined();
      expect((await fetch(`${plain.url}/auth/.well-known/jwks.json`)).status).toBe(403);
    } finally {
      await plain.close();
    }
  });
});

describe("the contract Swagger UI gets", () => {
  it("points the OAuth and OpenID Connect URLs at the local issuer on the browser's origin", async () => {
    const [dir, remove] = await scratchDir("sign-in-docs");
    try {
      const contract = join(dir, "openapi.yaml");
      await writeFile(
        contract,
        `openapi: 3.1.0
info: { title: t, version: "1" }
servers: [{ url: "https://api.example.com/v1" }]
paths: {}
components:
  securitySchemes:
    signIn:
      type: oauth2
      flows:
        authorizationCode:
          authorizationUrl: https://example.auth.us-east-1.amazoncognito.com/oauth2/authorize
          tokenUrl: https://example.auth.us-east-1.amazoncognito.com/oauth2/token
          scopes: { todos/read: Read }
    openId:
      type: openIdConnect
      openIdConnectUrl: https://cognito-idp.us-east-1.amazonaws.com/pool/.well-known/openid-configuration
    apiKey:
      type: apiKey
      in: header
      name: X-Api-Key
`,
      );
      const served = parse(await localOpenApiYaml(contract, "http://localhost:3500", "/auth"));
      expect(served.servers).toEqual([
        { url: "http://localhost:3500", description: "This local runtime (npm start)" },
      ]);
      expect(served.components.securitySchemes).toEqual({
        signIn: {
          type: "oauth2",
          flows: {
            authorizationCode: {
              authorizationUrl: "http://localhost:3500/auth/oauth2/authorize",
              tokenUrl: "http://localhost:3500/auth/oauth2/token",
              scopes: { "todos/read": "Read" },
            },
          },
        },
        openId: {
          type: "openIdConnect",
          openIdConnectUrl: "http://localhost:3500/auth/.well-known/openid-configuration",
        },
        apiKey: { type: "apiKey", in: "header", name: "X-Api-Key" },
      });
      // Without a local sign-in the schemes are left as the contract says.
      const unsigned = parse(await localOpenApiYaml(contract, "http://localhost:3500"));
      expect(unsigned.components.securitySchemes.openId.openIdConnectUrl).toMatch(/^https:/);
    } finally {
      await remove();
    }
  });
});

describe("the preflights an Api's Cors setting makes", () => {
  it("are open with AddDefaultAuthorizerToCorsPreflight: false, and need a token when it is on (SAM's default)", async () => {
    const [dir, remove] = await scratchDir("sign-in-cors");
    try {
      await cp(join(repoRoot, "test/fixtures/auth"), dir, {
        recursive: true,
        filter: (source) => !source.includes("/.build"),
      });
      const fixture = await readFile(join(dir, "template.yaml"), "utf8");
      const withCors = fixture.replace(
        "      StageName: v1\n",
        "      StageName: v1\n      Cors:\n        AllowOrigin: \"'*'\"\n        AllowHeaders: \"'Authorization,Content-Type'\"\n",
      );
      expect(withCors).not.toBe(fixture);
      const variants = {
        open: withCors,
        guarded: withCors.replace("        AddDefaultAuthorizerToCorsPreflight: false\n", ""),
      };
      const preflight = (url: string) =>
        fetch(`${url}/notes/1`, {
          method: "OPTIONS",
          headers: { Origin: "http://127.0.0.1:9", "Access-Control-Request-Method": "PUT" },
        });
      for (const [name, text] of Object.entries(variants)) {
        await writeFile(join(dir, `${name}.yaml`), text);
        const served = await startRuntime({ template: join(dir, `${name}.yaml`) });
        try {
          const anonymous = await preflight(served.url);
          if (name === "open") {
            expect(anonymous.status).toBe(200);
            expect(anonymous.headers.get("access-control-allow-origin")).toBe("*");
          } else {
            expect(anonymous.status).toBe(401);
            expect(anonymous.headers.get("www-authenticate")).toBe("Bearer");
            const signedIn = await fetch(`${served.url}/notes/1`, {
              method: "OPTIONS",
              headers: { Authorization: `Bearer ${await devToken(served.url, "alice")}` },
            });
            expect(signedIn.status).toBe(200);
          }
        } finally {
          await served.close();
        }
      }
    } finally {
      await remove();
    }
  }, 60_000);
});
