/**
 * The output side of a line protocol: lines are queued and written in as few writes as possible
 * (lines pushed before the writer's first microtask turn go out together, and so do all that
 * queued up while the previous write was in flight), the bytes not yet written are counted for
 * back-pressure, and a failed write drops everything at once.
 *
 * @module
 */

/**
 * Queues lines for one writer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineWriter } from "./line_writer.ts";
 * const writes: string[] = [];
 * const out = new LineWriter(async (text) => void writes.push(text));
 * out.push("a");
 * out.push("b");
 * out.push("c");
 * await out.flushed();
 * out.push("d");
 * await out.flushed();
 * assert.deepEqual(writes, ["a\nb\nc\n", "d\n"]);
 * ```
 */
export class LineWriter {
  #queue: string[] = [];
  /** Characters queued or being written. */
  #unsent = 0;
  #writing = false;
  #broken = false;
  #waiters: (() => void)[] = [];

  /** `write` sends text (one or more lines, newlines included); it rejects when the peer is gone. */
  constructor(private readonly write: (text: string) => Promise<void>) {}

  /** Characters accepted but not yet written. */
  get unsent(): number {
    return this.#unsent;
  }

  /** True once a write failed: the peer is gone, and lines pushed since are dropped. */
  get broken(): boolean {
    return this.#broken;
  }

  /** Queues one line (the newline is added here). */
  push(line: string): void {
    if (this.#broken) return;
    this.#queue.push(line + "\n");
    this.#unsent += line.length + 1;
    if (!this.#writing) this.#pump();
  }

  /** Resolves once at most `limit` characters are unsent, or the writer is broken. */
  async below(limit: number): Promise<void> {
    while (!this.#broken && this.#unsent > limit) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Resolves when a write has failed: the peer is gone. */
  async gone(): Promise<void> {
    while (!this.#broken) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves once everything pushed so far is written (or the writer is broken). */
  flushed(): Promise<void> {
    return this.below(0);
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    // Answers settled by one received container are pushed in a run of microtasks: wait for the
    // run to end, so the first line does not go out alone.
    await Promise.resolve();
    while (this.#queue.length && !this.#broken) {
      const text = this.#queue.length === 1 ? this.#queue[0] : this.#queue.join("");
      this.#queue = [];
      try {
        await this.write(text);
        this.#unsent -= text.length;
      } catch {
        // The peer is gone: forget what it will never read, all at once.
        this.#broken = true;
        this.#queue = [];
        this.#unsent = 0;
      }
      if (this.#waiters.length) { for (const wake of this.#waiters.splice(0)) wake(); }
    }
    this.#writing = false;
  }
}
