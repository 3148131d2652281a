// API Gateway fills the access log format of template.yaml with $context variables as text;
// what it writes must then be one JSON object per request, with the fields the runbook names.
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCfnTemplate } from "../../scripts/local/cfn-template.ts";

const template = loadCfnTemplate(resolve(import.meta.dirname, "../../template.yaml"));
const stage = template.Resources.TodoApi?.Properties as {
  AccessLogSetting: { Format: string };
};
const format = stage.AccessLogSetting.Format;

// What API Gateway substitutes: a value, or "-" for what the request lacks (no authorizer, no
// integration, no error).
const fill = (value: (name: string) => string) =>
  format.replace(/\$context\.[A-Za-z.]+/g, (variable) => value(variable));

describe("the API's access log format", () => {
  it("is one JSON object when every variable has a value, and when none has", () => {
    expect(() => JSON.parse(fill((name) => `value of ${name}`))).not.toThrow();
    expect(() => JSON.parse(fill(() => "-"))).not.toThrow();
  });

  it("holds the fields the issue asks for, each from its $context variable", () => {
    const line = JSON.parse(fill((name) => name));
    expect(line).toMatchObject({
      requestId: "$context.requestId",
      extendedRequestId: "$context.extendedRequestId",
      sourceIp: "$context.identity.sourceIp",
      sub: "$context.authorizer.claims.sub",
      httpMethod: "$context.httpMethod",
      resourcePath: "$context.resourcePath",
      status: "$context.status",
      latencyMs: "$context.responseLatency",
      integrationLatencyMs: "$context.integrationLatency",
      responseLength: "$context.responseLength",
      errorMessage: "$context.error.message",
    });
  });

  it("is one line, as CloudWatch Logs takes one event per line", () => {
    expect(format).not.toContain("\n");
  });
});
