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

/** What {@link readChunks} reads from: a socket, or anything with its `read`. */
export interface ChunkSource {
  read(into: Uint8Array): Promise<number | null>;
}

const DONE: IteratorReturnResult<void> = { done: true, value: undefined };

/**
 * Yields what `source` reads, each chunk in a buffer of its own (never reused, so callers may keep
 * it), until the end of the stream. A buffer passed to `next()` (a transport's readTarget: the
 * rest of a big frame) is read into instead, and the chunk is a view of it from its start.
 *
 * An iterator of its own rather than an async generator: a thousand idle connections each wait
 * in a read, and a suspended generator kept its frame, its registers and a queued request for
 * every one of them; here a pending read holds only its buffer and one callback.
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
export function readChunks(source: ChunkSource): ChunkReader {
  return new ChunkReader(source);
}

/** The iterator {@link readChunks} returns: `next(target?)`, and `return()` to stop. */
export class ChunkReader
  implements AsyncIterableIterator<Uint8Array, void, Uint8Array | undefined> {
  readonly #source: ChunkSource;
  #size = SMALLEST;
  #ended = false;

  /** Reads `source` from the next call of `next` on. */
  constructor(source: ChunkSource) {
    this.#source = source;
  }

  /** The iterator itself, so that it can be given to `for await`. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next chunk: read into `target` when one is given, else into a buffer of its own. */
  next(target?: Uint8Array): Promise<IteratorResult<Uint8Array, void>> {
    if (this.#ended) return Promise.resolve(DONE);
    if (target?.length) {
      return this.#source.read(target).then(
        (count) => count === null ? this.#end() : { done: false, value: target.subarray(0, count) },
        (error) => this.#fail(error),
      );
    }
    const size = this.#size;
    const buffer = new Uint8Array(size);
    return this.#source.read(buffer).then((count) => {
      if (count === null) return this.#end();
      if (count === size) this.#size = Math.min(LARGEST, size * 2);
      else if (count < size / 4) this.#size = Math.max(SMALLEST, size / 2);
      return { done: false, value: count === size ? buffer : buffer.subarray(0, count) };
    }, (error) => this.#fail(error));
  }

  /** Stops: later calls of `next` are done (the source itself is the caller's to close). */
  return(): Promise<IteratorResult<Uint8Array, void>> {
    this.#ended = true;
    return Promise.resolve(DONE);
  }

  #end(): IteratorReturnResult<void> {
    this.#ended = true;
    return DONE;
  }

  /** A failed read ends the iteration, as it ends a generator. */
  #fail(error: unknown): never {
    this.#ended = true;
    throw error;
  }
}
