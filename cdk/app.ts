// `npm run cdk:synth` (offline, no AWS account) and `npx cdk deploy` (run in cdk/, where
// cdk.json is: at the root it would make the SAM CLI take the project for a CDK app) run this.
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
