// The runtime answers like API Gateway (REST, Lambda proxy) in front of Lambda:
// checked over real HTTP against the fixture template's functions.

import { readFile, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFixtures, type StartedRuntime, scratchDir, startRuntime } from "./helpers.ts";

interface EchoBody {
  instance: string;
  event: APIGatewayProxyEvent;
  context: Record<string, unknown>;
  env: Record<string, string | undefined>;
}

let runtime: StartedRuntime;

beforeAll(async () => {
  runtime = await startRuntime({
    envVars: {
      Parameters: { Greeting: "hello-from-env-file" },
      EchoFunction: {
        OVERRIDDEN: "env-file",
        FROM_ENV_FILE: "env-file",
        UNDECLARED: "passed-anyway",
        DDB_ENDPOINT: "http://must-not-win.invalid",
      },
    },
  });
});

afterAll(async () => {
  await runtime?.close();
});

async function echo(path: string, init?: RequestInit): Promise<EchoBody> {
  const response = await fetch(`${runtime.url}${path}`, init);
  expect(response.status).toBe(200);
  return (await response.json()) as EchoBody;
}

describe("events as API Gateway makes them", () => {
  it("gives every request a fresh requestId and requestTimeEpoch", async () => {
    const first = await echo("/items");
    await new Promise((resolve) => setTimeout(resolve, 20));
    const sentSecond = Date.now();
    const second = await echo("/items");
    expect(first.event.requestContext.requestId).not.toBe(second.event.requestContext.requestId);
    expect(second.event.requestContext.requestTimeEpoch).toBeGreaterThanOrEqual(sentSecond);
    expect(first.event.requestContext.requestTimeEpoch).toBeLessThan(sentSecond);
    expect(first.context.awsRequestId).toBe(first.event.requestContext.requestId);
  });

  it("answers with the requestId in x-amzn-RequestId", async () => {
    const response = await fetch(`${runtime.url}/items`);
    const body = (await response.json()) as EchoBody;
    expect(response.headers.get("x-amzn-requestid")).toBe(body.event.requestContext.requestId);
  });

  it("keeps the stage out of the top-level path but in requestContext.path", async () => {
    const { event } = await echo("/items/abc%20def?x=1");
    expect(event.resource).toBe("/items/{id}");
    expect(event.path).toBe("/items/abc def");
    expect(event.pathParameters).toEqual({ id: "abc def" });
    expect(event.requestContext).toMatchObject({
      stage: "v1",
      path: "/v1/items/abc%20def",
      resourcePath: "/items/{id}",
      httpMethod: "GET",
      accountId: "123456789012",
      protocol: "HTTP/1.1",
    });
    expect(event.requestContext.resourceId).toMatch(/^\w{6}$/);
    expect(event.requestContext.apiId).toMatch(/^\w{10}$/);
    expect(event.requestContext.domainName).toBe(new URL(runtime.url).host);
    expect(event.requestContext.identity.sourceIp).toBe("127.0.0.1");
    expect(event.stageVariables).toBeNull();
  });

  it("passes the real user agent", async () => {
    const { event } = await echo("/items", { headers: { "User-Agent": "runtime-test/1.0" } });
    expect(event.requestContext.identity.userAgent).toBe("runtime-test/1.0");
  });

  it("gives null query parameters when there are none", async () => {
    const { event } = await echo("/items");
    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
    expect(event.pathParameters).toBeNull();
    expect(event.body).toBeNull();
  });

  it("keeps every value of a repeated query parameter and header", async () => {
    const { event } = await new Promise<EchoBody>((resolve, reject) => {
      // fetch folds repeated headers into one; node:http sends each line as given.
      const request = httpRequest(`${runtime.url}/items?tag=a&tag=b%20c&one=1`, {
        headers: ["Host", new URL(runtime.url).host, "X-Repeated", "first", "X-Repeated", "second"],
      } as never);
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
      });
      request.on("error", reject);
      request.end();
    });
    expect(event.multiValueQueryStringParameters).toEqual({ tag: ["a", "b c"], one: ["1"] });
    expect(event.queryStringParameters).toEqual({ tag: "b c", one: "1" });
    expect(event.multiValueHeaders["X-Repeated"]).toEqual(["first", "second"]);
    expect(event.headers["X-Repeated"]).toBe("second");
  });

  it("passes a JSON body as text and a binary body as base64", async () => {
    const json = await echo("/items", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ title: "é" }),
    });
    expect(json.event.isBase64Encoded).toBe(false);
    expect(json.event.body).toBe('{"title":"é"}');

    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const binary = await echo("/items", {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: bytes,
    });
    expect(binary.event.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary.event.body as string, "base64")).toEqual(bytes);
  });

  it("gives the function a Lambda context", async () => {
    const { context } = await echo("/items");
    expect(context).toMatchObject({
      functionName: "EchoFunction",
      functionVersion: "$LATEST",
      memoryLimitInMB: "256",
      invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:EchoFunction",
      logGroupName: "/aws/lambda/EchoFunction",
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(context.logStreamName).toEqual(expect.any(String));
    expect(context.remainingTimeInMillis).toBeGreaterThan(3_000);
    expect(context.remainingTimeInMillis).toBeLessThanOrEqual(5_000);
  });

  it("keeps an instance warm between requests", async () => {
    const first = await echo("/items");
    const second = await echo("/items");
    expect(second.instance).toBe(first.instance);
  });

  it("sends the function's console output to the server's output", async () => {
    const { event } = await echo("/items");
    expect(runtime.functionOutput()).toContain(event.requestContext.requestId);
  });

  it("logs one line per request with method, path, status, duration and requestId", async () => {
    const { event } = await echo("/items?logged=1");
    const line = runtime.logs.find((entry) => entry.includes(event.requestContext.requestId));
    expect(line).toMatch(/^GET \/items\?logged=1 200 [\d.]+ ms [\w-]+$/);
  });
});

