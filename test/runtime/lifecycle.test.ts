// What the runtime keeps and changes over time: data across restarts, code across edits.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { localDynamoDbClient } from "../../scripts/local/dynamodb.ts";
import { copyFixtures, eventually, scratchDir, startRuntime } from "./helpers.ts";

describe("the embedded DynamoDB", () => {
  it("keeps data in the data folder across a restart, and seeds only a new table", async () => {
    const [dataDir, removeDataDir] = await scratchDir("runtime-data");
    const seeded: string[] = [];
    const seed = async ({ tableName }: { tableName: string }) => {
      seeded.push(tableName);
    };
    try {
      const first = await startRuntime({ inMemory: false, dataDir, seed });
      expect(first.dataDir).toBe(dataDir);
      const client = localDynamoDbClient(first.ddbEndpoint, "us-east-1");
      await client.send(
        new PutItemCommand({
          TableName: first.tableName,
          Item: { pk: { S: "kept" }, note: { S: "written before the restart" } },
        }),
      );
      client.destroy();
      await first.close();
      expect(seeded).toEqual(["ItemsTable"]);

      const second = await startRuntime({ inMemory: false, dataDir, seed });
      try {
        const again = localDynamoDbClient(second.ddbEndpoint, "us-east-1");
        const { Item } = await again.send(
          new GetItemCommand({ TableName: second.tableName, Key: { pk: { S: "kept" } } }),
        );
        again.destroy();
        expect(Item?.note?.S).toBe("written before the restart");
        expect(seeded).toEqual(["ItemsTable"]);
      } finally {
        await second.close();
      }
    } finally {
      await removeDataDir();
    }
  });

  it("keeps nothing in memory mode", async () => {
    const seeded: string[] = [];
    const seed = async ({ tableName }: { tableName: string }) => {
      seeded.push(tableName);
    };
    for (let start = 0; start < 2; start++) {
      const runtime = await startRuntime({ inMemory: true, seed });
      expect(runtime.dataDir).toBeUndefined();
      await runtime.close();
    }
    expect(seeded).toEqual(["ItemsTable", "ItemsTable"]);
  });

  it("names the table as configured", async () => {
    const runtime = await startRuntime({ tableName: "items-local" });
    try {
      const response = await fetch(`${runtime.url}/items`);
      const body = (await response.json()) as { env: Record<string, string> };
      expect(runtime.tableName).toBe("items-local");
      expect(body.env.TABLE_NAME).toBe("items-local");
    } finally {
      await runtime.close();
    }
  });
});

describe("hot reload", () => {
  it("serves an edited function without a restart, and keeps the last good build on an error", async () => {
    const [dir, removeDir] = await scratchDir("runtime-reload");
    try {
      const template = await copyFixtures(dir);
      const runtime = await startRuntime({ template, watch: true });
      try {
        const version = async () => {
          const response = await fetch(`${runtime.url}/items`);
          return ((await response.json()) as { version: string }).version;
        };
        expect(await version()).toBe("v1");

        const source = join(dir, "functions/echo.ts");
        const original = await readFile(source, "utf8");
        await writeFile(source, original.replace('version: "v1"', 'version: "v2"'));
        await eventually(async () => ((await version()) === "v2" ? true : undefined), 10_000);

        await writeFile(
          source,
          `${original.replace('version: "v1"', 'version: "v3"')}\nconst = ;\n`,
        );
        await eventually(
          async () =>
            runtime.errors.some((line) => line.includes("build failed")) ? true : undefined,
          10_000,
        );
        expect(runtime.errors.join("\n")).toMatch(/echo\.ts:\d+:\d+/);
        expect(await version()).toBe("v2");

        await writeFile(source, original.replace('version: "v1"', 'version: "v4"'));
        await eventually(async () => ((await version()) === "v4" ? true : undefined), 10_000);
      } finally {
        await runtime.close();
      }
    } finally {
      await removeDir();
    }
  });

  it("lets a request in flight finish on the old code", async () => {
    const [dir, removeDir] = await scratchDir("runtime-drain");
    try {
      const template = await copyFixtures(dir);
      const runtime = await startRuntime({ template, watch: true });
      try {
        const source = join(dir, "functions/behaviour.ts");
        const original = await readFile(source, "utf8");
        // A warm instance, so the slow request is inside the function when the code changes.
        expect((await fetch(`${runtime.url}/behaviour/invocations`)).status).toBe(200);
        const inFlight = fetch(`${runtime.url}/behaviour/slow`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await writeFile(source, original.replace("JSON.stringify({ instance })", '"new code"'));
        const answer = await inFlight;
        expect(answer.status).toBe(200);
        expect(await answer.json()).toEqual({ instance: expect.any(String) });
        await eventually(async () => {
          const response = await fetch(`${runtime.url}/behaviour/slow`);
          return (await response.text()) === "new code" ? true : undefined;
        }, 10_000);
      } finally {
        await runtime.close();
      }
    } finally {
      await removeDir();
    }
  });
});
