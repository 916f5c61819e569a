/**
 * Reading a socket into buffers sized to what arrives: an idle connection holds a 1 KiB buffer for
 * its pending read instead of the 64 KiB a socket's `readable` allocates, which is most of what a
 * thousand idle connections cost (4 KiB there: 178–180 MB for 1000 idle signed-in connections
 * through serve, 1 KiB: 169 MB, helper-30's measure); a busy one grows its buffer up to 128 KiB. No bigger: a frame
 * larger than what one read brings is read on into a buffer of its own (a transport's readTarget,
 * lent by the frame pool for a file's part), so a bigger read buffer would only bring a file part
 * whole into a buffer nobody reuses — a megabyte of garbage per part, and most of a download's
 * peak RSS (195 MB at 1 MiB reads, 123 MB at 128 KiB, for 1 GiB through serve).
 *
 * @module
 */

const SMALLEST = 1024;
const LARGEST = 128 * 1024;

/**
 * Yields what `source` reads, each chunk in a buffer of its own (never reused, so callers may keep
 * it), until the end of the stream. A buffer passed to `next()` (a transport's readTarget: the
 * rest of a big frame) is read into instead, and the chunk is a view of it from its start.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readChunks } from "./read_chunks.ts";
 * let given = false;
 * const source = {
 *   read: (into: Uint8Array) => Promise.resolve(given ? null : (given = true, into.set([1, 2]), 2)),
 * };
 * const chunks = [];
 * for await (const chunk of readChunks(source)) chunks.push([...chunk]);
 * assert.deepEqual(chunks, [[1, 2]]);
 * ```
 */
export async function* readChunks(
  source: { read(into: Uint8Array): Promise<number | null> },
): AsyncGenerator<Uint8Array, void, Uint8Array | undefined> {
  let size = SMALLEST;
  let target: Uint8Array | undefined;
  for (;;) {
    if (target?.length) {
      const count = await source.read(target);
      if (count === null) return;
      target = yield target.subarray(0, count);
      continue;
    }
    const buffer = new Uint8Array(size);
    const count = await source.read(buffer);
    if (count === null) return;
    target = yield count === size ? buffer : buffer.subarray(0, count);
    if (count === size) size = Math.min(LARGEST, size * 2);
    else if (count < size / 4) size = Math.max(SMALLEST, size / 2);
  }
}