describe("routing as API Gateway routes", () => {
  it("prefers a static segment to a {param}", async () => {
    const { event } = await echo("/items/special");
    expect(event.resource).toBe("/items/special");
    expect(event.pathParameters).toBeNull();
  });

  it("passes a greedy {path+} with its slashes, decoded", async () => {
    const { event } = await echo("/files/a/b%2Fc/d.txt");
    expect(event.resource).toBe("/files/{path+}");
    expect(event.pathParameters).toEqual({ path: "a/b/c/d.txt" });
  });

  it("answers 403 Missing Authentication Token for a path the template does not route", async () => {
    for (const path of ["/nowhere", "/files", "/items/a/b", "/"]) {
      const response = await fetch(`${runtime.url}${path}`);
      expect(response.status, path).toBe(403);
      expect(await response.json()).toEqual({ message: "Missing Authentication Token" });
    }
  });

  it("shapes its own answers with the Api's GatewayResponses", async () => {
    const unrouted = await fetch(`${runtime.url}/nowhere`);
    expect(unrouted.status).toBe(403);
    expect(unrouted.headers.get("x-gateway")).toBe("4xx");
    const failed = await fetch(`${runtime.url}/behaviour/throw`);
    expect(failed.status).toBe(502);
    expect(failed.headers.get("x-gateway")).toBe("5xx");
    expect(await failed.json()).toEqual({
      message: "Internal server error",
      requestId: failed.headers.get("x-amzn-requestid"),
    });
  });

  it("answers 403 for a method the resource does not have", async () => {
    const response = await fetch(`${runtime.url}/items`, { method: "DELETE" });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: "Missing Authentication Token" });
  });

  it("answers CORS preflight from the Api's Cors settings", async () => {
    const response = await fetch(`${runtime.url}/items`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "POST",
      },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(response.headers.get("access-control-allow-methods")).toBe("GET,OPTIONS,POST");
    expect(response.headers.get("access-control-allow-headers")).toBe("Content-Type,X-Custom");
    expect(response.headers.get("access-control-max-age")).toBe("600");
    expect(await response.text()).toBe("");
  });
});

describe("responses as API Gateway maps them", () => {
  it("merges headers and multiValueHeaders", async () => {
    const response = await fetch(`${runtime.url}/items`);
    expect(response.headers.get("x-single")).toBe("one");
    expect(response.headers.get("x-multi")).toBe("a, b");
  });

  it("decodes a base64 body marked isBase64Encoded", async () => {
    const response = await fetch(`${runtime.url}/behaviour/binary`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await response.arrayBuffer())).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x10]),
    );
  });

  it("types an untyped answer as JSON, but not a 304, which has no body", async () => {
    const untyped = await fetch(`${runtime.url}/behaviour/invocations`);
    expect(untyped.headers.get("content-type")).toBe("application/json");
    const notModified = await fetch(`${runtime.url}/behaviour/not-modified`);
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("etag")).toBe('"7"');
    expect(notModified.headers.get("content-type")).toBeNull();
  });

  it.each([
    ["throw", "a thrown error"],
    ["malformed", "a body that is not a string"],
    ["undefined", "no result"],
    ["header-injection", "a line break in a header value (Node cannot send it)"],
  ])("answers 502 Internal server error for %s (%s)", async (kind) => {
    const response = await fetch(`${runtime.url}/behaviour/${kind}`);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ message: "Internal server error" });
  });

  it("answers 502 for an unhandled rejection and replaces the instance, as Lambda does", async () => {
    const failed = await fetch(`${runtime.url}/behaviour/unhandled-rejection`);
    expect(failed.status).toBe(502);
    expect(runtime.errors.join("\n")).toMatch(/Runtime\.UnhandledPromiseRejection/);
    const next = await fetch(`${runtime.url}/behaviour/invocations`);
    expect(next.status).toBe(200);
    expect(await next.json()).toEqual({ invocations: 1 });
  });

  it("answers 502 when the handler cannot be loaded, and says why in the log", async () => {
    const response = await fetch(`${runtime.url}/misconfigured`);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ message: "Internal server error" });
    expect(runtime.errors.join("\n")).toMatch(/Runtime\.HandlerNotFound: echo\.notExported/);
  });

  it("answers 502 when the function runs past its Timeout, then serves the next request", async () => {
    const timedOut = await fetch(`${runtime.url}/behaviour/sleep`);
    expect(timedOut.status).toBe(502);
    expect(await timedOut.json()).toMatchObject({ message: "Internal server error" });
    expect(runtime.errors.join("\n")).toMatch(/Task timed out after 1\.00 seconds/);
    const next = await fetch(`${runtime.url}/behaviour/invocations`);
    expect(next.status).toBe(200);
    // A fresh instance: the timed-out one was stopped, so its count started over.
    expect(await next.json()).toEqual({ invocations: 1 });
  });

  it("stops even a function that never yields (busy loop) at its Timeout", async () => {
    const timedOut = await fetch(`${runtime.url}/behaviour/spin`);
    expect(timedOut.status).toBe(502);
    const next = await fetch(`${runtime.url}/behaviour/invocations`);
    expect(next.status).toBe(200);
  });

  it("runs concurrent requests on more instances, one request at a time each", async () => {
    const answers = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const response = await fetch(`${runtime.url}/items?sleepMs=1500`);
        expect(response.status).toBe(200);
        return (await response.json()) as EchoBody & { startedAt: number; endedAt: number };
      }),
    );
    expect(new Set(answers.map((answer) => answer.instance)).size).toBeGreaterThan(1);
    for (const one of answers) {
      for (const other of answers) {
        if (one === other || one.instance !== other.instance) continue;
        const overlap = one.startedAt < other.endedAt && other.startedAt < one.endedAt;
        expect(overlap, "two requests at once on one instance").toBe(false);
      }
    }
  });
});

