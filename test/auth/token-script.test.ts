// `npm run token`: from a running issuer over HTTP, or from the keys file when none runs.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalIssuer } from "../../scripts/local/auth/issuer.ts";
import { openIssuerKeys } from "../../scripts/local/auth/keys.ts";
import { obtainToken, samEnvVars } from "../../scripts/token.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const fixture = join(root, "test/fixtures/auth/template.yaml");
const clientId = "localclient0000000000000001";

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function unusedUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return url;
}

describe("npm run token", () => {
  let url: string;
  let server: Server;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "token-script-"));
    const keys = await openIssuerKeys();
    const issuer = createLocalIssuer({
      keys,
      issuer: () => `${url}/auth`,
      clients: [
        {
          clientId,
          callbackUrls: [],
          logoutUrls: [],
          allowedScopes: ["todos/read", "todos/write"],
        },
      ],
    });
    server = createServer(async (request, response) => {
      if (!(await issuer.handle(request, response))) response.writeHead(404).end();
    });
    url = await listen(server);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dataDir, { recursive: true, force: true });
  });

  it("asks the running issuer when one answers", async () => {
    const { token, source } = await obtainToken({ username: "alice", scopes: ["todos/read"], url });
    expect(source).toContain(url);
    expect(decodeJwt(token)).toMatchObject({
      iss: `${url}/auth`,
      username: "alice",
      scope: "todos/read",
      client_id: clientId,
    });
  });

  it("signs with the keys file for the template's app client when nothing listens", async () => {
    const nowhere = await unusedUrl();
    const keysFile = join(dataDir, "issuer", "keys.json");
    const { token, source } = await obtainToken({
      username: "bob",
      url: nowhere,
      keysFile,
      templatePath: fixture,
    });
    expect(source).toContain(keysFile);
    // The issuer npm start would be at that URL, with the keys it would read.
    const keys = await openIssuerKeys({ file: keysFile });
    const { payload } = await jwtVerify(token, createLocalJWKSet(keys.jwks()), {
      issuer: `${nowhere}/auth`,
      algorithms: ["RS256"],
    });
    expect(payload).toMatchObject({
      token_use: "access",
      username: "bob",
      scope: "openid email todos/read todos/write",
      sub: keys.subjectOf("bob"),
    });
    await expect(
      obtainToken({
        username: "bob",
        url: nowhere,
        keysFile,
        templatePath: fixture,
        scopes: ["todos/admin"],
      }),
    ).rejects.toThrow(/may not ask for todos\/admin/);
  });

  it("with a keys file given signs with it and asks no one, even where an issuer runs", async () => {
    const keysFile = join(dataDir, "given", "keys.json");
    const { token, source } = await obtainToken({
      username: "dave",
      url,
      keysFile,
      templatePath: fixture,
    });
    expect(source).toBe(`the keys in ${keysFile}`);
    const keys = await openIssuerKeys({ file: keysFile });
    const { payload } = await jwtVerify(token, createLocalJWKSet(keys.jwks()), {
      issuer: `${url}/auth`,
      algorithms: ["RS256"],
    });
    expect(payload.sub).toBe(keys.subjectOf("dave"));
  });

  it("prints only the token on stdout, as a command", async () => {
    const run = promisify(execFile);
    const node = join(root, "node_modules/.bin/node");
    const { stdout, stderr } = await run(
      node,
      ["scripts/token.ts", "carol", "--url", url, "--scope", "todos/write"],
      {
        cwd: root,
      },
    );
    expect(stdout.trim().split(".")).toHaveLength(3);
    expect(decodeJwt(stdout.trim())).toMatchObject({ username: "carol", scope: "todos/write" });
    expect(stderr).toContain("token from the local issuer");
    await expect(
      run(node, ["scripts/token.ts", "carol", "--url", `${url}/not-npm-start`], { cwd: root }),
    ).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("answered 404"),
    });
  });
});

describe("npm run token -- --sam-env", () => {
  it("writes the env-vars file sam local start-api needs to verify the same tokens", async () => {
    const dir = await mkdtemp(join(tmpdir(), "token-sam-env-"));
    try {
      const keysFile = join(dir, "keys.json");
      const base = join(dir, "env_local.json");
      await writeFile(
        base,
        JSON.stringify({ Parameters: { A: "b" }, EchoFunction: { KEEP: "1" } }),
      );
      const url = await unusedUrl();
      const env = (await samEnvVars({ url, keysFile, templatePath: fixture, baseFile: base })) as {
        Parameters: unknown;
        EchoFunction: Record<string, string>;
      };
      expect(env.Parameters).toEqual({ A: "b" });
      const fn = env.EchoFunction;
      expect(fn).toMatchObject({
        KEEP: "1",
        LOCAL_ISSUER_URL: `${url}/auth`,
        LOCAL_JWKS_URL: `http://host.docker.internal:${new URL(url).port}/auth/.well-known/jwks.json`,
      });
      // A token of `npm run token` (nothing running: signed with the kept keys) verifies
      // against what the file says, with no call to anyone.
      const { token } = await obtainToken({
        username: "alice",
        url,
        keysFile,
        templatePath: fixture,
      });
      const { payload } = await jwtVerify(
        token,
        createLocalJWKSet(JSON.parse(fn.LOCAL_JWKS as string)),
        { issuer: fn.LOCAL_ISSUER_URL, algorithms: ["RS256"] },
      );
      expect((fn.LOCAL_CLIENT_IDS as string).split(",")).toContain(payload.client_id);

      const run = promisify(execFile);
      const out = join(dir, "out", "env.json");
      const { stderr } = await run(
        join(root, "node_modules/.bin/node"),
        [
          "scripts/token.ts",
          "--sam-env",
          "--base",
          base,
          "--out",
          out,
          "--keys",
          keysFile,
          "-t",
          fixture,
          "--url",
          url,
        ],
        { cwd: root },
      );
      expect(stderr).toContain(`sam local start-api --env-vars ${out}`);
      const written = JSON.parse(await readFile(out, "utf8"));
      expect(written.EchoFunction).toMatchObject({ KEEP: "1", LOCAL_JWKS: fn.LOCAL_JWKS });
      expect(written.Parameters).toEqual({ A: "b" });
      // --sub: alice's sub, as the tokens carry it (SEED_OWNER for npm run seed).
      const sub = await run(
        join(root, "node_modules/.bin/node"),
        ["scripts/token.ts", "alice", "--sub", "--keys", keysFile, "-t", fixture, "--url", url],
        { cwd: root },
      );
      expect(sub.stdout.trim()).toBe(payload.sub);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
