// UUIDv7 (RFC 9562, section 5.7): 48 bits of Unix time in milliseconds, the version, and 74
// bits that are random for the first id of a millisecond and counted up for each further id
// (section 6.2, method 2). So the ids of one instance sort in the order it made them, within a
// millisecond too, and when the clock steps back they go on from the last one.
import { randomFillSync } from "node:crypto";

let lastMs = -1;
// The 74 bits as three counters: rand_a (12 bits), then rand_b's upper 30 and lower 32 bits.
let randA = 0;
let randBHigh = 0;
let randBLow = 0;
const seed = new Uint32Array(3);

const hex = (value: number, digits: number) => value.toString(16).padStart(digits, "0");

/**
 * The millisecond an id carries. It can differ from the clock reading the id was made from
 * (a full millisecond, a clock stepped back), so whatever must agree with the id's order,
 * such as a todo's created_at, takes its time from here.
 */
export function uuidv7Millis(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

export function uuidv7(nowMs: number = Date.now()): string {
  if (nowMs > lastMs) {
    randomFillSync(seed);
    lastMs = nowMs;
    randA = (seed[0] as number) & 0xfff;
    // The counter starts in the lower half, so a burst has room to count before it overflows.
    randBHigh = (seed[1] as number) & 0x1fffffff;
    randBLow = seed[2] as number;
  } else if (++randBLow > 0xffffffff) {
    randBLow = 0;
    if (++randBHigh > 0x3fffffff) {
      randBHigh = 0;
      // 2^74 ids in one millisecond: borrow the next one, as the RFC allows.
      if (++randA > 0xfff) {
        randA = 0;
        lastMs++;
      }
    }
  }
  const time = hex(lastMs, 12);
  return `${time.slice(0, 8)}-${time.slice(8)}-7${hex(randA, 3)}-${hex(
    0x8000 | (randBHigh >>> 16),
    4,
  )}-${hex(randBHigh & 0xffff, 4)}${hex(randBLow, 8)}`;
}
