/**
 * Reads TL primitives from bytes, little-endian, with bounds checks that turn truncated or hostile
 * input into a {@link TlDecodeError} instead of garbage or a hang.
 *
 * @module
 */

import { TlDecodeError } from "../errors.ts";
import { rawJson } from "./json.ts";

const TWO_POW_32 = 4294967296;

/**
 * Bytes that the gzip_packed inside one decoded message may inflate to, all of them together: a
 * small packet must not become gigabytes, neither as one value nor as many. Telegram's largest
 * answers (a language pack, a 1 MiB file part) are far below it; inflating it whole takes ~10 ms.
 */
export const MAX_INFLATED = 16 * 1024 * 1024;
const utf8 = new TextDecoder();

/**
 * A cursor over TL bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TlReader } from "./reader.ts";
 * const reader = new TlReader(new Uint8Array([0x15, 0xcd, 0x5b, 0x07]));
 * assert.ok(reader.int32() === 123456789);
 * ```
 */
export class TlReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  offset = 0;
  /** Objects and vectors entered and not yet left, for the codec's nesting limit. */
  depth = 0;
  /** Bytes that gzip_packed met from here on may still inflate to. */
  inflateBudget = MAX_INFLATED;
  /** gzip_packed layers around what is read here, for the codec's gzip nesting limit. */
  gzipDepth = 0;

  /** Creates a reader over `bytes`, starting at its first byte. */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  /** Throws unless `count` more bytes are available. */
  need(count: number, what: string): void {
    if (this.offset + count > this.bytes.length) {
      throw new TlDecodeError(
        `Cannot decode ${what}: needs ${count} bytes, ${this.remaining} remain`,
        this.offset,
      );
    }
  }

  /** Reads a signed 32-bit integer. */
  int32(): number {
    this.need(4, "int");
    const value = this.view.getInt32(this.offset, true);
    this.offset += 4;
    return value;
  }

  /** Reads an unsigned 32-bit integer (constructor ids). */
  uint32(): number {
    this.need(4, "constructor id");
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  /** Reads a signed 64-bit integer as a bigint. */
  long(): bigint {
    this.need(8, "long");
    const value = this.view.getBigInt64(this.offset, true);
    this.offset += 8;
    return value;
  }

  /**
   * Reads a signed 64-bit integer as a JSON-ready value: a plain number when it is exactly
   * representable, otherwise `JSON.rawJSON` of its decimal digits, so JSON text keeps all 64 bits.
   */
  longJson(): number | unknown {
    this.need(8, "long");
    const low = this.view.getUint32(this.offset, true);
    const high = this.view.getInt32(this.offset + 4, true);
    this.offset += 8;
    // |value| < 2^53 exactly when the high word is within ±2^21.
    if (high >= -2097152 && high < 2097152) return high * TWO_POW_32 + low;
    return rawJson(((BigInt(high) << 32n) | BigInt(low)).toString());
  }

  /** Reads a signed 64-bit integer as its decimal string. */
  longString(): string {
    return this.long().toString();
  }

  /** Reads an IEEE-754 double. */
  double(): number {
    this.need(8, "double");
    const value = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return value;
  }

  /** Reads `count` raw bytes as a view into the input (no copy). */
  raw(count: number, what = "raw bytes"): Uint8Array {
    this.need(count, what);
    const value = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return value;
  }

  /** Reads a TL `bytes` value (length prefix, data, padding to 4) as a view into the input. */
  bytesView(): Uint8Array {
    this.need(1, "bytes length");
    let length = this.bytes[this.offset];
    let header = 1;
    if (length === 254) {
      this.need(4, "bytes length");
      length = this.view.getUint32(this.offset, true) >>> 8;
      header = 4;
    } else if (length === 255) {
      throw new TlDecodeError("Cannot decode bytes: length marker 255 is reserved", this.offset);
    }
    const padded = (header + length + 3) & ~3;
    if (this.offset + padded > this.bytes.length) {
      throw new TlDecodeError(
        `Cannot decode bytes: length ${length} exceeds remaining ${this.remaining - header} bytes`,
        this.offset,
      );
    }
    const value = this.bytes.subarray(this.offset + header, this.offset + header + length);
    this.offset += padded;
    return value;
  }

  /** Reads a TL `bytes` value as a copy that outlives the input buffer. */
  bytesCopy(): Uint8Array {
    return this.bytesView().slice();
  }

  /** Reads a TL `string`: UTF-8, with invalid sequences replaced rather than rejected. */
  string(): string {
    const bytes = this.bytesView();
    const length = bytes.length;
    // Short ASCII strings (names, codes, usernames) dominate; building them directly is several
    // times cheaper than a TextDecoder call.
    if (length < 24) {
      let text = "";
      for (let i = 0; i < length; i++) {
        const byte = bytes[i];
        if (byte > 0x7f) return utf8.decode(bytes);
        text += String.fromCharCode(byte);
      }
      return text;
    }
    return utf8.decode(bytes);
  }

  /** Reads a vector length and checks it against what is left, at 4 bytes an element at least. */
  vectorLength(): number {
    const count = this.int32();
    if (count < 0 || count * 4 > this.remaining) {
      throw new TlDecodeError(
        `Cannot decode vector: length ${count >>> 0} exceeds remaining ${this.remaining} bytes`,
        this.offset - 4,
      );
    }
    return count;
  }
}
