/**
 * Buffers for big received frames (a file's parts), lent and given back, so that a download does
 * not leave a megabyte of garbage per part for the garbage collector: V8 collects array buffers
 * only after tens of megabytes of them have piled up, which is most of a download's peak RSS.
 *
 * A buffer is lent with one reference (the frame's). Each holder of a view into it that outlives
 * the frame's handling takes one more ({@link FramePool.retain}) and gives it back when done
 * ({@link FramePool.release}); at none, the buffer is free for the next frame. A reference never
 * given back costs nothing but the reuse: the buffer is then garbage as it would have been.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import { IdleRelease, POOL_IDLE_MS } from "./idle_release.ts";

/** Frames from this size on are served from the pool (smaller ones are not worth it)… */
export const POOLED_FROM = 256 * 1024;
/** …up to this size: a 1 MiB part with its headers. */
export const POOLED_BUFFER = 1024 * 1024 + 64 * 1024;

/** Lends fixed-size buffers for big frames. */
export class FramePool {
  readonly #free: ArrayBuffer[] = [];
  readonly #references = new WeakMap<ArrayBuffer, number>();
  readonly #maxFree: number;
  readonly #idle: IdleRelease;
  #allocated = 0;

  /**
   * Keeps at most `maxFree` free buffers (the rest become garbage), and none once no frame was
   * taken for `idleMs` (after a download, a process gives its buffers back).
   */
  constructor(maxFree = 16, idleMs = POOL_IDLE_MS, clock?: Clock) {
    this.#maxFree = maxFree;
    this.#idle = new IdleRelease(() => this.#free.length = 0, idleMs, clock);
  }

  /**
   * `count` bytes to fill, lent with one reference when the size is one the pool serves, else
   * a fresh array of its own. Its bytes are whatever was there: the caller overwrites them all.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FramePool } from "./frame_pool.ts";
   * const pool = new FramePool();
   * const frame = pool.take(300_000);
   * pool.release(frame);
   * assert.equal(pool.take(400_000).buffer, frame.buffer); // the same buffer, lent again
   * ```
   */
  take(count: number): Uint8Array {
    if (count < POOLED_FROM || count > POOLED_BUFFER) return new Uint8Array(count);
    this.#idle.used();
    const buffer = this.#free.pop() ?? (this.#allocated++, new ArrayBuffer(POOLED_BUFFER));
    this.#references.set(buffer, 1);
    return new Uint8Array(buffer, 0, count);
  }

  /** One more holder of `view`'s buffer, if the pool lent it (any other view: nothing to do). */
  retain(view: Uint8Array): void {
    const count = this.#references.get(view.buffer as ArrayBuffer);
    if (count !== undefined) this.#references.set(view.buffer as ArrayBuffer, count + 1);
  }

  /** A holder of `view`'s buffer is done with it; the last one makes it free again. */
  release(view: Uint8Array): void {
    const buffer = view.buffer as ArrayBuffer;
    const count = this.#references.get(buffer);
    if (count === undefined) return;
    if (count > 1) {
      this.#references.set(buffer, count - 1);
      return;
    }
    this.#references.delete(buffer);
    if (this.#free.length < this.#maxFree) {
      this.#free.push(buffer);
      this.#idle.holding();
    }
  }

  /** Buffers free to lend (for tests and the bench). */
  get free(): number {
    return this.#free.length;
  }

  /** Buffers made so far: fewer than the frames taken is the pool at work. */
  get allocated(): number {
    return this.#allocated;
  }
}

/**
 * The process's pool: the client's transports take from it, the sender retains what it hands to
 * a caller, and the file download's consumer releases each part once written.
 */
export const framePool: FramePool = new FramePool();
