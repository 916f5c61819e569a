/**
 * Writes to a socket with what queued up meanwhile sent together: frames made in one turn (the
 * answers to one received chunk, say) leave in one write and reach the peer in one read, instead
 * of a write and a read each. Under pipelined load that halves the peer's reads; small frames are
 * merged, big ones (file parts) go on their own, since copying them costs more than a write.
 *
 * @module
 */

/** Frames below this many bytes in all are merged into one write. */
export const MERGE_BELOW = 64 * 1024;

/** A writer that never has more than one write under way. */
export interface CoalescingWriter {
  /** Queues `bytes`; they go out after everything queued before them. */
  write(bytes: Uint8Array): void;
  /** Resolves once everything queued so far is written (or writing failed). */
  drained(): Promise<void>;
}

/**
 * Wraps `writeAll` (which writes all of its bytes or rejects) so that frames queued in the same
 * turn, or while a write is under way, are sent in as few writes as fit. After a failed write
 * nothing more is written and `onError` is called once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { coalescingWriter } from "./coalescing_writer.ts";
 * const writes: number[][] = [];
 * const writer = coalescingWriter((bytes) => Promise.resolve(void writes.push([...bytes])), () => {});
 * writer.write(new Uint8Array([1, 2]));
 * writer.write(new Uint8Array([3]));
 * await writer.drained();
 * assert.deepEqual(writes, [[1, 2, 3]]);
 * ```
 */
export function coalescingWriter(
  writeAll: (bytes: Uint8Array) => Promise<void>,
  onError: () => void,
): CoalescingWriter {
  let queue: Uint8Array[] = [];
  let running: Promise<void> | undefined;
  let failed = false;
  const run = async () => {
    // Starts after the current turn, so that every frame of the turn is queued by then.
    await Promise.resolve();
    while (queue.length > 0 && !failed) {
      const batch = queue;
      queue = [];
      try {
        for (let start = 0; start < batch.length;) {
          // Merge a run of frames while they stay small in all; a big frame goes alone.
          let end = start, size = 0;
          while (end < batch.length && (end === start || size + batch[end].length < MERGE_BELOW)) {
            size += batch[end++].length;
          }
          await writeAll(end - start === 1 ? batch[start] : merge(batch, start, end, size));
          start = end;
        }
      } catch {
        failed = true;
        queue = [];
        onError();
      }
    }
    running = undefined;
  };
  return {
    write(bytes) {
      if (failed) return;
      queue.push(bytes);
      running ??= run();
    },
    drained() {
      return running ?? Promise.resolve();
    },
  };
}

function merge(frames: Uint8Array[], start: number, end: number, size: number): Uint8Array {
  const merged = new Uint8Array(size);
  for (let i = start, offset = 0; i < end; offset += frames[i++].length) {
    merged.set(frames[i], offset);
  }
  return merged;
}
