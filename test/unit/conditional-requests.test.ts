import { describe, expect, it } from "vitest";
import { etagOf, versionsNamedBy } from "../../src/http/conditional-requests.ts";
import { anyVersion, type VersionCondition, versionMatches } from "../../src/todos/todo.ts";

const oneOf = (first: number, ...rest: number[]): VersionCondition => ({
  kind: "one-of",
  versions: [first, ...rest],
});
const none: VersionCondition = { kind: "none" };

describe("entity tags", () => {
  it("are strong and follow the version", () => {
    expect(etagOf({ version: 3 })).toBe('"3"');
  });

  it.each([
    ['"3"', false, oneOf(3)],
    ['"1", "2" ,"3"', false, oneOf(1, 2, 3)],
    ['W/"3"', false, none],
    ['W/"3"', true, oneOf(3)],
    ["3", false, none],
    ['"abc"', false, none],
    ['"0"', false, none],
    ['"99999999999999999999"', false, none],
    ["*", false, anyVersion],
    [" * ", true, anyVersion],
  ])("%s (weak allowed: %s) names %j", (header, allowWeak, expected) => {
    expect(versionsNamedBy(header, { allowWeak })).toEqual(expected);
  });

  it("hold for the named version or for any", () => {
    expect(versionMatches(oneOf(1, 2), 2)).toBe(true);
    expect(versionMatches(oneOf(1, 2), 3)).toBe(false);
    expect(versionMatches(anyVersion, 7)).toBe(true);
    expect(versionMatches(none, 1)).toBe(false);
  });
});
