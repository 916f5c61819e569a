/**
 * Lets a pool of reusable buffers go once it has not been used for a while: a file transfer
 * leaves a pool holding its parts' buffers (up to 16 MiB each for the frame pool and the message
 * buffers), which a process left running for weeks would otherwise keep for good after one
 * download. One timer per pool, armed only while the pool holds free buffers, never keeping the
 * process alive.
 *
 * @module
 */

import { type Clock, systemClock, type TimerId } from "./clock.ts";

/** How long a pool's free buffers are kept without a take before they are let go. */
export const POOL_IDLE_MS = 30_000;

/**
 * Calls `drop` once `idleMs` pass with free buffers held and no {@link IdleRelease.used} call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IdleRelease } from "./idle_release.ts";
 * let dropped = 0;
 * const idle = new IdleRelease(() => dropped++, 0);
 * idle.used();
 * idle.holding(); // free buffers are held from now on
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * assert.equal(dropped, 1);
 * ```
 */
export class IdleRelease {
  readonly #drop: () => void;
  readonly #idleMs: number;
  readonly #clock: Clock;
  #lastUse: number;
  #timer: TimerId | undefined;

  /** `drop` empties the pool's free list. */
  constructor(drop: () => void, idleMs = POOL_IDLE_MS, clock: Clock = systemClock) {
    this.#drop = drop;
    this.#idleMs = idleMs;
    this.#clock = clock;
    this.#lastUse = clock.now();
  }

  /** The pool lent a buffer: its free ones are wanted a while longer. */
  used(): void {
    this.#lastUse = this.#clock.now();
  }

  /** The pool now holds free buffers: they are let go after the idle time, unless used. */
  holding(): void {
    if (this.#timer === undefined) this.#arm(this.#idleMs);
  }

  #arm(ms: number): void {
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#timer = undefined;
        const quiet = this.#clock.now() - this.#lastUse;
        if (quiet >= this.#idleMs) this.#drop();
        else this.#arm(this.#idleMs - quiet);
      },
      ms,
      { keepAlive: false },
    );
  }
}
