import { describe, expect, it } from "vitest";
import { patterns } from "../../generated/schemas.ts";
import { InvalidPageTokenError } from "../../src/todos/errors.ts";
import { PageTokenCodec } from "../../src/todos/page-token.ts";

const id = "019b7b5c-2c00-7000-8000-000000000001";
const codec = new PageTokenCodec("key-1");

describe("nextToken", () => {
  it("decodes to the position it was made from, for the same owner and filter", () => {
    expect(codec.decode("alice", codec.encode("alice", { id }), undefined)).toEqual({ id });
    const done = codec.encode("alice", { id, status: "done" });
    expect(codec.decode("alice", done, "done")).toEqual({ id, status: "done" });
  });

  it("is opaque, URL-safe, and of the contract's NextToken pattern", () => {
    expect(codec.encode("alice", { id, status: "pending" })).toMatch(
      /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/,
    );
    expect(codec.encode("alice", { id, status: "pending" })).toMatch(
      new RegExp(patterns.NextToken),
    );
  });

  it.each([
    ["another owner's token", () => codec.decode("bob", codec.encode("alice", { id }), undefined)],
    [
      "another filter's token",
      () => codec.decode("alice", codec.encode("alice", { id, status: "done" }), "pending"),
    ],
    [
      "a filtered token without the filter",
      () => codec.decode("alice", codec.encode("alice", { id, status: "done" }), undefined),
    ],
    [
      "a token signed with another key",
      () => codec.decode("alice", new PageTokenCodec("key-2").encode("alice", { id }), undefined),
    ],
    ["junk", () => codec.decode("alice", "junk", undefined)],
    ["three parts", () => codec.decode("alice", "a.b.c", undefined)],
  ])("refuses %s", (_, decode) => {
    expect(decode).toThrow(InvalidPageTokenError);
  });

  it("refuses a payload altered under its signature", () => {
    const [, signature] = codec.encode("alice", { id }).split(".");
    const altered = Buffer.from(JSON.stringify({ v: 1, id: id.replace(/1$/, "2") })).toString(
      "base64url",
    );
    expect(() => codec.decode("alice", `${altered}.${signature}`, undefined)).toThrow(
      InvalidPageTokenError,
    );
  });
});
