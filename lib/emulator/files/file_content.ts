/**
 * Where a file's bytes come from: generated from a seed, held in memory (the few small files of
 * the default world), or a temporary file on disk (uploads). Each reads a part at a time, so no
 * file is ever held whole.
 *
 * @module
 */

import type { FileContent } from "../world_types.ts";
import { generatedFileBytes } from "./generated_bytes.ts";

/** The part of a file of `size` bytes from `offset`: its start and how many bytes it has. */
function clamp(size: number, offset: number, length: number): number {
  return Math.max(0, Math.min(length, size - offset));
}

/**
 * Content generated from `seed` (see {@link generatedFileBytes}), `size` bytes long.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generatedContent } from "./file_content.ts";
 * const file = generatedContent(1n, 5000);
 * assert.equal(file.read(4096, 4096).length, 904);
 * assert.equal(file.read(8192, 4096).length, 0);
 * ```
 */
export function generatedContent(seed: bigint, size: number): FileContent {
  return {
    size,
    read: (offset, length, into) =>
      generatedFileBytes(seed, offset, clamp(size, offset, length), into),
  };
}

/**
 * Content held in memory (read without copying), its parts worth compressing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryContent } from "./file_content.ts";
 * assert.deepEqual(memoryContent(new Uint8Array([1, 2, 3])).read(1, 10), new Uint8Array([2, 3]));
 * ```
 */
export function memoryContent(bytes: Uint8Array): FileContent {
  return {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, offset + clamp(bytes.length, offset, length)),
    compressible: true,
  };
}

/**
 * Content in an open file of `size` bytes, read synchronously (the emulator's handlers are
 * synchronous; the page cache makes these reads memory copies).
 */
export function diskContent(file: Deno.FsFile, size: number): FileContent {
  return {
    size,
    read(offset, length, into) {
      const count = clamp(size, offset, length);
      const out = into && into.length >= count ? into.subarray(0, count) : new Uint8Array(count);
      file.seekSync(offset, Deno.SeekMode.Start);
      for (let at = 0; at < count;) {
        const read = file.readSync(out.subarray(at));
        if (read === null || read === 0) {
          throw new Error(`the file ended ${count - at} bytes early`);
        }
        at += read;
      }
      return out;
    },
  };
}
