// One thin handler per operation of openapi.yaml: read the checked request, call the Todo
// rules, shape the answer. TypeScript makes sure every operation has its handler.
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import type { OperationId } from "../../generated/operations.ts";
import type { Idempotency } from "../idempotency/idempotency.ts";
import type { StoredTodo, TodoCreate, TodoPatch, TodoStatus } from "../todos/todo.ts";
import { toApiTodo } from "../todos/todo.ts";
import type { TodoService } from "../todos/todo-service.ts";
import { etagOf, ifMatchOf, notModified } from "./conditional-requests.ts";
import { emptyResponse, jsonResponse } from "./responses.ts";
import { callerOf } from "./sign-in.ts";

export type OperationHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

// Each signed-in user has a partition of their own: the access token's subject. No claims is a
// 401 here too, so a handler can never act for a shared owner.
export const ownerOf = (event: APIGatewayProxyEvent): string => callerOf(event).owner;

const idOf = (event: APIGatewayProxyEvent) => event.pathParameters?.id as string;

export interface TodoHandlerDependencies {
  todos: TodoService;
  /** Creation with an Idempotency-Key. */
  idempotentCreation: Idempotency<TodoCreate, StoredTodo>;
}

export function todoHandlers({
  todos,
  idempotentCreation,
}: TodoHandlerDependencies): Record<OperationId, OperationHandler> {
  return {
    async createTodo(event, context) {
      const owner = ownerOf(event);
      const input = event.body as unknown as TodoCreate;
      const key = event.headers["idempotency-key"];
      const { result: todo, replayed } =
        key === undefined
          ? { result: await todos.create(owner, input), replayed: false }
          : // After this invocation's deadline, a retry may take over its unfinished claim.
            await idempotentCreation.run(
              owner,
              key,
              input,
              Date.now() + context.getRemainingTimeInMillis(),
            );
      return jsonResponse(201, toApiTodo(todo), {
        Location: `/todos/${todo.id}`,
        ETag: etagOf(todo),
        ...(replayed ? { "Idempotent-Replayed": "true" } : {}),
      });
    },

    async listTodos(event) {
      // The validator has applied the contract's defaults: limit is always there.
      const query = event.queryStringParameters as unknown as {
        limit: number;
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
      if (notModified(event, todo)) return emptyResponse(304, { ETag: etagOf(todo) });
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
