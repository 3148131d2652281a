// The answers API Gateway gives on its own (throttled, too large, the function timing out...)
// are shaped by template.yaml's GatewayResponses. They should carry the same security headers
// as every answer of the function, so a browser treats both alike.
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCfnTemplate } from "../../scripts/local/cfn-template.ts";
import { resolveLocalApp } from "../../scripts/local/template.ts";
import { fixedHeaders } from "../../src/http/middlewares.ts";

const templatePath = resolve(import.meta.dirname, "../../template.yaml");

function headersTheFunctionAdds(): Record<string, string> {
  const request = { response: { statusCode: 200, headers: {}, body: "" } };
  const { after } = fixedHeaders();
  (after as (request: unknown) => void)(request);
  return request.response.headers;
}

function gatewayResponses() {
  const app = resolveLocalApp(loadCfnTemplate(templatePath), { templatePath });
  const api = app.apis.find((candidate) => candidate.logicalId === "TodoApi");
  if (!api) throw new Error("template.yaml has no TodoApi");
  return api.gatewayResponses;
}

// A GatewayResponse header is a literal in single quotes, which cannot hold a value that has
// single quotes of its own, as the Content-Security-Policy's 'none' keywords do.
const fitsAGatewayLiteral = (value: string) => !value.includes("'");

// The gateway's answers to a request the Cognito authorizer refuses (or no route takes).
const signInResponses = [
  "ACCESS_DENIED",
  "EXPIRED_TOKEN",
  "INVALID_SIGNATURE",
  "MISSING_AUTHENTICATION_TOKEN",
  "UNAUTHORIZED",
];

describe("API Gateway's own answers", () => {
  const functionHeaders = headersTheFunctionAdds();
  const responses = Object.entries(gatewayResponses());

  it("are shaped for the answers a client can meet", () => {
    expect(responses.map(([type]) => type).sort()).toEqual(
      [
        "DEFAULT_4XX",
        "DEFAULT_5XX",
        "INTEGRATION_TIMEOUT",
        "REQUEST_TOO_LARGE",
        "THROTTLED",
        ...signInResponses,
      ].sort(),
    );
  });

  it.each(signInResponses)(
    "%s challenges the client as RFC 6750 says (WWW-Authenticate: Bearer)",
    (type) => {
      expect(gatewayResponses()[type]?.headers["WWW-Authenticate"]).toBe("Bearer");
    },
  );

  it.each(responses)(
    "%s carries the function's security headers, with its values",
    (_, response) => {
      const expected = Object.fromEntries(
        Object.entries(functionHeaders).filter(([, value]) => fitsAGatewayLiteral(value)),
      );
      const {
        "Content-Type": _contentType,
        "WWW-Authenticate": _challenge,
        ...headers
      } = response.headers;
      expect(headers).toEqual(expected);
    },
  );

  it("are problem+json, as the contract says, where the template writes their body", () => {
    const shaped = responses.filter(([, response]) => Object.keys(response.templates).length > 0);
    expect(shaped.map(([type]) => type).sort()).toEqual(
      ["INTEGRATION_TIMEOUT", "REQUEST_TOO_LARGE", "THROTTLED", ...signInResponses].sort(),
    );
    for (const [type, response] of shaped) {
      expect(response.headers["Content-Type"], type).toBe("application/problem+json");
      const body = JSON.parse(response.templates["application/json"] ?? "");
      expect(body, type).toMatchObject({ type: "about:blank", status: response.statusCode });
    }
  });

  it("leave out only what a static header value cannot hold", () => {
    const left = Object.entries(functionHeaders)
      .filter(([, value]) => !fitsAGatewayLiteral(value))
      .map(([name]) => name);
    expect(left).toEqual(["Content-Security-Policy"]);
  });
});
