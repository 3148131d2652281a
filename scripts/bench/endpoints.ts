// The requests measured, each the same for the local runtime and every baseline.

export interface Endpoint {
  /** Short key used in results: "get", "post", "put", "list". */
  key: string;
  label: string;
  method: string;
  /** The path for a given existing todo. */
  path: (todoId: string) => string;
  body?: string;
}

const json = "application/json";
export const jsonHeaders = { "content-type": json };

/** What runLoad needs to send an endpoint's request to the server at baseUrl. */
export function endpointRequest(
  baseUrl: string,
  endpoint: Endpoint,
  todoId: string,
  /** The target's own, such as a signed-in client's Authorization. */
  headers: Record<string, string> = {},
) {
  return {
    url: `${baseUrl}${endpoint.path(todoId)}`,
    method: endpoint.method,
    body: endpoint.body,
    headers: { ...headers, ...(endpoint.body === undefined ? {} : jsonHeaders) },
  };
}

export const endpoints: Endpoint[] = [
  {
    key: "get",
    label: "GET /todos/{id}",
    method: "GET",
    path: (id) => `/todos/${id}`,
  },
  {
    key: "post",
    label: "POST /todos",
    method: "POST",
    path: () => "/todos",
    body: JSON.stringify({ title: "Benchmark todo", description: "written by npm run bench" }),
  },
  {
    key: "put",
    label: "PUT /todos/{id}",
    method: "PUT",
    path: (id) => `/todos/${id}`,
    body: JSON.stringify({ title: "Benchmark todo, renamed" }),
  },
  {
    key: "list",
    label: "GET /todos?limit=20",
    method: "GET",
    path: () => "/todos?limit=20",
  },
];
