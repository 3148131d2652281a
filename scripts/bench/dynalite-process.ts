// The benchmark's DynamoDB: dynalite in memory, in a process of its own, so that every server
// measured (the runtime and each baseline) talks to the same store and none carries it.
import type { AddressInfo } from "node:net";
import dynalite from "dynalite";

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(`dynalite listening on http://127.0.0.1:${port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
