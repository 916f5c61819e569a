/**
 * JSON text ⇄ TL values, keeping 64-bit integers exact in both directions.
 *
 * Parsing: `JSON.parse` turns 9223372036854775807 into a rounded double. A reviver with
 * `context.source` fixes that but costs about six times a plain parse, so instead the integer
 * literals too large for a double are quoted before parsing (the encoder accepts `long` values as
 * decimal strings). Only the text outside string literals is touched, and text with no run of 16
 * digits — most requests — goes straight to `JSON.parse`.
 *
 * Printing: decoded values hold such longs as `JSON.rawJSON` (see `TlCodec`'s `longs: "json"`), so
 * `JSON.stringify` prints every digit with no replacer.
 *
 * @module
 */

import { JsonSyntaxError } from "../errors.ts";

/**
 * `JSON.rawJSON`: wraps JSON text so that `JSON.stringify` emits it verbatim. The runtime has it;
 * the bundled TypeScript library does not declare it yet.
 */
export const rawJson: (text: string) => unknown =
  (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

const MAYBE_UNSAFE = /\d{16}/;
const INTEGER_LITERAL = /-?\d{16,}(?![\d.eE])/g;

/**
 * Parses JSON text, returning integers beyond ±2^53 as their exact decimal strings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonExact } from "./json.ts";
 * const value = parseJsonExact('{"access_hash": -8446744073709551615, "text": "12345678901234567890"}');
 * assert.ok(value.access_hash === "-8446744073709551615");
 * assert.ok(value.text === "12345678901234567890");
 * ```
 */
// deno-lint-ignore no-explicit-any
export function parseJsonExact(text: string): any {
  try {
    return JSON.parse(MAYBE_UNSAFE.test(text) ? quoteUnsafeIntegers(text) : text);
  } catch (error) {
    throw new JsonSyntaxError(`invalid JSON: ${(error as Error).message}`);
  }
}

/** Rewrites integer literals outside strings that a double cannot hold exactly as strings. */
function quoteUnsafeIntegers(text: string): string {
  let output = "";
  let copiedUpTo = 0;
  let position = 0;
  while (position < text.length) {
    const quote = text.indexOf('"', position);
    const outsideEnd = quote < 0 ? text.length : quote;
    if (outsideEnd - position >= 16) {
      const outside = text.slice(position, outsideEnd);
      for (const match of outside.matchAll(INTEGER_LITERAL)) {
        if (Number.isSafeInteger(Number(match[0]))) continue;
        const at = position + match.index;
        output += text.slice(copiedUpTo, at) + '"' + match[0] + '"';
        copiedUpTo = at + match[0].length;
      }
    }
    if (quote < 0) break;
    position = endOfString(text, quote);
  }
  return copiedUpTo === 0 ? text : output + text.slice(copiedUpTo);
}

/** Returns the index just past the string literal opening at `quote` (or the text's end). */
function endOfString(text: string, quote: number): number {
  let end = quote + 1;
  for (;;) {
    end = text.indexOf('"', end);
    if (end < 0) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) return end + 1;
    end++;
  }
}

/**
 * Serializes a value to one line of JSON; bigints print exactly and bytes as base64, for callers
 * that hold native values. Values decoded in the codec's JSON mode need only `JSON.stringify`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stringifyJson } from "./json.ts";
 * assert.ok(stringifyJson({ id: 2n ** 63n - 1n }) === '{"id":9223372036854775807}');
 * ```
 */
export function stringifyJson(value: unknown): string {
  return JSON.stringify(value, (_key, item) => {
    if (typeof item === "bigint") return rawJson(item.toString());
    if (item instanceof Uint8Array) return item.toBase64();
    return item;
  });
}
