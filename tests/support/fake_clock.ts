/**
 * A clock driven by the test: `advance(ms)` fires what falls due, in order, letting promise
 * callbacks run between timers, so deadlines and backoff are tested without sleeping.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type { Clock, TimerId } from "../../lib/io/clock.ts";

interface Entry {
  id: number;
  due: number;
  every?: number;
  run: () => void;
}

/** A fake clock and its timers. */
export class FakeClock implements Clock {
  /** The fake clock, in milliseconds. */
  time = 0;
  /** Wall time at `time` 0 (milliseconds since the epoch). */
  epochMs: number;

  /**
   * Starts at monotonic time 0 and wall time `epochMs`: the real time by default, so that message
   * ids made on it are in the time window of a DC on the real clock.
   */
  constructor(epochMs = Date.now()) {
    this.epochMs = epochMs;
  }
  #next = 1;
  #entries = new Map<number, Entry>();

  setTimeout(run: () => void, ms: number): TimerId {
    const id = this.#next++;
    this.#entries.set(id, { id, due: this.time + Math.max(0, ms), run });
    return id;
  }

  clearTimeout(id: TimerId): void {
    this.#entries.delete(id as number);
  }

  setInterval(run: () => void, ms: number): TimerId {
    const id = this.#next++;
    this.#entries.set(id, { id, due: this.time + ms, every: ms, run });
    return id;
  }

  clearInterval(id: TimerId): void {
    this.#entries.delete(id as number);
  }

  now(): number {
    return this.time;
  }

  wall(): number {
    return this.epochMs + this.time;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(() => resolve(), ms));
  }

  /** Clock still pending. */
  get pending(): number {
    return this.#entries.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      await settle();
      let first: Entry | undefined;
      for (const entry of this.#entries.values()) {
        if (entry.due <= target && (!first || entry.due < first.due)) first = entry;
      }
      if (!first) break;
      this.time = first.due;
      if (first.every) first.due += first.every;
      else this.#entries.delete(first.id);
      first.run();
    }
    this.time = target;
    await settle();
  }
}

/**
 * Lets pending promise callbacks (and the I/O of in-memory pipes) run; no time passes. Each turn
 * is `setImmediate`, not `setTimeout(0)`: timers nested more than five deep are clamped to 4 ms,
 * and a fake clock advanced step by step nests them deep, so a test spent most of its real time
 * in those 4 ms waits.
 */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}
