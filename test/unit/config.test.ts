import { expect, it } from "vitest";
import { configFromEnvironment } from "../../src/config.ts";

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

it("verifies tokens itself only under sam local start-api, never on AWS", () => {
  const local = { LOCAL_ISSUER_URL: "http://127.0.0.1:3000/auth/", LOCAL_CLIENT_IDS: "a, b" };
  // The template declares the LOCAL_* variables; without AWS_SAM_LOCAL they mean nothing.
  expect(configFromEnvironment({ TABLE_NAME: "T", ...local }).samLocalSignIn).toBeUndefined();
  expect(
    configFromEnvironment({ TABLE_NAME: "T", AWS_SAM_LOCAL: "false", ...local }).samLocalSignIn,
  ).toBeUndefined();
  expect(
    configFromEnvironment({ TABLE_NAME: "T", AWS_SAM_LOCAL: "true", ...local }).samLocalSignIn,
  ).toEqual({
    issuer: "http://127.0.0.1:3000/auth",
    jwksUrl: "http://127.0.0.1:3000/auth/.well-known/jwks.json",
    clientIds: ["a", "b"],
  });
  expect(
    configFromEnvironment({
      TABLE_NAME: "T",
      AWS_SAM_LOCAL: "true",
      ...local,
      LOCAL_JWKS_URL: "http://host.docker.internal:3000/auth/.well-known/jwks.json",
    }).samLocalSignIn?.jwksUrl,
  ).toBe("http://host.docker.internal:3000/auth/.well-known/jwks.json");
});

it("under sam local, refuses to start without an issuer and its clients", () => {
  for (const missing of [{}, { LOCAL_ISSUER_URL: "http://i" }, { LOCAL_CLIENT_IDS: "a" }]) {
    expect(() =>
      configFromEnvironment({ TABLE_NAME: "T", AWS_SAM_LOCAL: "true", ...missing }),
    ).toThrow(/LOCAL_ISSUER_URL and LOCAL_CLIENT_IDS/);
  }
});
