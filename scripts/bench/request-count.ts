// DynamoDB requests per API operation, counted by an SDK middleware on the DocumentClient's
// middleware stack (one count per attempt sent, retries included). The app is built in this
// process with composeApp (src/compose.ts) around an instrumented client, and called with the
// runtime's own events.
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { composeApp } from "../../src/compose.ts";
import { createLogger } from "../../src/http/logger.ts";
import { type EventRequest, lambdaContext, restEventObject } from "./events.ts";

export interface OperationCount {
  operation: string;
  status: number;
  /** DynamoDB requests sent, and which. */
  requests: number;
  commands: string[];
  expected: number;
  note?: string;
}

interface Step {
  operation: string;
  request: (state: { id: string; etag: string; nextToken: string }) => EventRequest;
  expected: number;
  /** The status that shows the step took its success path. */
  status: number;
  note?: string;
}

const body = (value: unknown) => JSON.stringify(value);

const steps: Step[] = [
  {
    operation: "POST /todos",
    request: () => ({ method: "POST", rawUrl: "/todos", body: body({ title: "Counted" }) }),
    expected: 1,
    status: 201,
  },
  {
    operation: "POST /todos (Idempotency-Key)",
    request: () => ({
      method: "POST",
      rawUrl: "/todos",
      body: body({ title: "Counted once" }),
      headers: { "Idempotency-Key": "bench-count-key" },
    }),
    expected: 3,
    status: 201,
    note: "claim the key, write the todo, mark the claim completed",
  },
  {
    operation: "POST /todos (Idempotency-Key, replayed)",
    request: () => ({
      method: "POST",
      rawUrl: "/todos",
      body: body({ title: "Counted once" }),
      headers: { "Idempotency-Key": "bench-count-key" },
    }),
    expected: 2,
    status: 201,
    note: "the claim fails, the first answer is read back",
  },
  {
    operation: "GET /todos/{id}",
    request: ({ id }) => ({ method: "GET", rawUrl: `/todos/${id}` }),
    expected: 1,
    status: 200,
  },
  {
    operation: "GET /todos/{id} (If-None-Match, 304)",
    request: ({ id, etag }) => ({
      method: "GET",
      rawUrl: `/todos/${id}`,
      headers: { "If-None-Match": etag },
    }),
    expected: 1,
    status: 304,
  },
  {
    operation: "PUT /todos/{id}",
    request: ({ id }) => ({ method: "PUT", rawUrl: `/todos/${id}`, body: body({ title: "Re" }) }),
    expected: 1,
    status: 200,
  },
  {
    operation: "PUT /todos/{id} (If-Match)",
    request: ({ id, etag }) => ({
      method: "PUT",
      rawUrl: `/todos/${id}`,
      body: body({ status: "done" }),
      headers: { "If-Match": etag },
    }),
    expected: 1,
    status: 200,
  },
  {
    operation: "GET /todos?limit=1",
    request: () => ({ method: "GET", rawUrl: "/todos?limit=1" }),
    expected: 1,
    status: 200,
  },
  {
    operation: "GET /todos?limit=1&nextToken=…",
    request: ({ nextToken }) => ({
      method: "GET",
      rawUrl: `/todos?limit=1&nextToken=${encodeURIComponent(nextToken)}`,
    }),
    expected: 1,
    status: 200,
  },
  {
    operation: "GET /todos?status=done",
    request: () => ({ method: "GET", rawUrl: "/todos?status=done" }),
    expected: 1,
    status: 200,
  },
  {
    operation: "DELETE /todos/{id}",
    request: ({ id }) => ({ method: "DELETE", rawUrl: `/todos/${id}` }),
    expected: 1,
    status: 204,
  },
];

export async function countRequests(
  endpoint: string,
  tableName: string,
): Promise<OperationCount[]> {
  const { handler: app, documentClient: client } = composeApp({
    dynamoDb: { endpoint, region: "us-east-1" },
    tableName,
    pageTokenKey: `todo-api:${tableName}`,
    logger: createLogger("silent"),
    allowedOrigins: [],
  });
  let commands: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(String(context.commandName ?? "unknown").replace(/Command$/, ""));
      return next(args);
    },
    // The deserialize step runs once per attempt sent, under the retry middleware.
    { step: "deserialize", name: "benchDynamoDbRequestCounter" },
  );
  const handler = app as unknown as (
    event: APIGatewayProxyEvent,
    context: Context,
  ) => Promise<APIGatewayProxyResult>;

  const state = { id: "", etag: "", nextToken: "" };
  const counts: OperationCount[] = [];
  try {
    for (const step of steps) {
      commands = [];
      const event = restEventObject(step.request(state));
      const result = await handler(event, lambdaContext as unknown as Context);
      const answer = result.body ? (JSON.parse(result.body) as Record<string, unknown>) : {};
      if (step.operation === "POST /todos") state.id = String(answer.id);
      const etag = Object.entries(result.headers ?? {}).find(
        ([name]) => name.toLowerCase() === "etag",
      )?.[1];
      if (etag !== undefined) state.etag = String(etag);
      if (typeof answer.nextToken === "string") state.nextToken = answer.nextToken;
      if (result.statusCode !== step.status) {
        throw new Error(
          `${step.operation} answered ${result.statusCode}, not ${step.status}: ${result.body}`,
        );
      }
      counts.push({
        operation: step.operation,
        status: result.statusCode,
        requests: commands.length,
        commands,
        expected: step.expected,
        ...(step.note ? { note: step.note } : {}),
      });
    }
  } finally {
    client.destroy();
  }
  return counts;
}
