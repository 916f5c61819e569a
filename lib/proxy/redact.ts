/**
 * Secrets kept out of logs: `--verbose` copies every line in and out, with auth keys, login
 * codes, passwords and the like replaced.
 *
 * @module
 */

/** True for `JSON.rawJSON` values (exact longs), which are printed as they are. */
const isRawJson = (JSON as unknown as { isRawJSON(value: unknown): boolean }).isRawJSON;

/**
 * Keys whose values are secrets: keys, login codes, passwords and their SRP proofs, tokens, and
 * the one-time bytes that carry an authorization to another DC.
 */
const SECRET_KEYS = new Set([
  "auth_key",
  "phone_code",
  "password",
  "new_password_hash",
  "current_password_hash",
  "A",
  "M1",
  "token",
  "api_hash",
  "bytes",
]);

/**
 * A copy of a parsed value with every secret replaced, for logs. Works on the object, never on
 * text, so no spelling of a key (`"auth\u005fkey"`) slips through.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redact } from "./redact.ts";
 * const line = JSON.parse('{"session": {"auth\\u005fkey": "c2VjcmV0", "dc": 2}}');
 * assert.deepEqual(redact(line), { session: { auth_key: "[redacted]", dc: 2 } });
 * ```
 */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value !== "object" || value === null || isRawJson(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = SECRET_KEYS.has(key) && item !== undefined && item !== null
      ? "[redacted]"
      : redact(item);
  }
  return copy;
}
