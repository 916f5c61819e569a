/**
 * Log lines as text for people or as JSON for log collectors (`--log-format json`): one object a
 * line with the time, a level, the connection it concerns, and the message.
 *
 * @module
 */

import { systemClock } from "./clock.ts";

/** What a log line may say besides its message. */
export interface LogFields {
  level?: "debug" | "info" | "error";
  /** The `serve` connection it concerns. */
  connection?: number;
}

/** Writes one log line. */
export type Logger = (message: string, fields?: LogFields) => void;

/**
 * A logger writing `format` lines through `write`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatLogger } from "./log_format.ts";
 * const lines: string[] = [];
 * const log = formatLogger("json", (line) => lines.push(line), () => new Date(0));
 * log("listening", { connection: 3 });
 * assert.deepEqual(JSON.parse(lines[0]), {
 *   time: "1970-01-01T00:00:00.000Z",
 *   level: "info",
 *   connection: 3,
 *   msg: "listening",
 * });
 * ```
 */
export function formatLogger(
  format: "text" | "json",
  write: (line: string) => void,
  now: () => Date = () => new Date(systemClock.wall()),
): Logger {
  if (format === "json") {
    return (message, fields = {}) =>
      write(JSON.stringify({
        time: now().toISOString(),
        level: fields.level ?? "info",
        ...(fields.connection !== undefined ? { connection: fields.connection } : {}),
        msg: message,
      }));
  }
  return (message, fields = {}) =>
    write(fields.connection !== undefined ? `[${fields.connection}] ${message}` : message);
}
