// The fixture template's sign-in as the runtime will use it: a plain node:http server that
// lets the issuer answer first, then looks the request's route up, asks the authorizer and
// either answers API Gateway's 401 or passes the claims on (here: echoes them).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalSignIn, type LocalSignIn } from "../../scripts/local/auth/sign-in.ts";
import { readTemplateAuth } from "../../scripts/local/auth/template-auth.ts";
import { loadCfnTemplate } from "../../scripts/local/cfn-template.ts";
import { resolveLocalApp } from "../../scripts/local/template.ts";

const fixturePath = fileURLToPath(new URL("../fixtures/auth/template.yaml", import.meta.url));

describe("the fixture template's sign-in in a request path", () => {
  let origin = "";
  let server: Server;
  let signIn: LocalSignIn;

  beforeAll(async () => {
    const template = loadCfnTemplate(fixturePath);
    const app = resolveLocalApp(template, { templatePath: fixturePath });
    const templateAuth = readTemplateAuth(template, { parameters: app.parameters });
    signIn = (await createLocalSignIn({ templateAuth, origin: () => origin })) as LocalSignIn;
    // The routes of the fixture, matched literally except for {id}.
    const routeOf = (method: string, path: string) => {
      const resourcePath = path.startsWith("/notes/") ? "/notes/{id}" : path;
      const routes = app.routes.filter((route) => route.resourcePath === resourcePath);
      const route =
        routes.find((candidate) => candidate.method === method) ??
        routes.find((candidate) => candidate.method === "ANY");
      return route && { apiLogicalId: route.apiLogicalId, resourcePath, method: route.method };
    };
    server = createServer(async (request, response) => {
      if (await signIn.handle(request, response)) return;
      const route = routeOf(request.method ?? "GET", new URL(request.url ?? "/", origin).pathname);
      if (!route) {
        response
          .writeHead(403, { "Content-Type": "application/json" })
          .end('{"message":"Missing Authentication Token"}');
        return;
      }
      const outcome = await signIn.authorize(route, request.headers);
      if (outcome && !outcome.allowed) {
        response.writeHead(outcome.failure.statusCode, { "Content-Type": "application/json" });
        response.end(JSON.stringify({ message: outcome.failure.message }));
        return;
      }
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ claims: outcome?.claims ?? null }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function tokens(username: string, scopes?: string[]) {
    const response = await fetch(`${origin}/auth/dev/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, scopes }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { access_token: string; id_token: string };
  }

  const call = async (method: string, path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${origin}${path}`, { method, headers });
    return { status: response.status, body: await response.json() };
  };

  it("serves one issuer, for the pool, at /auth of the API's origin", async () => {
    expect(signIn.issuers.map(({ pool, issuer }) => [pool.logicalId, issuer.issuer()])).toEqual([
      ["NotesUserPool", `${origin}/auth`],
    ]);
    const discovery = await (await fetch(`${origin}/auth/.well-known/openid-configuration`)).json();
    expect(discovery.issuer).toBe(`${origin}/auth`);
  });

  it("passes a signed-in request's claims on, and answers 401 without a token", async () => {
    const { access_token } = await tokens("alice");
    const signedIn = await call("GET", "/notes", { Authorization: `Bearer ${access_token}` });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.claims).toMatchObject({
      username: "alice",
      token_use: "access",
      scope: "openid email todos/read todos/write",
    });
    expect(await call("GET", "/notes")).toEqual({ status: 401, body: { message: "Unauthorized" } });
  });

  it("leaves OPTIONS and Authorizer: NONE routes open", async () => {
    expect(await call("OPTIONS", "/notes")).toEqual({ status: 200, body: { claims: null } });
    expect(await call("GET", "/health")).toEqual({ status: 200, body: { claims: null } });
  });

  it("applies a route's own scopes: a read-only token cannot reach PUT /notes/{id}", async () => {
    const reader = await tokens("alice", ["todos/read"]);
    const writer = await tokens("alice", ["todos/write"]);
    expect(
      (await call("PUT", "/notes/1", { Authorization: `Bearer ${reader.access_token}` })).status,
    ).toBe(401);
    expect(
      (await call("PUT", "/notes/1", { Authorization: `Bearer ${writer.access_token}` })).status,
    ).toBe(200);
    expect(
      (await call("GET", "/notes", { Authorization: `Bearer ${reader.access_token}` })).status,
    ).toBe(200);
  });

  it("refuses ID tokens where scopes are set, and takes them where the authorizer has none", async () => {
    const { id_token, access_token } = await tokens("bob");
    expect((await call("GET", "/notes", { Authorization: `Bearer ${id_token}` })).status).toBe(401);
    const profile = await call("GET", "/profile", { "X-Notes-Token": `Bearer ${id_token}` });
    expect(profile).toMatchObject({
      status: 200,
      body: { claims: { token_use: "id", "cognito:username": "bob" } },
    });
    expect(
      (await call("GET", "/profile", { "X-Notes-Token": `Bearer ${access_token}` })).status,
    ).toBe(401);
  });
});
