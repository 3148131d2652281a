// Abuse and exposure, over HTTP through the local runtime: security headers on every answer
// (errors included), CORS origins from the template's AllowedOrigins parameter, bodies over
// 16 KB refused before they are parsed, page sizes capped, and no answer showing a stack, an
// SDK message, a table or a file name.
import { connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contractViolations, type OperationId } from "../support/contract.ts";
import { type ApiRequest, type HttpApi, httpApi, jsonRequest } from "./support/api.ts";
import { check, seed } from "./support/fast-check.ts";
import { countCase, countInput, figures, reportFigures } from "./support/figures.ts";
import { type QuietRuntime, startQuietRuntime } from "./support/runtime.ts";
import { createTodo, expectContract } from "./support/todos.ts";

const allowed = "https://app.example.com";
let runtime: QuietRuntime;
let call: HttpApi;

beforeAll(async () => {
  console.log(`exposure: fast-check seed ${seed}`);
  runtime = await startQuietRuntime({
    maxInstances: 4,
    parameterOverrides: { AllowedOrigins: `${allowed},http://localhost:5173` },
  });
  call = httpApi(runtime.url, [runtime.tableName ?? "", runtime.ddbEndpoint]);
}, 60_000);

afterAll(async () => {
  await runtime?.close();
  reportFigures(import.meta.filename);
});

describe("CORS origins come from the template's AllowedOrigins", () => {
  it("an allowed origin is echoed; any other origin gets no Access-Control-Allow-Origin", async () => {
    const { todo } = await createTodo(call, { title: "cors" });
    const otherOrigins = fc.oneof(
      fc
        .webUrl({ withQueryParameters: false, withFragments: false })
        .map((url) => new URL(url).origin),
      fc.constantFrom(
        "null",
        `${allowed}.evil.example`,
        allowed.replace("https", "http"),
        `${allowed}:443`,
        "https://app.example.co",
        "*",
        "http://localhost:3000",
      ),
    );
    const requests = (origin: string): ApiRequest[] => [
      { method: "GET", path: `/todos/${todo.id}`, headers: { Origin: origin } },
      { method: "GET", path: "/todos", query: { limit: "0" }, headers: { Origin: origin } },
      {
        method: "OPTIONS",
        path: `/todos/${todo.id}`,
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "PUT",
          "Access-Control-Request-Headers": "content-type,if-match",
        },
      },
    ];
    for (const request of requests(allowed)) {
      countInput("cors: allowed origin");
      const response = await call(request);
      expect(response.headers["access-control-allow-origin"], request.method).toBe(allowed);
      expect(response.exposure).toEqual([]);
    }
    await check(
      fc.asyncProperty(otherOrigins, async (origin) => {
        countCase();
        for (const request of requests(origin)) {
          countInput("cors: other origin");
          const response = await call(request);
          expect(response.headers["access-control-allow-origin"], origin).toBeUndefined();
          expect(response.status).toBeLessThan(500);
          expect(response.exposure).toEqual([]);
        }
      }),
      60,
      5_000,
    );
  });
});

describe("bodies and pages are bounded", () => {
  it("a body over 16 KB is refused with 413 before it is parsed, whatever it holds", async () => {
    const { todo } = await createTodo(call, { title: "big bodies" });
    for (const [bytes, body] of [
      [16 * 1024 + 1, "{".repeat(16 * 1024 + 1)],
      [20_000, JSON.stringify({ title: "t", description: "d".repeat(20_000) })],
      [1024 * 1024, "x".repeat(1024 * 1024)],
    ] as const) {
      for (const [operationId, method, path] of [
        ["createTodo", "POST", "/todos"],
        ["updateTodo", "PUT", `/todos/${todo.id}`],
      ] as const) {
        countInput("http: body over 16 KB");
        const response = await call({
          method,
          path,
          headers: { "Content-Type": "application/json" },
          body,
        });
        expect(response.status, `${bytes} bytes`).toBe(413);
        expectContract(operationId, response);
      }
    }
    // The limit is exact: 16384 bytes (padded with JSON white space) pass, 16385 do not.
    const padded = (bytes: number) => {
      const core = JSON.stringify({ description: "at the limit" });
      return `${core.slice(0, -1)}${" ".repeat(bytes - core.length)}}`;
    };
    const atLimit = await call({
      method: "PUT",
      path: `/todos/${todo.id}`,
      headers: { "Content-Type": "application/json" },
      body: padded(16 * 1024),
    });
    expect(atLimit.status, atLimit.body).toBe(200);
    const overLimit = await call({
      method: "PUT",
      path: `/todos/${todo.id}`,
      headers: { "Content-Type": "application/json" },
      body: padded(16 * 1024 + 1),
    });
    expect(overLimit.status, overLimit.body).toBe(413);
  });

  it("page sizes are capped: limit over 100 is refused, and no page is longer than asked", async () => {
    for (let index = 0; index < 105; index++) {
      await call(jsonRequest("POST", "/todos", { title: `page filler ${index}` }));
    }
    for (const limit of ["101", "1000", "100000000000"]) {
      countInput("http: page size over the cap");
      const response = await call({ method: "GET", path: "/todos", query: { limit } });
      expect(response.status).toBe(400);
      expectContract("listTodos", response);
    }
    const full = await call({ method: "GET", path: "/todos", query: { limit: "100" } });
    expect((full.json() as { items: unknown[] }).items).toHaveLength(100);
    const byDefault = await call({ method: "GET", path: "/todos" });
    expect((byDefault.json() as { items: unknown[] }).items).toHaveLength(20);
  });
});

