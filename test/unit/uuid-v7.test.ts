import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../src/todos/uuid-v7.ts";

const todoId = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("uuidv7", () => {
  it("should carry the millisecond, the version and the variant where RFC 9562 puts them", () => {
    const id = uuidv7(0x0123456789ab + 10_000);
    expect(id).toMatch(todoId);
    expect(id.slice(0, 13)).toBe(hex12(0x0123456789ab + 10_000));
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(0x0123456789ab + 10_000);
  });

  it("should sort in the order made, within one millisecond", () => {
    const now = Date.now() + 20_000;
    const ids = Array.from({ length: 5000 }, () => uuidv7(now));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(todoId);
  });

  it("should go on counting from the last id when the clock steps back", () => {
    const later = uuidv7(Date.now() + 40_000);
    const afterStepBack = uuidv7(Date.now());
    expect(afterStepBack > later).toBe(true);
    expect(afterStepBack.slice(0, 13)).toBe(later.slice(0, 13));
  });

  it("should start each new millisecond from fresh random bits", () => {
    const base = Date.now() + 60_000;
    const tails = Array.from({ length: 50 }, (_, index) => uuidv7(base + index).slice(14));
    expect(new Set(tails).size).toBe(tails.length);
  });
});

function hex12(ms: number): string {
  const hex = ms.toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8)}`;
}
