// `npm run -s token -- alice [--scope todos/read]...`: prints an access token for alice.
//
// First it asks the local issuer of a running `npm start` (POST <url>/auth/dev/token, the
// documented shortcut). When nothing listens there, it signs the token itself with the keys
// that npm start keeps (.data/issuer/keys.json; made if missing, as npm start would make
// them), for the template's first app client and the issuer URL npm start would have at
// <url>: the token then works against the next `npm start` on that port and data folder.
// With --keys FILE it signs with that file and asks no one (whatever listens at <url>: a
// `sam local start-api` on npm start's port is no issuer). Under `npm start -- --in-memory`
// the keys live only in that process: keep it running.
//
// `npm run -s token -- --sam-env` writes what `sam local start-api` needs to take these tokens
// (the SAM CLI skips Cognito authorizers, so the function verifies them itself where
// AWS_SAM_LOCAL is set): env_local.json with, for every function of the template, the
// issuer URL, its JWKS (inline, and where a container reaches it) and the app client ids.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { decodeJwt } from "jose";
import { openIssuerKeys } from "./local/auth/keys.ts";
import { readTemplateAuth } from "./local/auth/template-auth.ts";
import { isValidUsername, mintAccessToken, mintIdToken } from "./local/auth/tokens.ts";
import { loadCfnTemplate } from "./local/cfn-template.ts";
import { resolveLocalApp } from "./local/template.ts";

export interface TokenRequest {
  username: string;
  /** Default: every scope the app client may ask for. */
  scopes?: string[];
  /** Where npm start serves the API (default http://127.0.0.1:3000). */
  url?: string;
  /**
   * Sign with these keys, asking no running issuer. Without: ask the npm start at `url`, and
   * when nothing listens there sign with .data/issuer/keys.json.
   */
  keysFile?: string;
  /** Default template.yaml. */
  templatePath?: string;
  /** The ID token instead (which the API refuses: for tests of that). */
  idToken?: boolean;
}

export interface ObtainedToken {
  token: string;
  /** Where it came from: the running issuer, or the keys file. */
  source: string;
}

const defaultUrl = "http://127.0.0.1:3000";

function isConnectionRefused(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } })?.cause;
  return cause?.code === "ECONNREFUSED";
}

export async function obtainToken(request: TokenRequest): Promise<ObtainedToken> {
  if (!isValidUsername(request.username)) {
    throw new Error("the username must be 1–128 characters without spaces");
  }
  const url = (request.url ?? defaultUrl).replace(/\/+$/, "");
  const issuer = `${url}/auth`;
  let answer: Response | undefined;
  if (request.keysFile === undefined) {
    try {
      answer = await fetch(`${issuer}/dev/token`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: request.username, scopes: request.scopes }),
        signal: AbortSignal.timeout(5000),
      });
    } catch (error) {
      if (!isConnectionRefused(error))
        throw new Error(`${issuer}/dev/token: ${(error as Error).message}`);
    }
  }
  if (answer) {
    const body = (await answer.json().catch(() => ({}))) as Record<string, string>;
    if (!answer.ok) {
      throw new Error(
        `${issuer}/dev/token answered ${answer.status}: ${body.error_description ?? body.error ?? "not a local issuer (does this npm start have sign-in?)"}`,
      );
    }
    const token = request.idToken ? body.id_token : body.access_token;
    if (!token) throw new Error(`${issuer}/dev/token gave no token`);
    return { token, source: `the local issuer of the npm start at ${url}` };
  }

  const templatePath = resolve(request.templatePath ?? "template.yaml");
  const template = loadCfnTemplate(templatePath);
  const app = resolveLocalApp(template, { templatePath });
  const [pool] = readTemplateAuth(template, { parameters: app.parameters }).userPools;
  const client = pool?.clients[0];
  if (!client) throw new Error(`${templatePath} declares no Cognito user pool with an app client`);
  const scopes = request.scopes ?? client.allowedScopes;
  const refused = scopes.filter((scope) => !client.allowedScopes.includes(scope));
  if (refused.length > 0) {
    throw new Error(`app client ${client.logicalId} may not ask for ${refused.join(", ")}`);
  }
  const keysFile = resolve(request.keysFile ?? ".data/issuer/keys.json");
  const keys = await openIssuerKeys({ file: keysFile });
  const grant = { issuer, clientId: client.clientId, username: request.username, scopes };
  return {
    token: request.idToken ? await mintIdToken(keys, grant) : await mintAccessToken(keys, grant),
    source: `the keys in ${keysFile}${request.keysFile === undefined ? ` (nothing listens at ${url})` : ""}`,
  };
}

export interface SamEnvRequest {
  /** Where npm start serves (or will serve) the API: the tokens' issuer is <url>/auth. */
  url?: string;
  keysFile?: string;
  templatePath?: string;
  /** The env-vars file to start from (default env_local.json, if it exists). */
  baseFile?: string;
  /** How a container reaches the host (default host.docker.internal). */
  dockerHost?: string;
}

