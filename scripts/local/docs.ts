// Swagger UI at /docs, served from node_modules (no CDN), over the repo's openapi.yaml
// read at request time, with its servers replaced by this runtime's own origin so
// "Try it out" calls the local API (and stays within the page's CSP). With a local sign-in,
// the contract's OAuth and OpenID Connect URLs point at the local issuer on that origin too,
// and Authorize signs in there with the authorization code flow and PKCE (a public client:
// the template's app client, no secret), coming back to /docs/oauth2-redirect.html.
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { isMap, parseDocument } from "yaml";
import type { LocalPage } from "./server.ts";

const swaggerUiDir = dirname(
  createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"),
);

/** Where the local issuer sends the browser back with its code (Swagger UI's own page). */
export const oauthRedirectPath = "/docs/oauth2-redirect.html";

/** The local sign-in, as Swagger UI's Authorize uses it. */
export interface DocsSignIn {
  /** The issuer's path on the API's origin, e.g. /auth. */
  issuerPath: () => string;
  /** The public app client Swagger UI signs in as. */
  clientId: string;
  /** The scopes Authorize ticks at first. */
  scopes: string[];
}

const assets: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "index.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-16x16.png": "image/png",
  "favicon-32x32.png": "image/png",
  "oauth2-redirect.html": "text/html; charset=utf-8",
  "oauth2-redirect.js": "text/javascript; charset=utf-8",
};

// Scripts only from this origin (no inline script: the initializer is a file too);
// inline styles are allowed because Swagger UI sets style attributes as it renders.
export const docsContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

const indexHtml = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>API docs (local)</title>
    <link rel="stylesheet" type="text/css" href="/docs/swagger-ui.css">
    <link rel="stylesheet" type="text/css" href="/docs/index.css">
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/swagger-ui-standalone-preset.js"></script>
    <script src="/docs/swagger-initializer.js"></script>
  </body>
</html>
`;

function initializerJs(signIn: DocsSignIn | undefined): string {
  const oauth = signIn
    ? `
  window.ui.initOAuth({
    clientId: ${JSON.stringify(signIn.clientId)},
    scopes: ${JSON.stringify(signIn.scopes)},
    usePkceWithAuthorizationCodeGrant: true,
  });`
    : "";
  return `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.yaml",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The public validator badge would call out to the internet.
    validatorUrl: null,
    oauth2RedirectUrl: window.location.origin + ${JSON.stringify(oauthRedirectPath)},
    // Signed in once, still signed in after a reload.
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });${oauth}
});
`;
}

function send(
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  extraHeaders: Record<string, string> = {},
) {
  response.writeHead(status, {
    "Content-Type": contentType,
    "Content-Length": Buffer.byteLength(body),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
    ...extraHeaders,
  });
  response.end(body);
}

/**
 * The contract as the browser should see it: servers point at the origin it came from, and
 * with a local sign-in so do the security schemes' URLs (the local issuer's endpoints).
 */
export async function localOpenApiYaml(
  openapiPath: string,
  origin: string,
  issuerPath?: string,
): Promise<string> {
  const document = parseDocument(await readFile(openapiPath, "utf8"));
  document.set("servers", [{ url: origin, description: "This local runtime (npm start)" }]);
  if (issuerPath !== undefined) {
    const issuer = `${origin}${issuerPath}`;
    const endpoints: Record<string, string> = {
      authorizationUrl: `${issuer}/oauth2/authorize`,
      tokenUrl: `${issuer}/oauth2/token`,
      refreshUrl: `${issuer}/oauth2/token`,
    };
    const schemes = document.getIn(["components", "securitySchemes"]);
    for (const name of isMap(schemes) ? schemes.items.map((pair) => String(pair.key)) : []) {
      const scheme = ["components", "securitySchemes", name];
      const type = document.getIn([...scheme, "type"]);
      if (type === "openIdConnect") {
        document.setIn(
          [...scheme, "openIdConnectUrl"],
          `${issuer}/.well-known/openid-configuration`,
        );
      } else if (type === "oauth2") {
        const flows = document.getIn([...scheme, "flows"]);
        for (const flow of isMap(flows) ? flows.items.map((pair) => String(pair.key)) : []) {
          for (const [field, url] of Object.entries(endpoints)) {
            if (document.hasIn([...scheme, "flows", flow, field])) {
              document.setIn([...scheme, "flows", flow, field], url);
            }
          }
        }
      }
    }
  }
  return document.toString();
}

/** Swagger UI over a contract: answers /docs, /docs/* and /openapi.yaml, nothing else. */
export function docsPage(openapiPath: string, signIn?: DocsSignIn): LocalPage {
  return (request, response, rawPath) =>
    handleDocsRequest(request, response, rawPath, openapiPath, signIn);
}

async function handleDocsRequest(
  request: IncomingMessage,
  response: ServerResponse,
  rawPath: string,
  openapiPath: string,
  signIn: DocsSignIn | undefined,
): Promise<boolean> {
  const isDocs = rawPath === "/docs" || rawPath.startsWith("/docs/");
  if (!isDocs && rawPath !== "/openapi.yaml") return false;
  if (request.method !== "GET" && request.method !== "HEAD") {
    send(response, 405, "application/json", JSON.stringify({ message: "Method Not Allowed" }), {
      Allow: "GET, HEAD",
    });
    return true;
  }
  if (rawPath === "/openapi.yaml") {
    const origin = `http://${request.headers.host ?? "localhost"}`;
    try {
      send(
        response,
        200,
        "application/yaml; charset=utf-8",
        await localOpenApiYaml(openapiPath, origin, signIn?.issuerPath()),
      );
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
      send(
        response,
        missing ? 404 : 500,
        "application/json",
        JSON.stringify({
          message: missing
            ? `no contract at ${openapiPath}`
            : `cannot read ${openapiPath}: ${(error as Error).message}`,
        }),
      );
    }
    return true;
  }
  const name = rawPath.replace(/^\/docs\/?/, "");
  if (name === "" || name === "index.html") {
    send(response, 200, "text/html; charset=utf-8", indexHtml, {
      "Content-Security-Policy": docsContentSecurityPolicy,
    });
  } else if (name === "swagger-initializer.js") {
    send(response, 200, "text/javascript; charset=utf-8", initializerJs(signIn));
  } else if (name in assets) {
    const contentType = assets[name] as string;
    send(response, 200, contentType, await readFile(join(swaggerUiDir, name)), {
      "Cache-Control": "max-age=3600",
      // The OAuth callback page is HTML too, and gets the same policy.
      ...(contentType.startsWith("text/html")
        ? { "Content-Security-Policy": docsContentSecurityPolicy }
        : {}),
    });
  } else {
    send(response, 404, "application/json", JSON.stringify({ message: "Not Found" }));
  }
  return true;
}
