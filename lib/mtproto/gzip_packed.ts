/**
 * `gzip_packed`: any object, compressed. Either side may compress what it sends when that saves
 * bytes; what is received is inflated within one budget, nested layers included.
 * https://core.telegram.org/mtproto/serialize#gzip-packed
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import { SecurityError } from "../errors.ts";
import { GZIP_PACKED_ID, inflatePacked, MAX_GZIP_NESTING, MAX_INFLATED } from "../tl/codec.ts";
import { TlReader } from "../tl/reader.ts";
import { TlWriter } from "../tl/writer.ts";
import { peekConstructorId } from "./peek.ts";

/**
 * Objects whose bulk is a file's bytes: `upload.saveFilePart`, `upload.saveBigFilePart`,
 * `upload.file`, `upload.cdnFile` and `upload.webFile`. Files are mostly compressed already
 * (photos, videos, archives), and trying gzip on every part of up to 512 KiB cost more CPU than
 * anything else in an upload, for parts that came out no smaller.
 */
const FILE_BYTES = new Set([0xb304a621, 0xde7b673d, 0x096a18d5, 0xa99fca4f, 0x21e753bc]);

/**
 * Wrappers a request may travel in, by constructor id, with the bytes of fixed fields before their
 * query: invokeWithoutUpdates (file calls go in it), invokeWithLayer, invokeAfterMsg,
 * invokeWithTakeout.
 */
const WRAPPER_FIELDS = new Map([
  [0xbf9459b7, 0],
  [0xda9b0d0d, 4],
  [0xcb9f372d, 8],
  [0xaca9fd2e, 8],
]);

/** initConnection, which a connection's first call travels in (its fields vary in length). */
const INIT_CONNECTION_ID = 0xc1cd5ea9;

/** The constructor id of what `body` carries, looked for inside the wrappers above. */
function carriedConstructorId(body: Uint8Array): number {
  let offset = 0;
  for (;;) {
    const id = peekConstructorId(body.subarray(offset));
    if (id === INIT_CONNECTION_ID) {
      // The first part on each of an upload's connections: read past it rather than gzip it.
      const skipped = initConnectionLength(body.subarray(offset));
      if (skipped === undefined) return id;
      offset += skipped;
      continue;
    }
    const fields = WRAPPER_FIELDS.get(id);
    if (fields === undefined) return id;
    offset += 4 + fields;
  }
}

/**
 * The bytes of initConnection's fields before its query (flags, api_id, six strings, the optional
 * proxy), or undefined when it carries `params` (a JSONValue, not worth walking) or is cut short.
 */
function initConnectionLength(body: Uint8Array): number | undefined {
  try {
    const reader = new TlReader(body);
    reader.uint32();
    const flags = reader.int32();
    if (flags & 2) return undefined;
    reader.int32();
    for (let i = 0; i < 6; i++) reader.bytesView();
    if (flags & 1) {
      reader.uint32(); // inputClientProxy
      reader.bytesView();
      reader.int32();
    }
    return reader.offset;
  } catch {
    return undefined;
  }
}

/**
 * Returns `body` as gzip_packed when it is longer than `above` bytes and compression makes it
 * smaller; otherwise `body` itself. Objects that carry a file's bytes (wrapped or not) are never
 * compressed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packGzip, unpackGzip } from "./gzip_packed.ts";
 * const body = new Uint8Array(4096);
 * const packed = packGzip(body, 512);
 * assert.ok(packed.length < 100);
 * assert.deepEqual(unpackGzip(packed), body);
 * ```
 */
export function packGzip(body: Uint8Array, above: number): Uint8Array {
  if (body.length <= above || FILE_BYTES.has(carriedConstructorId(body))) return body;
  const packed = gzipSync(body);
  if (packed.length + 8 >= body.length) return body;
  const writer = new TlWriter(packed.length + 16);
  writer.int32(GZIP_PACKED_ID);
  writer.bytes(packed);
  return writer.finish();
}

/**
 * Undoes gzip_packed around a body (nested ones too, within one inflate budget, at most
 * {@link MAX_GZIP_NESTING} layers), or returns it as it is. Data that do not inflate, inflate past
 * the budget, or nest deeper are a {@link SecurityError}.
 */
export function unpackGzip(body: Uint8Array, budget = MAX_INFLATED): Uint8Array {
  for (let layers = 0; peekConstructorId(body) === GZIP_PACKED_ID; layers++) {
    // Every layer costs an inflate call, however small: a deep nest is refused before any.
    if (layers === MAX_GZIP_NESTING) {
      throw new SecurityError(`gzip_packed nested deeper than ${MAX_GZIP_NESTING} levels`);
    }
    const reader = new TlReader(body.subarray(4));
    try {
      body = inflatePacked(reader.bytesView(), budget);
    } catch (error) {
      throw new SecurityError((error as Error).message);
    }
    budget -= body.length;
  }
  return body;
}