describe("scaling with concurrency", () => {
  it("keeps starting instances while requests wait, a few cold starts at a time", async () => {
    const scaling = await startRuntime({ maxInstances: 6 });
    try {
      const answers = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const response = await fetch(`${scaling.url}/items?sleepMs=3000`);
          return (await response.json()) as EchoBody;
        }),
      );
      // Without more cold starts after the first few, two instances would serve all six in turn.
      expect(new Set(answers.map((answer) => answer.instance)).size).toBeGreaterThanOrEqual(4);
    } finally {
      await scaling.close();
    }
  });
});

describe("environment", () => {
  it("layers template < env-vars file < local DynamoDB endpoint", async () => {
    const { env } = await echo("/items");
    expect(env).toMatchObject({
      FROM_GLOBALS: "globals",
      OVERRIDDEN: "env-file",
      FROM_ENV_FILE: "env-file",
      TABLE_NAME: "ItemsTable",
      TABLE_ARN: "arn:aws:dynamodb:us-east-1:123456789012:table/ItemsTable",
      SUBSTITUTED: "ItemsTable@us-east-1",
      DDB_ENDPOINT: runtime.ddbEndpoint,
      AWS_ACCESS_KEY_ID: "local",
      AWS_REGION: "us-east-1",
      AWS_LAMBDA_FUNCTION_NAME: "EchoFunction",
    });
  });

  it("resolves a !Ref to a Parameter from the env-vars file's Parameters", async () => {
    const { env } = await echo("/items");
    expect(env.GREETING).toBe("hello-from-env-file");
  });

  it("passes a variable the template does not declare, with a warning", async () => {
    const { env } = await echo("/items");
    expect(env.UNDECLARED).toBe("passed-anyway");
    expect(runtime.warnings.join("\n")).toMatch(/UNDECLARED .*not declared in the template/);
  });

  it("does not leak the server's own environment into a function", async () => {
    const { env } = await echo("/items");
    expect(env.HOME_OF_SERVER).toBeUndefined();
  });
});

describe("stage variables", () => {
  it("passes the Api's Variables, intrinsics resolved, as event.stageVariables", async () => {
    const [dir, removeDir] = await scratchDir("runtime-stage-variables");
    try {
      const template = await copyFixtures(dir);
      const text = await readFile(template, "utf8");
      const withVariables = text.replace(
        "      StageName: v1\n",
        [
          "      StageName: v1",
          "      Variables:",
          "        greeting: !Ref Greeting",
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's !Sub, not JS
          '        table: !Sub "${ItemsTable}-${AWS::Region}"',
          "        plain: fixed",
          "",
        ].join("\n"),
      );
      expect(withVariables).not.toBe(text);
      await writeFile(template, withVariables);
      const staged = await startRuntime({
        template,
        parameterOverrides: { Greeting: "from-override" },
      });
      try {
        const response = await fetch(`${staged.url}/items`);
        const { event } = (await response.json()) as EchoBody;
        expect(event.stageVariables).toEqual({
          greeting: "from-override",
          table: "ItemsTable-us-east-1",
          plain: "fixed",
        });
      } finally {
        await staged.close();
      }
    } finally {
      await removeDir();
    }
  });
});
