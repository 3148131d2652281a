import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/http/logger.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

function linesWrittenAt(level: string | undefined): Record<string, unknown>[] {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, "write").mockImplementation(capture);
  vi.spyOn(process.stderr, "write").mockImplementation(capture);
  const logger = createLogger(level);
  logger.debug("d", { n: 1 });
  logger.info("i");
  logger.warn("w");
  logger.error("e");
  vi.restoreAllMocks();
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("the logger", () => {
  it("writes debug lines at LOG_LEVEL=debug, one JSON object each", () => {
    const lines = linesWrittenAt("debug");
    expect(lines.map((line) => line.level)).toEqual(["debug", "info", "warn", "error"]);
    expect(lines[0]).toMatchObject({ level: "debug", message: "d", n: 1 });
  });

  it("leaves debug out at the default level, and everything out when silent", () => {
    expect(linesWrittenAt(undefined).map((line) => line.level)).toEqual(["info", "warn", "error"]);
    expect(linesWrittenAt("silent")).toEqual([]);
  });
});
