/**
 * JSON text ⇄ TL values, keeping 64-bit integers exact in both directions.
 *
 * Parsing: `JSON.parse` turns 9223372036854775807 into a rounded double. A reviver with
 * `context.source` fixes that but costs about six times a plain parse, so instead one linear scan
 * of the text quotes the integer literals a double cannot hold (the encoder takes `long` values
 * as decimal strings, and `double` values as numbers or such strings) and measures nesting, before
 * `JSON.parse` does the rest. The scan skips string literals and reads each number token whole,
 * so `0.30000000000000004` and `1e308` pass untouched, and it costs about a third of the parse.
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

/** Arrays and objects nested deeper than this are refused (TL itself allows 200 levels). */
export const MAX_JSON_NESTING = 1000;

/**
 * Parses JSON text, returning integers beyond ±2^53 as their exact decimal strings. Every text
 * `JSON.parse` accepts is accepted, unless it nests deeper than {@link MAX_JSON_NESTING}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonExact } from "./json.ts";
 * const value = parseJsonExact('{"access_hash": -8446744073709551615, "text": "12345678901234567890"}');
 * assert.ok(value.access_hash === "-8446744073709551615");
 * assert.ok(value.text === "12345678901234567890");
 * assert.ok(parseJsonExact("[0.30000000000000004, 1e400]")[1] === Infinity);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function parseJsonExact(text: string): any {
  const prepared = quoteUnsafeIntegers(text);
  try {
    return JSON.parse(prepared);
  } catch (error) {
    throw new JsonSyntaxError(`invalid JSON: ${(error as Error).message}`);
  }
}

/**
 * One pass over the text: quotes integer literals outside strings that a double cannot hold, and
 * refuses nesting past the limit. Linear in the length whatever the text holds.
 */
function quoteUnsafeIntegers(text: string): string {
  let output = "";
  let copied = 0;
  let depth = 0;
  // Where the next backslash is, found once and reused, so that strings are skipped with
  // indexOf and the scan stays linear.
  let nextBackslash = -2;
  const length = text.length;
  for (let i = 0; i < length;) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let j = i + 1;
      for (;;) {
        const close = text.indexOf('"', j);
        if (close < 0) {
          j = length;
          break;
        }
        if (nextBackslash !== -1 && nextBackslash < j) nextBackslash = text.indexOf("\\", j);
        if (nextBackslash === -1 || nextBackslash > close) {
          j = close + 1;
          break;
        }
        j = nextBackslash + 2; // an escaped character, a quote perhaps
      }
      i = j;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > MAX_JSON_NESTING) {
        throw new JsonSyntaxError(
          `invalid JSON: nested deeper than ${MAX_JSON_NESTING} levels at position ${i}`,
        );
      }
      i++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      i++;
    } else if (c === MINUS || isDigit(c)) {
      const start = i++;
      while (i < length && isDigit(text.charCodeAt(i))) i++;
      const next = text.charCodeAt(i);
      if (next === DOT || next === LOWER_E || next === UPPER_E) {
        // A fraction or exponent: a double, whatever its digits. Read the token to its end.
        while (i < length && isNumberPart(text.charCodeAt(i))) i++;
      } else if (i - start >= 16) {
        const literal = text.slice(start, i);
        if (!Number.isSafeInteger(Number(literal))) {
          output += text.slice(copied, start) + '"' + literal + '"';
          copied = i;
        }
      }
    } else i++;
  }
  return copied === 0 ? text : output + text.slice(copied);
}

const QUOTE = 34, MINUS = 45, DOT = 46, LOWER_E = 101, UPPER_E = 69, PLUS = 43;
const OPEN_BRACE = 123, CLOSE_BRACE = 125, OPEN_BRACKET = 91, CLOSE_BRACKET = 93;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isNumberPart(c: number): boolean {
  return isDigit(c) || c === DOT || c === LOWER_E || c === UPPER_E || c === PLUS || c === MINUS;
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
