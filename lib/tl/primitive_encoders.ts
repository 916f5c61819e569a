/**
 * How each TL primitive is checked and written, in every input form the contract allows: longs
 * as numbers, bigints or decimal strings; bytes, int128 and int256 as base64 or `Uint8Array`.
 *
 * @module
 */

import { TlEncodeError } from "../errors.ts";
import type { Encoder } from "./combinator_table.ts";
import { isTlObject } from "./tl_object.ts";
import type { TlWriter } from "./writer.ts";

const MIN_LONG = -(2n ** 63n);
const MAX_UNSIGNED_LONG = 2n ** 64n - 1n;
const MAX_BYTES_LENGTH = 0xffffff;

/**
 * Names a value for an error message: its `_cons`, its kind, or a short quote of it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeValue } from "./primitive_encoders.ts";
 * assert.equal(describeValue({ _cons: "inputPeerSelf" }), "inputPeerSelf");
 * assert.equal(describeValue("x".repeat(50)), `string "${"x".repeat(37)}..."`);
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "bytes";
  if (isTlObject(value)) return value._cons;
  if (typeof value === "object") return "an object without _cons";
  if (typeof value === "string") return `string ${JSON.stringify(truncate(value))}`;
  return `${typeof value} ${truncate(String(value))}`;
}

function truncate(text: string): string {
  return text.length > 40 ? text.slice(0, 37) + "..." : text;
}

function bytesFrom(value: unknown, what: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") {
    try {
      return Uint8Array.fromBase64(value);
    } catch {
      try {
        return Uint8Array.fromBase64(value, { alphabet: "base64url" });
      } catch {
        throw new TlEncodeError("BadValue", `${what} must be base64, got ${describeValue(value)}`);
      }
    }
  }
  throw new TlEncodeError("WrongType", `expected ${what} as base64, got ${describeValue(value)}`);
}

function writeLong(writer: TlWriter, value: unknown): void {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new TlEncodeError(
        "BadValue",
        `long ${value} is not an exact integer; send large values as a decimal string`,
      );
    }
    writer.longFromNumber(value);
    return;
  }
  let big: bigint;
  // The exact digits the decoder gives longs past 2^53 in (JSON.rawJSON), fed back in-process.
  const raw = typeof value === "object" && value !== null && "rawJSON" in value
    ? (value as { rawJSON: unknown }).rawJSON
    : value;
  if (typeof raw === "bigint") big = raw;
  else if (typeof raw === "string" && /^-?\d{1,20}$/.test(raw)) big = BigInt(raw);
  else throw new TlEncodeError("WrongType", `expected long, got ${describeValue(value)}`);
  if (big < MIN_LONG || big > MAX_UNSIGNED_LONG) {
    throw new TlEncodeError("BadValue", `long ${big} is out of the 64-bit range`);
  }
  writer.long(big);
}

function writeFixed(size: number): Encoder {
  const what = `int${size * 8}`;
  return (writer, value) => {
    const bytes = bytesFrom(value, what);
    if (bytes.length !== size) {
      throw new TlEncodeError("BadValue", `${what} must be ${size} bytes, got ${bytes.length}`);
    }
    writer.raw(bytes);
  };
}

/**
 * The encoder of each primitive type by name (`int`, `long`, `double`, `string`, `bytes`,
 * `int128`, `int256`), each checking the value's form and range before writing it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRIMITIVE_ENCODERS } from "./primitive_encoders.ts";
 * import { TlWriter } from "./writer.ts";
 * const writer = new TlWriter();
 * PRIMITIVE_ENCODERS.long(writer, "-2");
 * assert.equal(writer.finish().length, 8);
 * assert.throws(() => PRIMITIVE_ENCODERS.int(new TlWriter(), "1"), /expected int, got string/);
 * ```
 */
export const PRIMITIVE_ENCODERS: Record<string, Encoder> = {
  int(writer, value) {
    if (
      typeof value !== "number" || !Number.isInteger(value) || value < -2147483648 ||
      value > 4294967295
    ) {
      throw new TlEncodeError("WrongType", `expected int, got ${describeValue(value)}`);
    }
    writer.int32(value);
  },
  long: writeLong,
  double(writer, value) {
    // An integer literal beyond 2^53 reaches here as its decimal text (see parseJsonExact).
    if (typeof value === "string" && /^-?\d+$/.test(value)) value = Number(value);
    if (typeof value !== "number") {
      throw new TlEncodeError("WrongType", `expected double, got ${describeValue(value)}`);
    }
    writer.double(value);
  },
  string(writer, value) {
    if (typeof value !== "string") {
      throw new TlEncodeError("WrongType", `expected string, got ${describeValue(value)}`);
    }
    if (!writer.string(value, MAX_BYTES_LENGTH)) {
      throw new TlEncodeError("BadValue", "string longer than 16 MiB in UTF-8");
    }
  },
  bytes(writer, value) {
    const bytes = bytesFrom(value, "bytes");
    if (bytes.length > MAX_BYTES_LENGTH) {
      throw new TlEncodeError("BadValue", `bytes of length ${bytes.length} exceed 16 MiB`);
    }
    writer.bytes(bytes);
  },
  int128: writeFixed(16),
  int256: writeFixed(32),
};
