// Swagger UI at /docs as a person uses it, in headless Chromium: the contract's
// operations are listed, and "Try it out" reaches the running API, signed in through
// Authorize (the local issuer's sign-in page, authorization code with PKCE): alice's todo
// is hers, and bob, signed in after her, does not see it.
import type { BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { productOptions, type StartedRuntime, startRuntime } from "../runtime/helpers.ts";
import {
  chromiumAvailable,
  type LoopbackBrowser,
  launchLoopbackChromium,
} from "../support/chromium.ts";

describe.skipIf(!chromiumAvailable("the Swagger UI test"))("Swagger UI at /docs", () => {
  let runtime: StartedRuntime;
  let chromium: LoopbackBrowser;
  let browser: BrowserContext;
  // Console errors of the pages, and every request that tried to leave loopback.
  let pageProblems: string[] = [];

  beforeAll(async () => {
    runtime = await startRuntime(productOptions());
    chromium = await launchLoopbackChromium();
    browser = chromium.context;
    pageProblems = chromium.offLoopback;
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await runtime?.close();
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

  /** Opens an operation, fills its body if given, executes it; returns its status and body. */
  async function tryItOut(page: Page, operationId: string, body?: unknown) {
    // Swagger UI names each operation's block operations-<tag>-<operationId>.
    const operation = page.locator(`#operations-todos-${operationId}`);
    if (!(await operation.locator(".opblock-body").isVisible())) {
      await operation.locator(".opblock-summary").click();
    }
    const tryButton = operation.getByRole("button", { name: "Try it out" });
    // The block renders its buttons a moment after it opens: wait for one of the two (Cancel
    // when Try it out is already on), or isVisible() may look before either is there.
    await tryButton
      .or(operation.getByRole("button", { name: "Cancel" }))
      .first()
      .waitFor();
    if (await tryButton.isVisible()) await tryButton.click();
    if (body !== undefined) {
      await operation.locator("textarea.body-param__text").fill(JSON.stringify(body));
    }
    const previous = await responseOf(operation).requestId();
    await operation.getByRole("button", { name: "Execute" }).click();
    return responseOf(operation).after(previous);
  }

  function responseOf(operation: Locator) {
    const row = operation.locator(".live-responses-table tbody tr.response").first();
    const requestId = async () =>
      (await row.count()) === 0
        ? undefined
        : ((await row.locator(".response-col_description").textContent()) ?? "");
    return {
      requestId,
      async after(previous: string | undefined) {
        await expect
          .poll(async () => (await row.count()) > 0 && (await requestId()) !== previous, {
            timeout: 20_000,
          })
          .toBe(true);
        return {
          status: Number((await row.locator(".response-col_status").textContent())?.trim()),
          body: (await row.locator(".response-col_description").textContent()) ?? "",
          url: (await operation.locator(".request-url").textContent()) ?? "",
        };
      },
    };
  }

  /** Authorize → the OAuth 2.0 scheme's Authorize → the sign-in page in its popup → back. */
  async function signIn(page: Page, username: string) {
    await page.locator(".auth-wrapper .btn.authorize").click();
    const scheme = page.locator(".auth-container").filter({ hasText: "signIn (OAuth2" });
    // The template's app client and the API's scopes, from the runtime's initOAuth.
    expect(await scheme.locator("input[id^=client_id]").inputValue()).toMatch(/^[a-z0-9]{26}$/);
    const [popup] = await Promise.all([
      page.waitForEvent("popup"),
      scheme.locator("button.authorize").click(),
    ]);
    await popup.waitForURL(/\/auth\/login/);
    await popup.fill("#username", username);
    await popup.fill("#password", "any password");
    await Promise.all([popup.waitForEvent("close"), popup.click("button[type=submit]")]);
    await scheme.locator("button", { hasText: "Logout" }).waitFor({ timeout: 20_000 });
    await page.locator(".modal-ux button.btn-done").first().click();
  }

  async function signOut(page: Page) {
    await page.locator(".auth-wrapper .btn.authorize").click();
    const scheme = page.locator(".auth-container").filter({ hasText: "signIn (OAuth2" });
    await scheme.locator("button", { hasText: "Logout" }).click();
    await page.locator(".modal-ux button.btn-done").first().click();
  }

  it("answers Try it out 401 before signing in, and lists the sign-in schemes at the local issuer", async () => {
    const page = await browser.newPage();
    await page.goto(`${runtime.url}/docs`);
    await page.locator(".opblock").first().waitFor({ timeout: 20_000 });
    const answer = await tryItOut(page, "listTodos");
    expect(answer.status).toBe(401);
    // The request went to this runtime, not to a server listed in the contract.
    expect(answer.url).toContain(runtime.url);
    const contract = await (await fetch(`${runtime.url}/openapi.yaml`)).text();
    expect(contract).toContain(`authorizationUrl: ${runtime.url}/auth/oauth2/authorize`);
    expect(contract).toContain(`tokenUrl: ${runtime.url}/auth/oauth2/token`);
    await page.close();
  });

  it("signs alice in through Authorize (PKCE), creates a todo and lists it; bob does not see it", {
    timeout: 90_000,
  }, async () => {
    const page = await browser.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") pageProblems.push(message.text());
    });
    await page.goto(`${runtime.url}/docs`);
    await page.locator(".opblock").first().waitFor({ timeout: 20_000 });
    const title = `alice's todo from Swagger UI ${Date.now()}`;

    await signIn(page, "alice");
    const created = await tryItOut(page, "createTodo", { title });
    expect(created.status).toBe(201);
    const listed = await tryItOut(page, "listTodos");
    expect(listed.status).toBe(200);
    expect(listed.body).toContain(title);

    await signOut(page);
    await signIn(page, "bob");
    const bobsList = await tryItOut(page, "listTodos");
    expect(bobsList.status).toBe(200);
    expect(bobsList.body).not.toContain(title);
    expect(
      pageProblems.filter((problem) => /Content Security Policy|request to/.test(problem)),
    ).toEqual([]);
    await page.close();
  });
});