describe("every answer carries the security headers and shows nothing internal", () => {
  it("holds for generated requests of every kind over HTTP, errors included", async () => {
    const { todo } = await createTodo(call, { title: "headers" });
    const segment = fc.string({ maxLength: 30 }).map((text) => encodeURIComponent(text));
    const request = fc.oneof(
      fc.record({
        method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"),
        path: fc.oneof(
          fc.constant("/todos"),
          fc.constant(`/todos/${todo.id}`),
          segment.map((s) => `/todos/${s}`),
          segment.map((s) => `/${s}`),
          fc.tuple(segment, segment).map(([a, b]) => `/todos/${a}/${b}`),
        ),
        body: fc.option(
          fc.oneof(
            fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
            fc.string({ maxLength: 200 }),
            fc.constant(JSON.stringify({ title: "ok" })),
          ),
        ),
        contentType: fc.constantFrom(
          "application/json",
          "text/plain",
          "application/json; charset=utf-8",
          "",
        ),
      }),
    );
    await check(
      fc.asyncProperty(request, async ({ method, path, body, contentType }) => {
        countCase();
        countInput("http: any method, path and body");
        const hasBody = body !== null && method !== "GET" && method !== "HEAD";
        const response = await call({
          method,
          path,
          headers: contentType && hasBody ? { "Content-Type": contentType } : {},
          ...(hasBody ? { body } : {}),
        });
        const what = `${method} ${path} ${body?.slice(0, 80)} → ${response.status} ${response.body.slice(0, 200)}`;
        expect(response.status, what).toBeLessThan(500);
        // API Gateway answers some requests itself (403 for a path it does not route, see
        // observe()); everything the function answers carries the headers.
        expect(response.exposure, what).toEqual([]);
        const operationId = operationOf(method, path, todo.id);
        if (operationId && response.headers["x-amzn-errortype"] === undefined) {
          if (response.status < 400 || response.headers["content-type"]?.includes("problem")) {
            expect(contractViolations(operationId, response), what).toEqual([]);
          }
        }
      }),
      300,
      8_000,
    );
    expect(figures.serverErrors, figures.serverErrorSamples.join("\n")).toBe(0);
    expect(figures.exposures).toBe(0);
  });

  it("invalid UTF-8 and odd bytes in a body: never a 5xx; what is stored is what was answered", async () => {
    for (const bytes of [
      Buffer.from([
        0x7b, 0x22, 0x74, 0x69, 0x74, 0x6c, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d,
      ]),
      Buffer.from([0xc3, 0x28]),
      Buffer.from("\u0000\u0000{}", "utf8"),
      Buffer.from('{"title":"t"}', "utf16le"),
    ]) {
      countInput("http: invalid UTF-8 and odd bytes");
      const response = await fetch(`${runtime.url}/todos`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Authorization: `Bearer ${await call.token()}`,
        },
        body: bytes,
      });
      const text = await response.text();
      // API Gateway hands the function text: invalid UTF-8 arrives as U+FFFD, a valid title.
      expect([201, 400, 415], text).toContain(response.status);
      if (response.status === 201) {
        const created = JSON.parse(text) as { id: string };
        const read = await call({ method: "GET", path: `/todos/${created.id}` });
        expect(read.json()).toEqual(created);
      }
    }
  });
});

/** Writes raw bytes to the runtime and reads whatever comes back until it closes (or 3 s). */
function rawExchange(url: string, bytes: Buffer | string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(done, 3_000);
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
    });
    socket.on("error", done);
    socket.on("close", done);
    socket.on("connect", () => socket.end(bytes));
  });
}

describe("malformed HTTP", () => {
  it("never gets a 5xx and never takes the runtime down", async () => {
    const host = new URL(runtime.url).host;
    const cases: Array<[string, string | Buffer]> = [
      ["garbage", "\x00\x01\x02 not http at all\r\n\r\n"],
      ["binary", Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37) % 256))],
      [
        "header line too long",
        `GET /todos HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${"a".repeat(100_000)}\r\n\r\n`,
      ],
      [
        "Content-Length and Transfer-Encoding",
        `POST /todos HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      ],
      [
        "bad chunk size",
        `POST /todos HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      ],
      [
        "body shorter than Content-Length",
        `POST /todos HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"title":"x"}`,
      ],
      [
        "duplicate Content-Type",
        `POST /todos HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\n{"title":"x"}`,
      ],
      [
        "absolute URI",
        `GET http://evil.example/todos HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
      ],
      ["HTTP/1.0 without Host", "GET /todos HTTP/1.0\r\n\r\n"],
      ["unknown method", `BREW /todos HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`],
    ];
    for (const [name, bytes] of cases) {
      countInput("http: malformed HTTP");
      const answer = await rawExchange(runtime.url, bytes);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1];
      expect(Number(status ?? 0), `${name}: ${answer.slice(0, 200)}`).toBeLessThan(500);
      const alive = await call({ method: "GET", path: "/todos", query: { limit: "1" } });
      expect(alive.status, `after ${name}`).toBe(200);
    }
  });
});

function operationOf(method: string, path: string, id: string): OperationId | undefined {
  if (path === "/todos")
    return method === "GET" ? "listTodos" : method === "POST" ? "createTodo" : undefined;
  if (path === `/todos/${id}`) {
    return (
      { GET: "getTodo", PUT: "updateTodo", DELETE: "deleteTodo" } as Record<string, OperationId>
    )[method];
  }
  return undefined;
}
