// A todo's version in HTTP (RFC 9110 §8.8.3, §13.1): the strong ETag every single-todo answer
// carries, and the If-Match / If-None-Match headers that name versions back.
import type { APIGatewayProxyEvent } from "aws-lambda";
import {
  anyVersion,
  type StoredTodo,
  type VersionCondition,
  versionMatches,
} from "../todos/todo.ts";

/** A strong entity tag per stored version: every successful write bumps the version. */
export function etagOf(todo: Pick<StoredTodo, "version">): string {
  return `"${todo.version}"`;
}

const ourEntityTag = /^"([1-9][0-9]{0,14})"$/;

/**
 * Which versions an If-Match / If-None-Match header names: any for `*`, else the versions
 * among its entity tags. Weak tags count only where weak comparison is allowed
 * (If-None-Match); tags that are not ours name no version, and a header of only those is
 * `none`, which never matches.
 */
export function versionsNamedBy(
  header: string,
  { allowWeak }: { allowWeak: boolean },
): VersionCondition {
  if (header.trim() === "*") return anyVersion;
  const versions: number[] = [];
  for (const rawTag of header.split(",")) {
    let tag = rawTag.trim();
    if (tag.startsWith("W/")) {
      if (!allowWeak) continue;
      tag = tag.slice(2);
    }
    const match = ourEntityTag.exec(tag);
    if (match?.[1]) versions.push(Number(match[1]));
  }
  const [first, ...rest] = versions;
  return first === undefined ? { kind: "none" } : { kind: "one-of", versions: [first, ...rest] };
}

/** The condition a PUT or DELETE is made under: its If-Match, or any version without one. */
export function ifMatchOf(event: APIGatewayProxyEvent): VersionCondition {
  const header = event.headers["if-match"];
  return header === undefined ? anyVersion : versionsNamedBy(header, { allowWeak: false });
}

/** True when a GET's If-None-Match names the todo's current version: answer 304. */
export function notModified(event: APIGatewayProxyEvent, todo: StoredTodo): boolean {
  const header = event.headers["if-none-match"];
  return (
    header !== undefined &&
    versionMatches(versionsNamedBy(header, { allowWeak: true }), todo.version)
  );
}
