// Stands in for `node:http` in the Lambda bundle (template.yaml: BuildProperties Alias), where
// only @middy/util imports it, for STATUS_CODES. An ES module import of `node:http` makes Node
// build its ESM facade, which reads every export, including Node 24's lazy getters that load
// undici (fetch, WebSocket): ~100 ms of cold start. `require` builds no facade.
import { createRequire } from "node:module";

const nodeHttp = createRequire(import.meta.url)("node:http") as typeof import("node:http");

export const { STATUS_CODES } = nodeHttp;
