// Picks the template route for a request the way API Gateway's resource tree does:
// at each segment a static name beats a {param}, which beats a greedy {proxy+};
// the method is looked up on that one resource (an exact method beats ANY).
import type { RouteDefinition } from "./template.ts";

type Segment =
  | { kind: "static"; name: string }
  | { kind: "param"; name: string }
  | { kind: "greedy"; name: string };

interface CompiledResource {
  resourcePath: string;
  segments: Segment[];
  /** The rank of each segment: compared when several resources match. */
  score: number[];
  methods: Map<string, RouteDefinition>;
}

export interface RouteMatch {
  /** Undefined when the resource exists but has neither the method nor ANY. */
  route?: RouteDefinition;
  resourcePath: string;
  /** Methods the matched resource answers, ANY included. */
  methods: string[];
  pathParameters: Record<string, string> | null;
}

function compileSegments(resourcePath: string): Segment[] {
  return resourcePath
    .split("/")
    .filter(Boolean)
    .map((part) => {
      const greedy = /^\{(.+)\+\}$/.exec(part);
      if (greedy) return { kind: "greedy", name: greedy[1] as string };
      const param = /^\{(.+)\}$/.exec(part);
      if (param) return { kind: "param", name: param[1] as string };
      return { kind: "static", name: part };
    });
}

const rank = { static: 0, param: 1, greedy: 2 } as const;

function decodeSegment(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export class Router {
  readonly #resources: CompiledResource[] = [];

  constructor(routes: RouteDefinition[]) {
    const byPath = new Map<string, CompiledResource>();
    for (const route of routes) {
      let resource = byPath.get(route.resourcePath);
      if (!resource) {
        const segments = compileSegments(route.resourcePath);
        resource = {
          resourcePath: route.resourcePath,
          segments,
          score: segments.map((segment) => rank[segment.kind]),
          methods: new Map(),
        };
        byPath.set(route.resourcePath, resource);
        this.#resources.push(resource);
      }
      resource.methods.set(route.method, route);
    }
  }

  /** `rawPath` is the request path as sent (still percent-encoded), without a query. */
  match(rawPath: string, method: string): RouteMatch | undefined {
    // Decoded once here, compared with every resource below.
    const parts = rawPath.split("/").filter(Boolean).map(decodeSegment);
    let best: { resource: CompiledResource; params: Record<string, string> } | undefined;
    for (const resource of this.#resources) {
      const params = matchSegments(resource.segments, parts);
      if (!params) continue;
      if (!best || compareScores(resource.score, best.resource.score) < 0) {
        best = { resource, params };
      }
    }
    if (!best) return undefined;
    const { resource, params } = best;
    return {
      route: resource.methods.get(method.toUpperCase()) ?? resource.methods.get("ANY"),
      resourcePath: resource.resourcePath,
      methods: [...resource.methods.keys()],
      pathParameters: Object.keys(params).length > 0 ? params : null,
    };
  }
}

/** `parts` are the request path's segments, already decoded. */
function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index] as Segment;
    if (segment.kind === "greedy") {
      // A greedy variable needs at least one segment: /{proxy+} does not match "/".
      if (index >= parts.length) return undefined;
      params[segment.name] = parts.slice(index).join("/");
      return params;
    }
    const part = parts[index];
    if (part === undefined) return undefined;
    if (segment.kind === "static") {
      if (part !== segment.name) return undefined;
    } else {
      params[segment.name] = part;
    }
  }
  return segments.length === parts.length ? params : undefined;
}

function compareScores(left: number[], right: number[]): number {
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    // A resource that ends earlier matched the same parts with fewer, more specific, segments.
    const a = left[index] ?? -1;
    const b = right[index] ?? -1;
    if (a !== b) return a - b;
  }
  return 0;
}
