import { afterEach, describe, expect, it, vi } from "vitest";
import { configFromEnvironment } from "../../src/config.ts";
import { samLocalRefusal } from "../../src/http/sam-local-sign-in.ts";
import { apiGatewayEvent, lambdaContext } from "../support/lambda-events.ts";

it("reads the template's variables, with AWS as the default endpoint", () => {
  const config = configFromEnvironment({
    TABLE_NAME: "T",
    DDB_ENDPOINT: "",
    ALLOWED_ORIGINS: " http://a.test , http://b.test,",
  });
  expect(config).toMatchObject({
    tableName: "T",
    ddbEndpoint: undefined,
    allowedOrigins: ["http://a.test", "http://b.test"],
  });
});

it("refuses to start without a table", () => {
  expect(() => configFromEnvironment({})).toThrow(/TABLE_NAME/);
});

describe("under the SAM CLI (AWS_SAM_LOCAL=true)", () => {
  const samLocal = { TABLE_NAME: "T", AWS_SAM_LOCAL: "true" };

  it("refuses an empty DDB_ENDPOINT, naming the fix", () => {
    const refusal = samLocalRefusal({ ...samLocal, DDB_ENDPOINT: "" });
    expect(refusal).toMatch(/DDB_ENDPOINT is empty/);
    expect(refusal).toMatch(/--env-vars env_local\.json/);
    expect(refusal).toMatch(/USE_AWS_DYNAMODB=true/);
  });

  it("serves with a local endpoint, or with AWS when the user opts in", () => {
    expect(samLocalRefusal({ ...samLocal, DDB_ENDPOINT: "http://127.0.0.1:8000" })).toBeUndefined();
    expect(
      samLocalRefusal({ ...samLocal, DDB_ENDPOINT: "", USE_AWS_DYNAMODB: "true" }),
    ).toBeUndefined();
    // Only the exact opt-in counts.
    expect(samLocalRefusal({ ...samLocal, USE_AWS_DYNAMODB: "yes" })).toBeDefined();
  });

  it("leaves AWS itself alone: without AWS_SAM_LOCAL an empty endpoint means AWS", () => {
    expect(samLocalRefusal({ TABLE_NAME: "T", DDB_ENDPOINT: "" })).toBeUndefined();
  });
});

describe("the Lambda entry with a refused configuration", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it("logs the reason once and answers every request 503 problem+json naming the fix", async () => {
    vi.stubEnv("TABLE_NAME", "TodosTable");
    vi.stubEnv("AWS_SAM_LOCAL", "true");
    vi.stubEnv("DDB_ENDPOINT", "");
    vi.stubEnv("LOG_LEVEL", "error");
    // Were the refusal ever gone, the SDK would go to a closed port here, never to AWS.
    vi.stubEnv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9");
    vi.stubEnv("AWS_REGION", "us-east-1");
    vi.stubEnv("AWS_ACCESS_KEY_ID", "testing");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "testing");
    const logged = vi.spyOn(process.stderr, "write").mockReturnValue(true);
    vi.resetModules();
    const { handler } = await import("../../src/handler.ts");
    expect(String(logged.mock.calls[0]?.[0])).toMatch(/refusing every request.*DDB_ENDPOINT/);

    for (const input of [
      { method: "GET", path: "/todos", resource: "/todos" },
      { method: "POST", path: "/todos", resource: "/todos", body: { title: "x" } },
    ]) {
      const answer = (await handler(apiGatewayEvent(input), lambdaContext())) as {
        statusCode: number;
        headers: Record<string, string>;
        body: string;
      };
      expect(answer.statusCode).toBe(503);
      expect(answer.headers["Content-Type"]).toBe("application/problem+json");
      expect(answer.headers["X-Content-Type-Options"]).toBe("nosniff");
      expect(JSON.parse(answer.body)).toMatchObject({
        type: "/problems/service-unavailable",
        status: 503,
        detail: expect.stringMatching(/--env-vars env_local\.json.*USE_AWS_DYNAMODB=true/),
      });
    }
  });
});

it("knows it runs under sam local start-api only by AWS_SAM_LOCAL=true, which AWS never sets", () => {
  expect(configFromEnvironment({ TABLE_NAME: "T" }).samLocal).toBe(false);
  expect(configFromEnvironment({ TABLE_NAME: "T", AWS_SAM_LOCAL: "false" }).samLocal).toBe(false);
  expect(configFromEnvironment({ TABLE_NAME: "T", AWS_SAM_LOCAL: "true" }).samLocal).toBe(true);
});
