/**
 * An `upload.file` answer whose bytes are read (generated, for the emulator's big files) straight
 * into the encrypted message it goes in: no part of a download is encoded, wrapped in rpc_result
 * and copied again, which was a fifth of the emulator's work serving one.
 *
 * @module
 */

import type { BodyWriter } from "../../mtproto/encrypted_message.ts";
import type { FileContent } from "../world_types.ts";

/**
 * The TL of `upload.file` as a body that writes itself: `head` is the object's serialized fields
 * before `bytes` (its constructor, type and mtime), then the `length` bytes of `content` from
 * `offset` as a TL `bytes` value, read in place when it can be.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { filePartBody } from "./file_part_body.ts";
 * import { generatedContent } from "./file_content.ts";
 * const body = filePartBody(new Uint8Array([9, 9, 9, 9]), generatedContent(1n, 300), 0, 300);
 * const out = new Uint8Array(body.length);
 * body.writeTo(out);
 * assert.deepEqual(out.subarray(0, 8), new Uint8Array([9, 9, 9, 9, 254, 44, 1, 0]));
 * assert.deepEqual(out.subarray(8, 308), generatedContent(1n, 300).read(0, 300));
 * assert.equal(body.length, 308);
 * ```
 */
export function filePartBody(
  head: Uint8Array,
  content: FileContent,
  offset: number,
  length: number,
): BodyWriter {
  const header = length < 254 ? 1 : 4;
  const padded = (header + length + 3) & ~3;
  return {
    length: head.length + padded,
    writeTo(into) {
      into.set(head, 0);
      let at = head.length;
      if (header === 1) into[at] = length;
      else into.set([254, length & 0xff, (length >>> 8) & 0xff, (length >>> 16) & 0xff], at);
      at += header;
      const target = into.subarray(at, at + length);
      const read = content.read(offset, length, target);
      // Content that cannot read into place (a misaligned target, a file in memory) is copied.
      if (read.buffer !== target.buffer || read.byteOffset !== target.byteOffset) target.set(read);
      into.fill(0, at + length, head.length + padded);
    },
  };
}
