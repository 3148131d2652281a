// Stands in for `node:http` in the Lambda bundle (template.yaml: BuildProperties Alias).
// An ES module import of `node:http` (@middy/util imports STATUS_CODES from it) makes Node build
// its ESM facade, which reads every export, including Node 24's lazy getters that load undici
// (fetch, WebSocket): about 100 ms of cold start for nothing. process.getBuiltinModule hands
// over the same module object without a facade, and without esbuild resolving it again.
module.exports = process.getBuiltinModule("node:http");
