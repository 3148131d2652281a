// `npm run cdk:synth` (offline, no AWS account) and `npx cdk deploy` run this app.
//   -c stackName=...     the stack's name (default todo-api-cdk); also the API's name
//   -c functionCode=DIR  deploy a `sam build` output instead of bundling with esbuild here
import { App } from "aws-cdk-lib";
import { TodoStack } from "./todo-stack.ts";

const app = new App();
const stackName = app.node.tryGetContext("stackName") ?? "todo-api-cdk";
const functionCodeDir = app.node.tryGetContext("functionCode");
new TodoStack(app, "TodoApi", {
  stackName,
  ...(functionCodeDir ? { functionCodeDir } : {}),
});
app.synth();
