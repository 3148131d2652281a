// Racing clients, over real HTTP through the local runtime with several Lambda instances
// (worker threads) on one embedded DynamoDB: conditional writes decide every race.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpApi, httpApi, jsonRequest, scanTable, todoItems } from "./support/api.ts";
import { countInput, figures, reportFigures } from "./support/figures.ts";
import { type QuietRuntime, startQuietRuntime } from "./support/runtime.ts";
import { createTodo, expectContract, type TodoJson } from "./support/todos.ts";

const racers = 50;
let runtime: QuietRuntime;
let call: HttpApi;
let dynamo: DynamoDBClient;

beforeAll(async () => {
  runtime = await startQuietRuntime({ maxInstances: 10 });
  call = httpApi(runtime.url, [runtime.tableName ?? "", runtime.ddbEndpoint]);
  dynamo = new DynamoDBClient({
    endpoint: runtime.ddbEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  // Start every instance first: the races are about the database, not about cold starts.
  const warm = await Promise.all(
    Array.from({ length: 20 }, () => call({ method: "GET", path: "/todos" })),
  );
  if (warm.some((answer) => answer.status !== 200)) console.log(runtime.output().slice(-3000));
}, 60_000);

afterAll(async () => {
  dynamo?.destroy();
  await runtime?.close();
  reportFigures(import.meta.filename);
});

const scanTodos = async () =>
  todoItems(await scanTable(dynamo, runtime.tableName as string), await call.subject());
const tally = (statuses: number[]) =>
  statuses.reduce<Record<number, number>>((counts, status) => {
    counts[status] = (counts[status] ?? 0) + 1;
    return counts;
  }, {});

describe(`${racers} clients racing on one todo`, () => {
  it("PUTs carrying the same If-Match: exactly one wins, the rest get 412, and the winner's write is stored", async () => {
    const { todo, etag } = await createTodo(call, { title: "race for me" });
    const answers = await Promise.all(
      Array.from({ length: racers }, (_, index) => {
        countInput("race: PUT with one If-Match");
        return call(
          jsonRequest(
            "PUT",
            `/todos/${todo.id}`,
            { title: `racer ${index}` },
            { "If-Match": etag },
          ),
        );
      }),
    );
    if (answers.some((a) => a.status >= 500)) console.log(runtime.output().slice(-3000));
    for (const answer of answers) expectContract("updateTodo", answer);
    expect(tally(answers.map((a) => a.status))).toEqual({ 200: 1, 412: racers - 1 });
    const winner = answers.find((a) => a.status === 200)?.json() as TodoJson;
    const read = await call({ method: "GET", path: `/todos/${todo.id}` });
    expect(read.json()).toEqual(winner);
    expect(read.headers.etag).toBe(answers.find((a) => a.status === 200)?.headers.etag);
  });

  it("PUTs without If-Match that change different fields never lose a field", async () => {
    const { todo } = await createTodo(call, { title: "fields", description: "d0" });
    const patches = Array.from(
      { length: racers },
      (_, index): Record<string, string> =>
        index % 3 === 0
          ? { title: `title ${index}` }
          : index % 3 === 1
            ? { description: `description ${index}` }
            : { status: index % 2 ? "done" : "pending" },
    );
    const answers = await Promise.all(
      patches.map((patch) => {
        countInput("race: PUT of different fields");
        return call(jsonRequest("PUT", `/todos/${todo.id}`, patch));
      }),
    );
    for (const answer of answers) {
      expectContract("updateTodo", answer);
      expect(answer.status, answer.body).toBe(200);
    }
    // Every write was applied once: the versions (ETags) are all different.
    const versions = answers.map((a) => Number(a.headers.etag?.replaceAll('"', "")));
    expect(new Set(versions).size).toBe(racers);
    const read = await call({ method: "GET", path: `/todos/${todo.id}` });
    const stored = read.json() as TodoJson;
    expect(read.headers.etag).toBe(`"${Math.max(...versions)}"`);
    // Each field holds what its last writer (the highest version among its writers) wrote.
    for (const field of ["title", "description", "status"] as const) {
      const writers = answers
        .map((answer, index) => ({ answer, patch: patches[index] ?? {} }))
        .filter(({ patch }) => field in patch)
        .sort(
          (a, b) =>
            Number(a.answer.headers.etag?.replaceAll('"', "")) -
            Number(b.answer.headers.etag?.replaceAll('"', "")),
        );
      const last = writers.at(-1);
      expect(stored[field], `${field} lost`).toBe(last?.patch[field]);
    }
  });

  it("POSTs with one Idempotency-Key: exactly one todo exists, and every answer carries its id", async () => {
    const before = await scanTodos();
    const body = { title: "only once", description: "fifty clients, one key" };
    const answers = await Promise.all(
      Array.from({ length: racers }, () => {
        countInput("race: POST with one Idempotency-Key");
        return call(
          jsonRequest("POST", "/todos", body, { "Idempotency-Key": "one-key-for-fifty" }),
        );
      }),
    );
    for (const answer of answers) expectContract("createTodo", answer);
    const statuses = tally(answers.map((a) => a.status));
    if (statuses[409]) console.log(`idempotency race: ${statuses[409]} answers were 409 (no id)`);
    expect(statuses, "a 409 would not carry the id").toEqual({ 201: racers });
    const ids = new Set(answers.map((a) => (a.json() as TodoJson).id));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => a.headers["idempotent-replayed"] === "true")).toHaveLength(
      racers - 1,
    );
    const created = (await scanTodos()).filter((item) => !before.some((b) => b.id === item.id));
    expect(created.map((item) => item.id)).toEqual([...ids]);
  });

  it("DELETEs of one todo: one 204, the others 404", async () => {
    const { todo } = await createTodo(call, { title: "delete me fifty times" });
    const answers = await Promise.all(
      Array.from({ length: racers }, () => {
        countInput("race: DELETE one todo");
        return call({ method: "DELETE", path: `/todos/${todo.id}` });
      }),
    );
    for (const answer of answers) expectContract("deleteTodo", answer);
    expect(tally(answers.map((a) => a.status))).toEqual({ 204: 1, 404: racers - 1 });
    expect((await scanTodos()).some((item) => item.id === todo.id)).toBe(false);
  });

  it("saw no 5xx and no exposure", () => {
    expect(figures.serverErrors, figures.serverErrorSamples.join("\n")).toBe(0);
    expect(figures.exposures).toBe(0);
  });
});