/**
 * The SAM CLI env-vars file (`--env-vars`) that lets the function verify the local issuer's
 * tokens under sam local start-api: the base file's variables, plus for each function
 * LOCAL_ISSUER_URL (the tokens' iss), LOCAL_JWKS (the public keys themselves, so the function
 * needs no call), LOCAL_JWKS_URL (the same keys as a container reaches a running npm start)
 * and LOCAL_CLIENT_IDS (the template's app clients, comma-separated).
 */
export async function samEnvVars(request: SamEnvRequest = {}): Promise<Record<string, unknown>> {
  const url = new URL((request.url ?? defaultUrl).replace(/\/+$/, ""));
  const issuer = `${url.origin}/auth`;
  const templatePath = resolve(request.templatePath ?? "template.yaml");
  const template = loadCfnTemplate(templatePath);
  const app = resolveLocalApp(template, { templatePath });
  const pools = readTemplateAuth(template, { parameters: app.parameters }).userPools;
  const clientIds = pools.flatMap((pool) => pool.clients.map((client) => client.clientId));
  if (clientIds.length === 0) {
    throw new Error(`${templatePath} declares no Cognito user pool with an app client`);
  }
  const keys = await openIssuerKeys({
    file: resolve(request.keysFile ?? ".data/issuer/keys.json"),
  });
  const baseFile = resolve(request.baseFile ?? "env_local.json");
  let base: Record<string, unknown> = {};
  try {
    base = JSON.parse(await readFile(baseFile, "utf8")) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT" || request.baseFile) throw error;
  }
  const jwksUrl = new URL("/auth/.well-known/jwks.json", url);
  jwksUrl.hostname = request.dockerHost ?? "host.docker.internal";
  const signIn = {
    LOCAL_ISSUER_URL: issuer,
    LOCAL_JWKS: JSON.stringify(keys.jwks()),
    LOCAL_JWKS_URL: jwksUrl.href,
    LOCAL_CLIENT_IDS: clientIds.join(","),
  };
  const merged: Record<string, unknown> = { ...base };
  for (const fn of app.functions) {
    merged[fn.logicalId] = { ...(base[fn.logicalId] as object | undefined), ...signIn };
  }
  return merged;
}

const usage = `npm run -s token -- USERNAME [options]     prints an access token for USERNAME
npm run -s token -- --sam-env [--base FILE] [--out FILE]
                                            writes sam local start-api's env-vars file

  --scope SCOPE      a scope to ask for (repeatable; default: all the app client may have)
  --url URL          where npm start serves the API (${defaultUrl})
  --keys FILE        sign with these keys (made if missing), asking no running npm start
                     (default: ask it; when none runs, sign with .data/issuer/keys.json)
  -t, --template F   the template whose app client the token is for (template.yaml)
  --id-token         print the ID token instead
  --sub              print the user's sub instead (e.g. SEED_OWNER for npm run seed)
  --sam-env          write --base's variables plus the local issuer's (LOCAL_ISSUER_URL,
                     LOCAL_JWKS, LOCAL_JWKS_URL, LOCAL_CLIENT_IDS) for every function, to
                     --out (default .data/issuer/env_local.json, not in git); then
                     sam local start-api --env-vars .data/issuer/env_local.json
  --base FILE        the env-vars file --sam-env starts from (env_local.json; env_host.json
                     for a DynamoDB on the host)
  --out FILE         where --sam-env writes
`;

async function main() {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  const { values, positionals } = parsed;
  if (values["sam-env"] && !values.help && positionals.length === 0) {
    try {
      const out = resolve(values.out ?? ".data/issuer/env_local.json");
      const env = await samEnvVars({
        url: values.url,
        keysFile: values.keys,
        templatePath: values.template,
        baseFile: values.base,
      });
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, `${JSON.stringify(env, null, 2)}\n`);
      process.stderr.write(
        `wrote ${out}: sam local start-api --env-vars ${out} takes the tokens of npm run token\n`,
      );
    } catch (error) {
      process.stderr.write(`npm run token: ${(error as Error).message}\n`);
      process.exit(1);
    }
    return;
  }
  if (values.help || positionals.length !== 1) {
    process.stderr.write(usage);
    process.exit(values.help ? 0 : 2);
  }
  try {
    const { token, source } = await obtainToken({
      username: positionals[0] as string,
      scopes: values.scope,
      url: values.url,
      keysFile: values.keys,
      templatePath: values.template,
      idToken: values["id-token"],
    });
    process.stderr.write(`token from ${source}\n`);
    process.stdout.write(`${values.sub ? decodeJwt(token).sub : token}\n`);
  } catch (error) {
    process.stderr.write(`npm run token: ${(error as Error).message}\n`);
    process.exit(1);
  }
}

function parseCommandLine() {
  return parseArgs({
    allowPositionals: true,
    strict: true,
    options: {
      scope: { type: "string", multiple: true },
      url: { type: "string" },
      keys: { type: "string" },
      template: { type: "string", short: "t" },
      "id-token": { type: "boolean", default: false },
      sub: { type: "boolean", default: false },
      "sam-env": { type: "boolean", default: false },
      base: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
