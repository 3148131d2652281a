// The pure halves of the runtime: which route a path takes, and how a Lambda result
// becomes an HTTP answer, each as API Gateway decides it.
import { describe, expect, it } from "vitest";
import { MalformedResultError, mapLambdaResult } from "../../scripts/local/proxy-result.ts";
import { requestRawPath } from "../../scripts/local/rest-event.ts";
import { Router } from "../../scripts/local/routing.ts";
import type { RouteDefinition } from "../../scripts/local/template.ts";

function route(resourcePath: string, method = "ANY"): RouteDefinition {
  return {
    apiLogicalId: "Api",
    functionLogicalId: "Fn",
    resourcePath,
    method,
    resourceId: "abc123",
  };
}

describe("routing", () => {
  const router = new Router([
    route("/{proxy+}"),
    route("/todos", "GET"),
    route("/todos/{id}"),
    route("/todos/special", "GET"),
    route("/todos/{id}/{rest+}"),
  ]);

  it.each([
    ["/todos", "/todos", null],
    ["/todos/", "/todos", null],
    ["/todos/special", "/todos/special", null],
    ["/todos/42", "/todos/{id}", { id: "42" }],
    ["/todos/a%2Fb", "/todos/{id}", { id: "a/b" }],
    ["/todos/42/x/y", "/todos/{id}/{rest+}", { id: "42", rest: "x/y" }],
    ["/other/deep/path", "/{proxy+}", { proxy: "other/deep/path" }],
  ])("sends %s to %s", (path, resourcePath, pathParameters) => {
    expect(router.match(path, "GET")).toMatchObject({ resourcePath, pathParameters });
  });

  it("takes only the path of an absolute-form request target", () => {
    expect(requestRawPath("http://elsewhere.example/todos/1?x=1")).toBe("/todos/1");
    expect(requestRawPath("http://elsewhere.example")).toBe("/");
    expect(requestRawPath("/todos?x=1")).toBe("/todos");
  });

  it("does not fall back to {proxy+} for a method the matched resource lacks", () => {
    const match = router.match("/todos", "DELETE");
    expect(match?.resourcePath).toBe("/todos");
    expect(match?.route).toBeUndefined();
  });

  it("matches nothing for / when only {proxy+} exists", () => {
    expect(new Router([route("/{proxy+}")]).match("/", "GET")).toBeUndefined();
  });
});

describe("mapping a Lambda result", () => {
  it("merges headers and multiValueHeaders, multiValueHeaders winning", () => {
    const answer = mapLambdaResult(
      JSON.stringify({
        statusCode: "201",
        headers: { "X-One": "1", "x-both": "from-headers", Count: 3 },
        multiValueHeaders: { "X-Both": ["a", "b"] },
        body: "created",
      }),
    );
    expect(answer.statusCode).toBe(201);
    expect(Object.fromEntries(answer.headers)).toEqual({
      "X-One": ["1"],
      Count: ["3"],
      "X-Both": ["a", "b"],
    });
    expect(answer.body.toString()).toBe("created");
  });

  it("decodes an isBase64Encoded body", () => {
    const answer = mapLambdaResult(
      JSON.stringify({
        statusCode: 200,
        body: Buffer.from([1, 2, 3]).toString("base64"),
        isBase64Encoded: true,
      }),
    );
    expect([...answer.body]).toEqual([1, 2, 3]);
  });

  it.each([
    ["null", null],
    ["a string", "hello"],
    ["no statusCode", { body: "x" }],
    ["a statusCode out of range", { statusCode: 42 }],
    ["an object body", { statusCode: 200, body: { a: 1 } }],
    ["an unknown field", { statusCode: 200, body: "", cookies: ["a=b"] }],
    ["a header that is an object", { statusCode: 200, headers: { X: { a: 1 } } }],
    ["a line break in a header value", { statusCode: 200, headers: { X: "a\r\nSet-Cookie: b" } }],
    [
      "a control character in a value list",
      { statusCode: 200, multiValueHeaders: { X: ["\u0000"] } },
    ],
    ["a header name that is no token", { statusCode: 200, headers: { "X Y": "1" } }],
  ])("refuses %s as malformed", (_what, result) => {
    expect(() => mapLambdaResult(JSON.stringify(result))).toThrow(MalformedResultError);
  });
});
