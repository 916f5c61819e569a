/**
 * `gzip_packed`: the wrapper that may stand in for any boxed object, and its inflation under one
 * budget per decoded message, so that a few kilobytes cannot unpack into gigabytes.
 *
 * @module
 */

import { unzipSync } from "node:zlib";
import { TlDecodeError } from "../errors.ts";
import { MAX_INFLATED, TlReader } from "./reader.ts";

/** Constructor id of `gzip_packed`, which may stand in for any boxed object. */
export const GZIP_PACKED_ID = 0x3072cfa1;

/**
 * gzip_packed layers one inside another that are read: Telegram packs a message or an answer
 * once, and a packed message may carry a packed answer, so two occur. Each layer costs an inflate
 * call however small it is (a 1000-deep nest of 31 KB took ~22 ms to unwrap), so a deeper nest is
 * refused at once instead of unwrapped.
 */
export const MAX_GZIP_NESTING = 3;

/**
 * Inflates the data of a `gzip_packed`, at most `limit` bytes ({@link MAX_INFLATED} by default).
 * The docs say gzip; some clients send zlib instead (mtcute deflates), and Telegram takes both, so both are read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deflateSync, gzipSync } from "node:zlib";
 * import { inflatePacked } from "./gzip.ts";
 * const text = new TextEncoder().encode("hello");
 * assert.deepEqual(new Uint8Array(inflatePacked(gzipSync(text))), text);
 * assert.deepEqual(new Uint8Array(inflatePacked(deflateSync(text))), text);
 * ```
 */
export function inflatePacked(packed: Uint8Array, limit = MAX_INFLATED): Uint8Array {
  if (limit <= 0) {
    throw new TlDecodeError(`gzip_packed data exceed the ${MAX_INFLATED}-byte inflate budget`, 0);
  }
  try {
    const inflated = unzipSync(packed, { maxOutputLength: limit });
    // A plain view of node's Buffer: no copy, and no Buffer methods leaking into decoded values.
    return new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
  } catch (error) {
    throw new TlDecodeError(`gzip_packed data do not inflate: ${(error as Error).message}`, 0);
  }
}

/**
 * Reads the body of a `gzip_packed` whose id `reader` has just read: inflates it and reads it with
 * `read`, which must consume all of it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gzipSync } from "node:zlib";
 * import { readGzipped } from "./gzip.ts";
 * import { TlReader } from "./reader.ts";
 * import { TlWriter } from "./writer.ts";
 * const inner = new TlWriter();
 * inner.int32(42);
 * const outer = new TlWriter();
 * outer.bytes(gzipSync(inner.finish()));
 * assert.equal(readGzipped(new TlReader(outer.finish()), (reader) => reader.int32()), 42);
 * ```
 */
export function readGzipped(reader: TlReader, read: (inner: TlReader) => unknown): unknown {
  if (reader.gzipDepth >= MAX_GZIP_NESTING) {
    throw new TlDecodeError(
      `gzip_packed nested deeper than ${MAX_GZIP_NESTING} levels`,
      reader.offset - 4,
    );
  }
  const inner = new TlReader(inflatePacked(reader.bytesView(), reader.inflateBudget));
  // Nested and sibling gzip_packed draw on one budget and one depth count.
  inner.inflateBudget = reader.inflateBudget - inner.bytes.length;
  inner.depth = reader.depth;
  inner.gzipDepth = reader.gzipDepth + 1;
  const value = read(inner);
  if (inner.remaining !== 0) {
    throw new TlDecodeError(`${inner.remaining} bytes left over in gzip_packed`, inner.offset);
  }
  reader.inflateBudget = inner.inflateBudget;
  return value;
}
