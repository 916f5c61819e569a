/**
 * Deadlines of the requests a sender waits on, under one timer: a timer per request cost a timer
 * object, its callback and two calls into the runtime for every call, and nearly all of them are
 * cleared unfired. Entries sit in a heap by deadline; the timer is set for the earliest and moved
 * only when an earlier one comes (requests with the same timeout arrive in deadline order, so it
 * hardly ever is). An answered entry is only marked; it leaves the heap when its time comes or
 * when marked entries outnumber the live ones.
 *
 * @module
 */

import type { Clock, TimerId } from "../io/clock.ts";

/** What {@link Deadlines} keeps: the request itself, so that no object is made for its deadline. */
export interface DeadlineEntry {
  /** When it expires, on the clock's `now()`. */
  deadlineAt: number;
  /** Its place among entries with the same deadline: the first added expires first. */
  deadlineOrder: number;
  /** True once expired or cancelled. */
  deadlineDone: boolean;
}

/** The pending deadlines of one sender. */
export class Deadlines<T extends DeadlineEntry> {
  readonly #clock: Clock;
  readonly #expire: (entry: T) => void;
  readonly #heap: T[] = [];
  #live = 0;
  #order = 0;
  #timer: TimerId | undefined = undefined;
  #armedAt = Infinity;

  /** `expire` is called for each entry whose deadline passes before it is cancelled. */
  constructor(clock: Clock, expire: (entry: T) => void) {
    this.#clock = clock;
    this.#expire = expire;
  }

  /** Entries waiting for their deadline. */
  get size(): number {
    return this.#live;
  }

  /** Starts counting `entry`'s deadline, `ms` from now. */
  add(entry: T, ms: number): void {
    entry.deadlineAt = this.#clock.now() + ms;
    entry.deadlineOrder = this.#order++;
    entry.deadlineDone = false;
    this.#push(entry);
    this.#live++;
    if (entry.deadlineAt < this.#armedAt) this.#arm(entry.deadlineAt);
  }

  /** Stops counting `entry`'s deadline (it was answered or failed); no-op when already done. */
  cancel(entry: T): void {
    if (entry.deadlineDone) return;
    entry.deadlineDone = true;
    this.#live--;
    if (this.#live === 0) {
      // Nothing left to time: no timer keeps the process alive, no entry keeps its request.
      this.#heap.length = 0;
      this.#disarm();
    } else if (this.#heap.length > 64 && this.#heap.length > 4 * this.#live) {
      this.#compact();
    }
  }

  #arm(at: number): void {
    this.#disarm();
    this.#armedAt = at;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, at - this.#clock.now()));
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
    const due: T[] = [];
    const heap = this.#heap;
    while (heap.length > 0 && (heap[0].deadlineDone || heap[0].deadlineAt <= now)) {
      const entry = this.#pop();
      if (entry.deadlineDone) continue;
      entry.deadlineDone = true;
      this.#live--;
      due.push(entry);
    }
    if (heap.length > 0) this.#arm(heap[0].deadlineAt);
    // Called after the heap is settled: an expiry may add or cancel entries.
    for (const entry of due) this.#expire(entry);
  }

  #compact(): void {
    const live = this.#heap.filter((entry) => !entry.deadlineDone);
    this.#heap.length = 0;
    for (const entry of live) this.#push(entry);
  }

  #push(entry: T): void {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): T {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right], heap[left]) ? right : left;
      if (!before(heap[child], last)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: DeadlineEntry, b: DeadlineEntry): boolean {
  return a.deadlineAt < b.deadlineAt ||
    (a.deadlineAt === b.deadlineAt && a.deadlineOrder < b.deadlineOrder);
}
