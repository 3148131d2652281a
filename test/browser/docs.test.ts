// Swagger UI at /docs as a person uses it, in headless Chromium: the contract's
// operations are listed, and "Try it out" reaches the running API.
import { existsSync } from "node:fs";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  productOptions,
  type StartedRuntime,
  scratchDir,
  startRuntime,
} from "../runtime/helpers.ts";

const chromiumPath = "/usr/bin/chromium";
const hasChromium = existsSync(chromiumPath);
if (!hasChromium) {
  console.warn(`skipping the Swagger UI test: no ${chromiumPath} (apt-get install -y chromium)`);
}

describe.skipIf(!hasChromium)("Swagger UI at /docs", () => {
  let runtime: StartedRuntime;
  let browser: BrowserContext;
  let removeProfile: () => Promise<void>;
  const pageProblems: string[] = [];

  beforeAll(async () => {
    runtime = await startRuntime(productOptions());
    const [profileDir, remove] = await scratchDir("chromium-profile");
    removeProfile = remove;
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: chromiumPath,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    // Nothing may leave loopback: a CDN asset or the public validator would show up here.
    await browser.route("**/*", (route) => {
      const { hostname } = new URL(route.request().url());
      if (hostname === "127.0.0.1" || hostname === "localhost") return route.continue();
      pageProblems.push(`request to ${route.request().url()}`);
      return route.abort();
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await runtime?.close();
    await removeProfile?.();
  });

  it("lists the five operations of openapi.yaml, within its CSP", async () => {
    const page = await browser.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") pageProblems.push(message.text());
    });
    const response = await page.goto(`${runtime.url}/docs`);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.locator(".opblock").first().waitFor({ timeout: 20_000 });
    const operations = await page.locator(".opblock .opblock-summary-method").allTextContents();
    const paths = await page.locator(".opblock .opblock-summary-path").allTextContents();
    const listed = operations.map(
      (method, index) => `${method} ${paths[index]?.replace(/\u200b/g, "")}`,
    );
    expect(listed.sort()).toEqual(
      [
        "DELETE /todos/{id}",
        "GET /todos",
        "GET /todos/{id}",
        "POST /todos",
        "PUT /todos/{id}",
      ].sort(),
    );
    expect(
      pageProblems.filter((problem) => /Content Security Policy|request to/.test(problem)),
    ).toEqual([]);
    await page.close();
  });

  it("shows 200 for Try it out on GET /todos", async () => {
    const page = await browser.newPage();
    await page.goto(`${runtime.url}/docs`);
    // Swagger UI names each operation's block operations-<tag>-<operationId>.
    const operation = page.locator("#operations-todos-listTodos");
    await operation.locator(".opblock-summary").click();
    await operation.getByRole("button", { name: "Try it out" }).click();
    await operation.getByRole("button", { name: "Execute" }).click();
    const status = operation.locator(".live-responses-table tbody .response-col_status").first();
    await status.waitFor({ timeout: 20_000 });
    expect((await status.textContent())?.trim()).toMatch(/^200/);
    // The request went to this runtime, not to a server listed in the contract.
    expect(await operation.locator(".request-url").textContent()).toContain(runtime.url);
    await page.close();
  });
});
