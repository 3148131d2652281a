// nextToken: an opaque, signed position in one owner's listing. The owner is never read from
// a token (it comes from the request), and the signature binds the token to that owner and
// to the listing's status filter, so an altered, foreign or reused-elsewhere token is refused.
import { createHmac, timingSafeEqual } from "node:crypto";
import { patterns } from "../../generated/schemas.ts";
import { InvalidPageTokenError } from "./errors.ts";
import type { TodoStatus } from "./todo.ts";
import type { PagePosition } from "./todo-store.ts";

const todoIdPattern = new RegExp(patterns.TodoId);

/** What a token holds: the position, and the status filter of the listing it belongs to. */
export interface TokenPosition extends PagePosition {
  status?: TodoStatus;
}

export class PageTokenCodec {
  readonly #key: string;

  /** `key` signs tokens; tokens signed with another key are refused. */
  constructor(key: string) {
    this.#key = key;
  }

  encode(owner: string, position: TokenPosition): string {
    const payload = Buffer.from(JSON.stringify({ v: 1, ...position })).toString("base64url");
    return `${payload}.${this.#sign(owner, payload)}`;
  }

  /** The position a token names, for this owner and this status filter; throws when it is not ours. */
  decode(owner: string, token: string, status: TodoStatus | undefined): TokenPosition {
    const [payload, signature, ...rest] = token.split(".");
    if (!payload || !signature || rest.length) throw new InvalidPageTokenError();
    const expected = Buffer.from(this.#sign(owner, payload));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new InvalidPageTokenError();
    }
    let position: unknown;
    try {
      position = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      throw new InvalidPageTokenError();
    }
    const { v, id, status: tokenStatus } = (position ?? {}) as Record<string, unknown>;
    if (v !== 1 || typeof id !== "string" || !todoIdPattern.test(id)) {
      throw new InvalidPageTokenError();
    }
    // The request's status is checked against the contract already: equal to it is valid.
    if (tokenStatus !== status) throw new InvalidPageTokenError();
    return status ? { id, status } : { id };
  }

  #sign(owner: string, payload: string): string {
    return createHmac("sha256", this.#key)
      .update(`${owner}\n${payload}`)
      .digest("base64url")
      .slice(0, 32);
  }
}
