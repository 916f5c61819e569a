/**
 * Secrets kept out of logs: `--verbose` copies every line in and out, with auth keys, login
 * codes, passwords and the like replaced, and a proxy URL's password or secret hidden.
 *
 * @module
 */

import { parseProxyUrl, proxyToUrl } from "../net/proxy_url.ts";

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
 * A proxy URL with its password or secret as `***` (`socks5://bob:***@127.0.0.1:1080`); one that
 * cannot be read is hidden whole.
 */
export function redactProxyUrl(text: string): string {
  try {
    return proxyToUrl(parseProxyUrl(text), { redact: true });
  } catch {
    return "[redacted]";
  }
}

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
    copy[key] = key === "proxy" && typeof item === "string"
      ? redactProxyUrl(item)
      : SECRET_KEYS.has(key) && item !== undefined && item !== null
      ? "[redacted]"
      : redact(item);
  }
  return copy;
}
