/**
 * Deadlines of the requests a sender waits on, under one timer: a timer per request cost a timer
 * object, its callback and two calls into the runtime for every call, and nearly all of them are
 * cleared unfired. Entries sit in a heap by deadline; the timer is set for the earliest and moved
 * only when an earlier one comes (requests with the same timeout arrive in deadline order, so it
 * hardly ever is). An answered entry is only marked; it leaves the heap when its time comes or
 * when marked entries outnumber the live ones.
 *
 * The timer is not cleared when the last entry is answered: one call at a time (a program's
 * usual pace) set a timer with each call and cleared it with its answer (a timer object and
 * two calls into the runtime per call, ~3% of `serve`'s CPU for a lone call). It stays armed,
 * finds nothing when it fires and then ends; it never keeps the process alive (a request
 * waiting on its socket does that), and {@link Deadlines.clear} ends it with its sender.
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
      // Nothing left to time: no entry keeps its request. The timer stays armed for the next
      // call (see the module's doc); it fires on an empty heap and ends.
      this.#heap.length = 0;
    } else if (this.#heap.length > 64 && this.#heap.length > 4 * this.#live) {
      this.#compact();
    }
  }

  /** Forgets every entry and ends the timer (the sender closed: its requests failed). */
  clear(): void {
    for (const entry of this.#heap) entry.deadlineDone = true;
    this.#heap.length = 0;
    this.#live = 0;
    this.#disarm();
  }

  #arm(at: number): void {
    this.#disarm();
    this.#armedAt = at;
    // keepAlive false: armed past its last entry (see the module's doc), it must not hold a
    // process that has nothing else to do for the length of a request's timeout.
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, at - this.#clock.now()), {
      keepAlive: false,
    });
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
