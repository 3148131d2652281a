// The SAM CLI's own environment (AWS_SAM_LOCAL=true) with the env file's DDB_ENDPOINT empty, as
// when a user forgets --env-vars: the function must refuse rather than reach the AWS profile's
// real table. run.sh serves it at SAM_LOCAL_REFUSING_URL.
import { describe, expect, it } from "vitest";

const url = process.env.SAM_LOCAL_REFUSING_URL;

describe.skipIf(!url)("sam local start-api without a DynamoDB endpoint", () => {
  it("answers 503 problem+json naming the fix, for reads and writes alike", async () => {
    for (const init of [
      { method: "GET" },
      {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ title: "must not reach AWS" }),
      },
    ]) {
      const response = await fetch(`${url}/todos`, init);
      expect(response.status).toBe(503);
      expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      const problem = (await response.json()) as { detail: string };
      expect(problem.detail).toMatch(/DDB_ENDPOINT is empty under the SAM CLI/);
      expect(problem.detail).toMatch(/--env-vars env_local\.json/);
    }
  });
});
