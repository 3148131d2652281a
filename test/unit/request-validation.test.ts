import { describe, expect, it } from "vitest";
import { type OperationId, operations } from "../../generated/operations.ts";
import { requestValidatorFor as validatorForOperation } from "../../src/http/request-validation.ts";
import { apiGatewayEvent } from "../support/lambda-events.ts";

function requestValidatorFor(operationId: OperationId) {
  const operation = operations.find((candidate) => candidate.operationId === operationId);
  if (!operation) throw new Error(`no operation ${operationId}`);
  return validatorForOperation(operation);
}

describe("the generated request validators", () => {
  it("coerce query values to their declared types for the handlers", () => {
    const event = apiGatewayEvent({ method: "GET", path: "/todos", query: { limit: "7" } });
    expect(requestValidatorFor("listTodos")(event)).toBe(true);
    expect(event.queryStringParameters).toEqual({ limit: 7 });
  });

  it.each([["1e400"], ["Infinity"], ["0x10"], [" 5"], ["5.0"], ["-0"], [""]])(
    "take only canonical integers for a limit, not %j",
    (limit) => {
      const event = apiGatewayEvent({ method: "GET", path: "/todos", query: { limit } });
      const validate = requestValidatorFor("listTodos");
      expect(validate(event)).toBe(false);
      expect(validate.errors?.[0]?.pointer).toBe("/query/limit");
    },
  );

  it("never coerce the body", () => {
    const event = {
      ...apiGatewayEvent({ method: "POST", path: "/todos" }),
      body: { title: 5 } as never,
    };
    const validate = requestValidatorFor("createTodo");
    expect(validate(event)).toBe(false);
    expect(validate.errors).toEqual([{ pointer: "/body/title", detail: "must be a string" }]);
  });

  it("say string-or-null once for a nullable field", () => {
    const event = {
      ...apiGatewayEvent({ method: "POST", path: "/todos" }),
      body: { title: "a", description: 1 } as never,
    };
    const validate = requestValidatorFor("createTodo");
    validate(event);
    expect(validate.errors).toEqual([
      { pointer: "/body/description", detail: "must be a string or null" },
    ]);
  });

  it("escape field names in JSON pointers", () => {
    const event = {
      ...apiGatewayEvent({ method: "POST", path: "/todos" }),
      body: { title: "a", "a/b~c": 1 } as never,
    };
    const validate = requestValidatorFor("createTodo");
    validate(event);
    expect(validate.errors).toEqual([{ pointer: "/body/a~1b~0c", detail: "is not a known field" }]);
  });

  it("check path parameters and headers", () => {
    const event = apiGatewayEvent({ method: "GET", path: "/todos/x" });
    event.pathParameters = { id: "x" };
    event.headers = { "if-none-match": "y".repeat(201) };
    const validate = requestValidatorFor("getTodo");
    expect(validate(event)).toBe(false);
    expect(validate.errors?.map((error) => error.pointer)).toEqual([
      "/path/id",
      "/header/if-none-match",
    ]);
  });
});

describe("the problems' words", () => {
  it.each([
    [
      "createTodo",
      { method: "POST", path: "/todos", body: '{"title":" \\u0007"}' },
      "/body/title",
      "must contain a character other than white space, and no control characters",
    ],
    [
      "createTodo",
      { method: "POST", path: "/todos", body: '{"title":"a","description":"\\u0000"}' },
      "/body/description",
      "must not contain control characters other than tab and line breaks",
    ],
    [
      "getTodo",
      { method: "GET", path: "/todos/x", pathParameters: { id: "not-an-id" } },
      "/path/id",
      "must be a todo id (a lower-case UUIDv7)",
    ],
    [
      "listTodos",
      { method: "GET", path: "/todos", query: { nextToken: "nope" } },
      "/query/nextToken",
      "must be the nextToken of an earlier page",
    ],
    [
      "createTodo",
      { method: "POST", path: "/todos", body: "{}", headers: { "idempotency-key": "a b" } },
      "/header/idempotency-key",
      "must be 1 to 255 visible ASCII characters",
    ],
    [
      "createTodo",
      { method: "POST", path: "/todos", body: '{"title":""}' },
      "/body/title",
      "must have at least 1 character",
    ],
    [
      "listTodos",
      { method: "GET", path: "/todos", query: { limit: "101" } },
      "/query/limit",
      "must be at most 100",
    ],
    [
      "listTodos",
      { method: "GET", path: "/todos", query: { limit: "0" } },
      "/query/limit",
      "must be at least 1",
    ],
  ] as const)("%s: %j says at %s: %s", (operationId, request, pointer, detail) => {
    const { body, pathParameters, ...rest } = request as typeof request & {
      body?: string;
      pathParameters?: Record<string, string>;
    };
    const event = apiGatewayEvent(rest as never);
    if (body !== undefined) event.body = JSON.parse(body);
    if (pathParameters) event.pathParameters = pathParameters;
    const validate = requestValidatorFor(operationId);
    expect(validate(event)).toBe(false);
    expect(validate.errors).toContainEqual({ pointer, detail });
  });
});
