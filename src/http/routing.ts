// The routes come from the contract's operation table (generated/operations.ts); this module
// answers what @middy/http-router does not: which methods a known path allows (405 + Allow).
import type { OperationRoute } from "../../generated/operations.ts";
import { HttpProblem, plainProblem } from "./problem.ts";

function pathPattern(template: string): RegExp {
  const source = template
    .split("/")
    .map((segment) =>
      /^\{[^}]+\}$/.test(segment) ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("/");
  return new RegExp(`^${source}/?$`);
}

/** The router's answer for a request no route takes: 405 with Allow on a known path, else 404. */
export function unroutedRequest(routes: readonly OperationRoute[]) {
  const paths = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  for (const route of routes) {
    const entry = paths.get(route.path) ?? {
      pattern: pathPattern(route.path),
      methods: new Set(["OPTIONS"]),
    };
    entry.methods.add(route.method);
    paths.set(route.path, entry);
  }
  return ({ method, path }: { method: string; path: string }): never => {
    for (const { pattern, methods } of paths.values()) {
      if (pattern.test(path)) {
        const allow = [...methods].sort().join(", ");
        throw new HttpProblem(plainProblem(405, `${method} is not allowed here; use ${allow}.`), {
          Allow: allow,
        });
      }
    }
    throw new HttpProblem(plainProblem(404, `Nothing is at ${path}.`));
  };
}
