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

it("knows it runs under sam local start-api only by AWS_SAM_LOCAL=true, which AWS never sets", () => {
  expect(configFromEnvironment({ TABLE_NAME: "T" }).samLocal).toBe(false);
  expect(configFromEnvironment({ TABLE_NAME: "T", AWS_SAM_LOCAL: "false" }).samLocal).toBe(false);
  expect(configFromEnvironment({ TABLE_NAME: "T", AWS_SAM_LOCAL: "true" }).samLocal).toBe(true);
});
