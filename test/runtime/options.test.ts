// The runtime's other ways to run: docs over an edited contract, an existing `sam build`
// output, and an external DynamoDB endpoint.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { localDynamoDbClient, startLocalDynamoDb } from "../../scripts/local/dynamodb.ts";
import { scratchDir, startRuntime } from "./helpers.ts";

const contract = (title: string) => `openapi: 3.1.0
info:
  title: ${title}
  version: 1.0.0
servers:
  - url: https://abc.execute-api.us-east-1.amazonaws.com/v1
paths: {}
`;

describe("docs", () => {
  it("serves the contract as it is now, with this runtime as its only server", async () => {
    const [dir, removeDir] = await scratchDir("runtime-docs");
    const openapi = join(dir, "openapi.yaml");
    await writeFile(openapi, contract("First"));
    const runtime = await startRuntime({ openapi });
    try {
      const first = parse(await (await fetch(`${runtime.url}/openapi.yaml`)).text());
      expect(first.info.title).toBe("First");
      expect(first.servers).toEqual([{ url: runtime.url, description: expect.any(String) }]);

      await writeFile(openapi, contract("Edited"));
      const edited = parse(await (await fetch(`${runtime.url}/openapi.yaml`)).text());
      expect(edited.info.title).toBe("Edited");
    } finally {
      await runtime.close();
      await removeDir();
    }
  });

  it("serves Swagger UI from node_modules with a CSP and no inline script", async () => {
    const runtime = await startRuntime();
    try {
      const page = await fetch(`${runtime.url}/docs`);
      expect(page.status).toBe(200);
      const csp = page.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-eval");
      const html = await page.text();
      expect(html).not.toMatch(/<script>[^<]/);
      for (const src of html.matchAll(/(?:src|href)="(\/docs\/[^"]+)"/g)) {
        const asset = await fetch(`${runtime.url}${src[1]}`);
        expect(asset.status, src[1]).toBe(200);
        await asset.arrayBuffer();
      }
    } finally {
      await runtime.close();
    }
  });
});

describe("a `sam build` output (--build-dir)", () => {
  it("serves the built artifact of each function as it is", async () => {
    const [dir, removeDir] = await scratchDir("runtime-sam-build");
    try {
      for (const [functionId, file, body] of [
        ["EchoFunction", "echo.mjs", "from the sam build"],
        ["BehaviourFunction", "behaviour.mjs", "behaviour"],
        ["MisconfiguredFunction", "echo.mjs", "misconfigured"],
      ] as const) {
        await mkdir(join(dir, functionId), { recursive: true });
        await writeFile(
          join(dir, functionId, file),
          `export const handler = async () => ({ statusCode: 200, body: ${JSON.stringify(body)} });\n`,
        );
      }
      const runtime = await startRuntime({ buildDir: dir });
      try {
        const response = await fetch(`${runtime.url}/items`);
        expect(await response.text()).toBe("from the sam build");
      } finally {
        await runtime.close();
      }
    } finally {
      await removeDir();
    }
  });

  it("refuses to start when a function's artifact is missing", async () => {
    const [dir, removeDir] = await scratchDir("runtime-sam-missing");
    try {
      await expect(startRuntime({ buildDir: dir })).rejects.toThrow(/sam build/);
    } finally {
      await removeDir();
    }
  });
});

describe("an existing DynamoDB (--ddb-endpoint)", () => {
  it("creates the table there and points the functions at it", async () => {
    const external = await startLocalDynamoDb({
      host: "127.0.0.1",
      port: 0,
      inMemory: true,
      dataDir: "",
    });
    try {
      const runtime = await startRuntime({ ddbEndpoint: external.endpoint });
      try {
        expect(runtime.ddbEndpoint).toBe(external.endpoint);
        const response = await fetch(`${runtime.url}/items`);
        const body = (await response.json()) as { env: Record<string, string> };
        expect(body.env.DDB_ENDPOINT).toBe(external.endpoint);
        const client = localDynamoDbClient(external.endpoint, "us-east-1");
        const { TableNames } = await client.send(new ListTablesCommand({}));
        client.destroy();
        expect(TableNames).toContain("ItemsTable");
      } finally {
        await runtime.close();
      }
    } finally {
      await external.close();
    }
  });
});
