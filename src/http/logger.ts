// Structured JSON logs, one object per line, as CloudWatch Logs Insights reads them. `level` and
// an RFC 3339 `timestamp` are the keys Lambda's log-level filtering (JSON log format) reads from
// lines written to stdout; without a timestamp it would file every line as INFO.
type Level = "debug" | "info" | "warn" | "error";
const levelRank: Record<Level | "silent", number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: 99,
};

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: string | undefined): Logger {
  const threshold = levelRank[(level ?? "info") as Level] ?? levelRank.info;
  const write =
    (logLevel: Level) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      if (levelRank[logLevel] < threshold) return;
      const line = JSON.stringify({
        level: logLevel,
        timestamp: new Date().toISOString(),
        message,
        ...fields,
      });
      (logLevel === "error" ? process.stderr : process.stdout).write(`${line}\n`);
    };
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
  };
}
