/**
 * Writes TL primitives into a growable buffer, little-endian.
 *
 * @module
 */

const TWO_POW_32 = 4294967296;
const utf8 = new TextEncoder();

/**
 * A growable output buffer for TL serialization.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TlWriter } from "./writer.ts";
 * const writer = new TlWriter();
 * writer.int32(123456789);
 * assert.ok(writer.finish().join() === "21,205,91,7");
 * ```
 */
export class TlWriter {
  #buffer: Uint8Array;
  #view: DataView;
  readonly #capacity: number;
  offset = 0;

  /** Creates a writer with `capacity` bytes reserved; it grows as needed. */
  constructor(capacity = 256) {
    this.#capacity = capacity;
    this.#buffer = new Uint8Array(capacity);
    this.#view = new DataView(this.#buffer.buffer);
  }

  /** Makes room for `count` more bytes. */
  ensure(count: number): void {
    const needed = this.offset + count;
    if (needed <= this.#buffer.length) return;
    let capacity = this.#buffer.length * 2;
    // A big value (a file's part) gets what it needs and a little more, not the next power of
    // two: a megabyte's part would otherwise zero two.
    if (capacity < needed) capacity = needed + 256;
    const grown = new Uint8Array(capacity);
    grown.set(this.#buffer.subarray(0, this.offset));
    this.#buffer = grown;
    this.#view = new DataView(grown.buffer);
  }

  /** Writes a 32-bit integer; values up to 2^32 - 1 are written as their unsigned bits. */
  int32(value: number): void {
    this.ensure(4);
    this.#view.setInt32(this.offset, value | 0, true);
    this.offset += 4;
  }

  /** Writes a 64-bit integer from a bigint, already range-checked by the caller. */
  long(value: bigint): void {
    this.ensure(8);
    this.#view.setBigInt64(this.offset, BigInt.asIntN(64, value), true);
    this.offset += 8;
  }

  /** Writes a 64-bit integer from a safe integer number, without a bigint round trip. */
  longFromNumber(value: number): void {
    this.ensure(8);
    this.#view.setUint32(this.offset, value >>> 0, true);
    this.#view.setInt32(this.offset + 4, Math.floor(value / TWO_POW_32) | 0, true);
    this.offset += 8;
  }

  /** Writes an IEEE-754 double. */
  double(value: number): void {
    this.ensure(8);
    this.#view.setFloat64(this.offset, value, true);
    this.offset += 8;
  }

  /** Writes bytes as they are, with no length prefix. */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.#buffer.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  /** Writes a TL `bytes` value: length prefix, data, zero padding to a multiple of 4. */
  bytes(bytes: Uint8Array): void {
    const length = bytes.length;
    this.ensure(length + 8);
    const header = this.#writeLength(length);
    this.#buffer.set(bytes, this.offset);
    this.offset += length;
    this.#pad(header + length);
  }

  /**
   * Writes a TL `string`: its UTF-8 bytes as a `bytes` value. Returns false, writing nothing, when
   * the UTF-8 form is longer than `maxBytes`.
   */
  string(text: string, maxBytes = 0xffffff): boolean {
    const maxLength = text.length * 3;
    this.ensure(maxLength + 8);
    // Encode straight into place after a provisional 1-byte header; move the data if the real
    // length needs the 4-byte header.
    const start = this.offset;
    const { written } = utf8.encodeInto(text, this.#buffer.subarray(start + 1));
    if (written > maxBytes) return false;
    if (written < 254) {
      this.#buffer[start] = written;
      this.offset = start + 1 + written;
      this.#pad(1 + written);
      return true;
    }
    this.#buffer.copyWithin(start + 4, start + 1, start + 1 + written);
    this.#view.setUint32(start, (written << 8) | 254, true);
    this.offset = start + 4 + written;
    this.#pad(4 + written);
    return true;
  }

  #writeLength(length: number): number {
    if (length < 254) {
      this.#buffer[this.offset++] = length;
      return 1;
    }
    this.#view.setUint32(this.offset, (length << 8) | 254, true);
    this.offset += 4;
    return 4;
  }

  #pad(written: number): void {
    while (written & 3) {
      this.#buffer[this.offset++] = 0;
      written++;
    }
  }

  /** Returns a copy of what was written; the writer may be reused after `reset()`. */
  finish(): Uint8Array {
    return this.#buffer.slice(0, this.offset);
  }

  /**
   * Returns what was written as a view into the writer's own buffer, without a copy: for a writer
   * used once, since writing after `reset()` would change the returned bytes.
   */
  finishView(): Uint8Array {
    return this.#buffer.subarray(0, this.offset);
  }

  /**
   * Returns what was written as a view into the writer's own buffer, and starts the writer over
   * on a new buffer of its first capacity: no copy, for a value too big to copy out and keep room
   * for (a file part, which would be copied once more by {@link TlWriter.finish}).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TlWriter } from "./writer.ts";
   * const writer = new TlWriter();
   * writer.int32(7);
   * const first = writer.detach();
   * writer.int32(8);
   * assert.deepEqual([...first, ...writer.finish()], [7, 0, 0, 0, 8, 0, 0, 0]);
   * ```
   */
  detach(): Uint8Array {
    const written = this.#buffer.subarray(0, this.offset);
    this.#buffer = new Uint8Array(this.#capacity);
    this.#view = new DataView(this.#buffer.buffer);
    this.offset = 0;
    return written;
  }

  /** Forgets what was written, keeping the allocated buffer. */
  reset(): void {
    this.offset = 0;
  }
}
