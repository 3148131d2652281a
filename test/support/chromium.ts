// Debian's Chromium for the browser tests, through playwright-core: one way to find it, launch
// it and keep every request it makes on loopback (a CDN asset or a public validator would be
// refused and shown to the test as a problem).
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

export const chromiumPath = "/usr/bin/chromium";

/** False where Chromium is not installed: the browser tests skip, saying so. */
export function chromiumAvailable(testName: string): boolean {
  const available = existsSync(chromiumPath);
  if (!available) {
    console.warn(`skipping ${testName}: no ${chromiumPath} (apt-get install -y chromium)`);
  }
  return available;
}

export interface LoopbackBrowser {
  context: BrowserContext;
  /** Requests refused because they left loopback (must stay empty). */
  offLoopback: string[];
  close(): Promise<void>;
}

/** Headless Chromium with a scratch profile; only 127.0.0.1 and localhost are reachable. */
export async function launchLoopbackChromium(): Promise<LoopbackBrowser> {
  const profileDir = await mkdtemp(join(tmpdir(), "chromium-profile-"));
  const context = await chromium.launchPersistentContext(profileDir, {
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
  const offLoopback: string[] = [];
  await context.route("**/*", (route) => {
    const { hostname } = new URL(route.request().url());
    if (hostname === "127.0.0.1" || hostname === "localhost") return route.continue();
    offLoopback.push(`request to ${route.request().url()}`);
    return route.abort();
  });
  return {
    context,
    offLoopback,
    close: async () => {
      await context.close();
      await rm(profileDir, { recursive: true, force: true });
    },
  };
}
