// npm run test:sam-local's vitest run (test/sam-local/run.sh starts the servers): the product's
// e2e tests, pointed at sam local start-api, and the checks that only the SAM CLI can show.
// Its own files end in .sam-test.ts, so npm test (test/**/*.test.ts) leaves them out.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../../", import.meta.url)),
    include: ["test/runtime/product.test.ts", "test/sam-local/**/*.sam-test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
