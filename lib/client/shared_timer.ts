/**
 * One timer per clock for many deadlines that are mostly moved, rarely reached: every managed
 * account's next update deadline (the idle check 15 minutes on, a gap's 500 ms). A timer of its
 * own per account cost a timer object, its callback and the runtime's entry for every idle
 * connection through serve (~0.5 KB each with 1000), and a clear and a set at each call's
 * result; here an entry is moved within a heap, and the one timer is set again only when the
 * earliest deadline comes sooner than it is set for. The timer never keeps the process alive.
 *
 * @module
 */

import type { Clock, TimerId } from "../io/clock.ts";

/** A deadline of a {@link SharedTimer}, kept in the entry itself (no object per deadline). */
export interface SharedDeadline {
  /** When it is due, on the clock's `now()`. */
  dueAt: number;
  /** Its place in the timer's heap, negative when not scheduled. */
  heapIndex: number;
  /** Called once the deadline passed, unless it was moved or cancelled first. */
  due(): void;
}

/** Longest wait one timer is set for (the platform's limit; later deadlines are set again). */
const MAX_WAIT_MS = 2 ** 31 - 1;

/**
 * The heapIndex of a deadline taken off the heap to fire: scheduling or cancelling it before its
 * turn (another deadline's work, as they fell due together) changes it, and then it does not fire.
 */
const FIRING = -2;

/**
 * The deadlines of one clock under one timer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SharedTimer } from "./shared_timer.ts";
 * let now = 0;
 * const timers: (() => void)[] = [];
 * const clock = {
 *   now: () => now, wall: () => now, sleep: () => Promise.resolve(),
 *   setTimeout: (run: () => void) => timers.push(run), clearTimeout() {},
 *   setInterval: () => 0, clearInterval() {},
 * };
 * const fired: string[] = [];
 * const entry = (name: string) => ({ dueAt: 0, heapIndex: -1, due: () => fired.push(name) });
 * const a = entry("a"), b = entry("b");
 * const timer = SharedTimer.of(clock);
 * timer.schedule(a, 100);
 * timer.schedule(b, 50);
 * timer.schedule(b, 200); // moved: a is first now
 * now = 150;
 * timers.at(-1)!();
 * assert.deepEqual(fired, ["a"]);
 * ```
 */
export class SharedTimer {
  static readonly #byClock = new WeakMap<Clock, SharedTimer>();
  readonly #clock: Clock;
  readonly #heap: SharedDeadline[] = [];
  #timer: TimerId | undefined = undefined;
  #armedAt = Infinity;

  private constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The shared timer of `clock`. */
  static of(clock: Clock): SharedTimer {
    let timer = SharedTimer.#byClock.get(clock);
    if (!timer) SharedTimer.#byClock.set(clock, timer = new SharedTimer(clock));
    return timer;
  }

  /** Deadlines scheduled. */
  get size(): number {
    return this.#heap.length;
  }

  /** Schedules `entry` at `dueAt` (on the clock's `now()`), or moves it there. */
  schedule(entry: SharedDeadline, dueAt: number): void {
    const earlier = dueAt < entry.dueAt;
    entry.dueAt = dueAt;
    if (entry.heapIndex < 0) {
      entry.heapIndex = this.#heap.length;
      this.#heap.push(entry);
      this.#up(entry.heapIndex);
    } else if (earlier) this.#up(entry.heapIndex);
    else this.#down(entry.heapIndex);
    if (dueAt < this.#armedAt) this.#arm(dueAt);
  }

  /** Unschedules `entry`; nothing when it is not scheduled. */
  cancel(entry: SharedDeadline): void {
    const index = entry.heapIndex;
    entry.heapIndex = -1;
    if (index < 0) return;
    const last = this.#heap.pop()!;
    if (last !== entry) {
      this.#heap[index] = last;
      last.heapIndex = index;
      this.#up(index);
      this.#down(last.heapIndex);
    }
    // The timer stays set: when it fires with nothing due it is set for the new earliest, and
    // with nothing left it is cleared, so that no timer outlives the deadlines.
    if (this.#heap.length === 0) this.#disarm();
  }

  #arm(at: number): void {
    this.#disarm();
    this.#armedAt = at;
    const wait = Math.min(MAX_WAIT_MS, Math.max(0, at - this.#clock.now()));
    this.#timer = this.#clock.setTimeout(() => this.#fire(), wait, { keepAlive: false });
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = this.#clock.now();
    const due: SharedDeadline[] = [];
    const heap = this.#heap;
    while (heap.length > 0 && heap[0].dueAt <= now) {
      const entry = heap[0];
      this.cancel(entry);
      entry.heapIndex = FIRING;
      due.push(entry);
    }
    if (heap.length > 0) this.#arm(heap[0].dueAt);
    // After the heap is settled: a deadline's work may schedule or cancel others, those due
    // with it too (moved, it fires at its new time; cancelled, not at all).
    // One deadline's work that throws does not cost the others theirs: each runs, and the first
    // error is thrown once all have (as the timer of each would have had its own).
    let failure: { error: unknown } | undefined;
    for (const entry of due) {
      if (entry.heapIndex !== FIRING) continue;
      entry.heapIndex = -1;
      try {
        entry.due();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  #up(index: number): void {
    const heap = this.#heap, entry = heap[index];
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent].dueAt <= entry.dueAt) break;
      heap[index] = heap[parent];
      heap[index].heapIndex = index;
      index = parent;
    }
    heap[index] = entry;
    entry.heapIndex = index;
  }

  #down(index: number): void {
    const heap = this.#heap, entry = heap[index];
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right].dueAt < heap[left].dueAt ? right : left;
      if (heap[child].dueAt >= entry.dueAt) break;
      heap[index] = heap[child];
      heap[index].heapIndex = index;
      index = child;
    }
    heap[index] = entry;
    entry.heapIndex = index;
  }
}
