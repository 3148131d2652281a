// The issuer's sign-in page as a person uses it, in headless Chromium: its CSP lets the form
// post and follow the redirect to the client's callback on another origin, and the code it
// brings back is exchanged for tokens with the PKCE verifier.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeJwt } from "jose";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalIssuer } from "../../scripts/local/auth/issuer.ts";
import { openIssuerKeys } from "../../scripts/local/auth/keys.ts";
import {
  chromiumAvailable,
  type LoopbackBrowser,
  launchLoopbackChromium,
} from "../support/chromium.ts";

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe.skipIf(!chromiumAvailable("the sign-in page test"))("the sign-in page in Chromium", () => {
  const clientId = "localclient0000000000000001";
  let issuerOrigin = "";
  let callbackUrl = "";
  let issuerServer: Server;
  let appServer: Server;
  let chromium: LoopbackBrowser;
  let browser: BrowserContext;
  // Console errors of the pages, and every request that tried to leave loopback.
  let pageProblems: string[] = [];

  beforeAll(async () => {
    // The client's app: another origin, whose callback page just says it got a code.
    appServer = createServer((_request, response) => {
      response.writeHead(200, { "Content-Type": "text/html" }).end("<p>back in the app</p>");
    });
    callbackUrl = `${await listen(appServer)}/callback`;
    const keys = await openIssuerKeys();
    const issuer = createLocalIssuer({
      keys,
      issuer: () => `${issuerOrigin}/auth`,
      clients: [
        {
          clientId,
          callbackUrls: [callbackUrl],
          logoutUrls: [],
          allowedScopes: ["openid", "todos/read"],
        },
      ],
    });
    issuerServer = createServer(async (request, response) => {
      if (!(await issuer.handle(request, response))) response.writeHead(404).end();
    });
    issuerOrigin = await listen(issuerServer);

    chromium = await launchLoopbackChromium();
    browser = chromium.context;
    pageProblems = chromium.offLoopback;
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await new Promise((resolve) => issuerServer?.close(resolve));
    await new Promise((resolve) => appServer?.close(resolve));
  });

  it("signs alice in and brings the browser back to the app with a code", async () => {
    const page = await browser.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") pageProblems.push(message.text());
    });
    const verifier = randomBytes(32).toString("base64url");
    const authorize = new URL(`${issuerOrigin}/auth/oauth2/authorize`);
    authorize.search = new URLSearchParams({
      response_type: "code",
      client_id: clientId,
      redirect_uri: callbackUrl,
      scope: "openid todos/read",
      state: "from-the-app",
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
    }).toString();

    await page.goto(authorize.href);
    expect(new URL(page.url()).pathname).toBe("/auth/login");
    // The stylesheet applied: CSP style-src 'self' let it in.
    expect(
      await page.locator("button").evaluate((button) => getComputedStyle(button).backgroundColor),
    ).toBe("rgb(31, 111, 235)");
    await page.fill("#username", "alice");
    await page.fill("#password", "anything");
    await Promise.all([page.waitForURL(`${callbackUrl}?**`), page.click("button[type=submit]")]);

    const back = new URL(page.url());
    expect(back.searchParams.get("state")).toBe("from-the-app");
    const response = await fetch(`${issuerOrigin}/auth/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: clientId,
        code: back.searchParams.get("code") as string,
        redirect_uri: callbackUrl,
        code_verifier: verifier,
      }),
    });
    expect(response.status).toBe(200);
    const tokens = await response.json();
    expect(decodeJwt(tokens.access_token)).toMatchObject({
      username: "alice",
      scope: "openid todos/read",
    });
    expect(pageProblems).toEqual([]);
  });
});
