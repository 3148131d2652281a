// The Lambda's shape: outer middlewares around @middy/http-router, and per route the JSON
// body parser (where the contract has a body) and the request validator generated from
// openapi.yaml. src/compose.ts builds it from its dependencies.
import middy from "@middy/core";
import httpJsonBodyParser from "@middy/http-json-body-parser";
import httpRouterHandler, { type Route } from "@middy/http-router";
import validator from "@middy/validator";
import type { Ajv } from "ajv";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { type OperationRoute, operations } from "../generated/operations.ts";
import type { Logger } from "./http/logger.ts";
import {
  bodySizeLimit,
  cors,
  fixedHeaders,
  lowerCaseHeaders,
  problemErrors,
  requestLog,
} from "./http/middlewares.ts";
import { requestValidatorFor } from "./http/request-validation.ts";
import { emptyResponse } from "./http/responses.ts";
import { unroutedRequest } from "./http/routing.ts";
import { type BearerVerifier, requireScopes, signIn } from "./http/sign-in.ts";
import { type TodoHandlerDependencies, todoHandlers } from "./http/todo-handlers.ts";

export const maxBodyBytes = 16 * 1024;

export interface AppDependencies extends TodoHandlerDependencies {
  logger: Logger;
  /** Exact origins allowed by CORS; any other origin gets no Access-Control-Allow-Origin. */
  allowedOrigins: string[];
  /** Only under `sam local start-api`, where no authorizer verifies the token (src/handler.ts). */
  verifyBearer?: BearerVerifier | undefined;
}

// What a browser may send and read, as the contract says: its methods, its header parameters
// (with Content-Type for the JSON bodies, and Authorization for the bearer token of secured
// operations) and its response headers. A header added to openapi.yaml is allowed at once.
const corsMethods = [...new Set([...operations.map((operation) => operation.method), "OPTIONS"])];
const namedIn = (names: (operation: OperationRoute) => readonly string[]) =>
  [...new Set(operations.flatMap(names))].sort();
const corsHeaders = [
  ...(operations.some((operation) => operation.hasBody) ? ["Content-Type"] : []),
  ...(operations.some((operation) => operation.scopes.length > 0) ? ["Authorization"] : []),
  ...namedIn((operation) => operation.headerParameters),
];
const corsExposedHeaders = namedIn((operation) => operation.responseHeaders);

export function createApp({
  logger,
  allowedOrigins,
  verifyBearer,
  ...handlerDependencies
}: AppDependencies) {
  const handlers = todoHandlers(handlerDependencies);
  const routes: Route<APIGatewayProxyEvent, APIGatewayProxyResult>[] = operations.map(
    (operation) => {
      // The outer chain watches the deadline; one timer per request is enough.
      const route = middy<APIGatewayProxyEvent, APIGatewayProxyResult>(
        handlers[operation.operationId],
        { timeoutEarlyInMillis: 0 },
      );
      // Scope first, as API Gateway's authorizer comes before anything reads the request.
      if (operation.scopes.length > 0) route.use(requireScopes(operation.scopes));
      if (operation.hasBody) route.use(httpJsonBodyParser());
      // @middy/validator calls eventSchema(event) and reads its .errors: ours has that shape,
      // with the problems already in the client's words.
      const eventSchema = requestValidatorFor(operation) as unknown as Ajv;
      route.use(validator({ eventSchema }));
      return { method: operation.method, path: operation.path, handler: route };
    },
  );
  // CORS preflight: answered here with 204; the cors middleware adds the headers.
  for (const path of new Set(operations.map((operation) => operation.path))) {
    routes.push({ method: "OPTIONS", path, handler: async () => emptyResponse(204) });
  }

  // Order matters: Middy runs `onError` in reverse, so problemErrors answers first, then the
  // header middlewares decorate that answer, and the request log sees the final status.
  // Half a second before the Lambda's timeout, Middy stops waiting and we answer 503 ourselves,
  // instead of the bare 502 that API Gateway gives for a function cut off mid-request.
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: 500 })
    .use(requestLog(logger))
    .use(
      cors({
        origins: allowedOrigins,
        methods: corsMethods.join(","),
        headers: corsHeaders.join(","),
        exposeHeaders: corsExposedHeaders.join(","),
        maxAgeSeconds: 600,
      }),
    )
    .use(fixedHeaders())
    .use(problemErrors(logger))
    .use(lowerCaseHeaders())
    .use(signIn(verifyBearer))
    .use(bodySizeLimit(maxBodyBytes))
    .handler(httpRouterHandler({ routes, notFoundResponse: unroutedRequest(operations) }));
}
