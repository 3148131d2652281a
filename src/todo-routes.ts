// One thin handler per operation of openapi.yaml: read the checked request, call the Todo
// rules, shape the answer. TypeScript makes sure every operation has its handler.
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import type { OperationId } from "../generated/operations.ts";
import { emptyResponse, jsonResponse } from "./http/responses.ts";
import {
  conditionHolds,
  etagOf,
  type TodoCreate,
  type TodoPatch,
  type TodoStatus,
  toApiTodo,
  type VersionCondition,
  versionsNamedBy,
} from "./todos/todo.ts";
import type { TodoService } from "./todos/todo-service.ts";

export type RouteHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

// The API has no sign-in yet: every caller shares one partition. A signed-in mode gives each
// user their own by returning the authorizer's subject here.
export const ownerOf = (_event?: APIGatewayProxyEvent): string => "anonymous";

const idOf = (event: APIGatewayProxyEvent) => event.pathParameters?.id as string;

function ifMatchOf(event: APIGatewayProxyEvent): VersionCondition | undefined {
  const header = event.headers["if-match"];
  return header === undefined ? undefined : versionsNamedBy(header, { allowWeak: false });
}

export function todoRoutes(todos: TodoService): Record<OperationId, RouteHandler> {
  return {
    async createTodo(event, context) {
      const { todo, replayed } = await todos.create(
        ownerOf(event),
        event.body as unknown as TodoCreate,
        event.headers["idempotency-key"],
        // After this invocation's deadline, a retry may take over its unfinished claim.
        Date.now() + context.getRemainingTimeInMillis(),
      );
      return jsonResponse(201, toApiTodo(todo), {
        Location: `/todos/${todo.id}`,
        ETag: etagOf(todo),
        ...(replayed ? { "Idempotent-Replayed": "true" } : {}),
      });
    },

    async listTodos(event) {
      const query = (event.queryStringParameters ?? {}) as {
        limit?: number;
        status?: TodoStatus;
        nextToken?: string;
      };
      const page = await todos.list(ownerOf(event), query);
      return jsonResponse(200, {
        items: page.items.map(toApiTodo),
        ...(page.nextToken ? { nextToken: page.nextToken } : {}),
      });
    },

    async getTodo(event) {
      const todo = await todos.get(ownerOf(event), idOf(event));
      const ifNoneMatch = event.headers["if-none-match"];
      if (
        ifNoneMatch !== undefined &&
        conditionHolds(versionsNamedBy(ifNoneMatch, { allowWeak: true }), todo.version)
      ) {
        return emptyResponse(304, { ETag: etagOf(todo) });
      }
      return jsonResponse(200, toApiTodo(todo), { ETag: etagOf(todo) });
    },

    async updateTodo(event) {
      const todo = await todos.update(
        ownerOf(event),
        idOf(event),
        event.body as unknown as TodoPatch,
        ifMatchOf(event),
      );
      return jsonResponse(200, toApiTodo(todo), { ETag: etagOf(todo) });
    },

    async deleteTodo(event) {
      await todos.delete(ownerOf(event), idOf(event), ifMatchOf(event));
      return emptyResponse(204);
    },
  };
}
