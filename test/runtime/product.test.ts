// The product's own template and Lambda (src/handler.ts) over the local runtime: every
// route of openapi.yaml, and a typed client generated from the contract, signed in as a
// client would be (a token from the runtime's own issuer, POST /auth/dev/token). With
// PRODUCT_API_URL set, the same tests go to an API served by something else, signed in with
// PRODUCT_API_TOKEN (npm run test:sam-local points them at the SAM CLI's `sam local start-api`).

import createClient from "openapi-fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { paths } from "../../generated/types.ts";
import { devToken } from "../support/tokens.ts";
import { productOptions, type StartedRuntime, startRuntime } from "./helpers.ts";

let runtime: Pick<StartedRuntime, "url" | "close">;
let token: string;

beforeAll(async () => {
  const externalUrl = process.env.PRODUCT_API_URL;
  if (externalUrl) {
    runtime = { url: externalUrl.replace(/\/$/, ""), close: async () => {} };
    const externalToken = process.env.PRODUCT_API_TOKEN;
    if (!externalToken) throw new Error("PRODUCT_API_URL needs PRODUCT_API_TOKEN, alice's token");
    token = externalToken;
  } else {
    runtime = await startRuntime(productOptions());
    token = await devToken(runtime.url, "alice");
  }
}, 60_000);

/** fetch with alice's access token. */
function signedIn(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${token}`);
  return fetch(url, { ...init, headers });
}

afterAll(async () => {
  await runtime?.close();
});

interface Todo {
  id: string;
  title: string;
  description?: string | null;
  status: "pending" | "done";
}

async function createTodo(body: Record<string, unknown>): Promise<Response> {
  return signedIn(`${runtime.url}/todos`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("every route of the product over the runtime", () => {
  it("creates a todo: 201 with Location and ETag", async () => {
    const response = await createTodo({ title: "Write the runtime", status: "pending" });
    expect(response.status).toBe(201);
    const todo = (await response.json()) as Todo;
    expect(todo.title).toBe("Write the runtime");
    expect(response.headers.get("location")).toMatch(new RegExp(`/todos/${todo.id}$`));
    expect(response.headers.get("etag")).toMatch(/^"/);
  });

  it("lists todos, filters by status and pages with nextToken", async () => {
    for (const title of ["page one", "page two", "page three"]) {
      expect((await createTodo({ title, status: "done" })).status).toBe(201);
    }
    const first = await signedIn(`${runtime.url}/todos?status=done&limit=2`);
    expect(first.status).toBe(200);
    const page = (await first.json()) as { items: Todo[]; nextToken?: string };
    expect(page.items).toHaveLength(2);
    expect(page.items.every((todo) => todo.status === "done")).toBe(true);
    expect(page.nextToken).toEqual(expect.any(String));
    const second = await signedIn(
      `${runtime.url}/todos?status=done&limit=2&nextToken=${encodeURIComponent(page.nextToken as string)}`,
    );
    const rest = (await second.json()) as { items: Todo[] };
    expect(rest.items.length).toBeGreaterThanOrEqual(1);
    expect(rest.items.map((todo) => todo.id)).not.toContain(page.items[0]?.id);
  });

  it("reads, partially updates and deletes a todo", async () => {
    const created = (await (
      await createTodo({ title: "to change", description: "d" })
    ).json()) as Todo;
    const read = await signedIn(`${runtime.url}/todos/${created.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get("etag")).toMatch(/^"/);

    const updated = await signedIn(`${runtime.url}/todos/${created.id}`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ status: "done" }),
    });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({
      title: "to change",
      description: "d",
      status: "done",
    });

    const deleted = await signedIn(`${runtime.url}/todos/${created.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    const gone = await signedIn(`${runtime.url}/todos/${created.id}`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });

  it("answers a bad request with problem+json", async () => {
    const response = await createTodo({ title: "" });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status: 400 });
  });

  it("sends every other path to the function ({proxy+} ANY), not a 403", async () => {
    const response = await signedIn(`${runtime.url}/not-a-route`);
    expect(response.status).not.toBe(403);
    expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });

  it("lets the function answer CORS preflight (the template's Api has no Cors)", async () => {
    const response = await signedIn(`${runtime.url}/todos`, {
      method: "OPTIONS",
      headers: { Origin: "http://127.0.0.1:3000", "Access-Control-Request-Method": "POST" },
    });
    expect(response.status).toBeLessThan(300);
    expect(response.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:3000");
  });
});

describe("a typed client generated from the contract", () => {
  it("round-trips a todo with openapi-fetch", async () => {
    const client = createClient<paths>({
      baseUrl: runtime.url,
      headers: { Authorization: `Bearer ${token}` },
    });
    const created = await client.POST("/todos", { body: { title: "typed" } });
    expect(created.response.status).toBe(201);
    const id = created.data?.id as string;

    const read = await client.GET("/todos/{id}", { params: { path: { id } } });
    expect(read.data?.title).toBe("typed");

    const updated = await client.PUT("/todos/{id}", {
      params: { path: { id } },
      body: { status: "done" },
    });
    expect(updated.data?.status).toBe("done");

    const listed = await client.GET("/todos", { params: { query: { status: "done" } } });
    expect(listed.data?.items.map((todo) => todo.id)).toContain(id);

    const deleted = await client.DELETE("/todos/{id}", { params: { path: { id } } });
    expect(deleted.response.status).toBe(204);
  });
});
