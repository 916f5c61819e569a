/**
 * The replay window: the last msg_ids received in a session, so that a message seen before, or
 * older than everything the window still holds, is refused. It keeps a fixed number of ids: a set
 * to look up and a ring to know the oldest, so an idle session stays small.
 * https://core.telegram.org/mtproto/security_guidelines#checking-msg-id
 *
 * @module
 */

/** How many msg_ids a session remembers. */
export const REPLAY_WINDOW = 4096;

/**
 * The msg_ids one side has accepted, up to `size` of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReplayWindow } from "./replay_window.ts";
 * const window = new ReplayWindow(2);
 * assert.equal(window.accept(8n), undefined);
 * assert.equal(window.accept(8n), "replayed msg_id");
 * window.accept(12n);
 * window.accept(16n); // 8 leaves the window
 * assert.equal(window.accept(4n), "msg_id older than the replay window");
 * ```
 */
export class ReplayWindow {
  /**
   * Each id with the number of ids accepted before it, in two generations: the newer fills up to
   * the window's size and then replaces the older, which is dropped whole. Deleting ids one by one
   * from a set of bigints cost half a microsecond per message; an id is in the window when fewer
   * than `size` ids came after it.
   */
  #current = new Map<bigint, number>();
  #previous = new Map<bigint, number>();
  #count = 0;
  /** The highest id accepted: one above it cannot have been seen (the usual case, no lookup). */
  #highest: bigint | undefined = undefined;
  /**
   * The highest id accepted other than #highest: an id between the two cannot have been seen
   * either. A container's id comes after its messages' ids, which then arrive below #highest in
   * increasing order, each in that gap: no lookup in the maps (a bigint key's lookup was 2-4% of
   * serve's time under 10 x 50).
   */
  #second: bigint | undefined = undefined;
  #ring: bigint[] = []; // grows to the window, then wraps
  #next = 0;

  /** A window of the last `size` ids. */
  constructor(readonly size = REPLAY_WINDOW) {}

  /** True when `messageId` is in the window (it was received and accepted). */
  has(messageId: bigint): boolean {
    const at = this.#current.get(messageId) ?? this.#previous.get(messageId);
    return at !== undefined && at >= this.#count - this.size;
  }

  /** Records `messageId`, or returns why it is refused (then it is not recorded). */
  accept(messageId: bigint): string | undefined {
    const highest = this.#highest, second = this.#second;
    let gap = false;
    if (highest === undefined || messageId > highest) {
      this.#second = highest;
      this.#highest = messageId;
    } else if (messageId !== highest && (second === undefined || messageId > second)) gap = true;
    else if (this.has(messageId)) return "replayed msg_id";
    if (this.#ring.length === this.size && messageId < this.#ring[this.#next]) {
      return "msg_id older than the replay window";
    }
    if (gap) this.#second = messageId;
    this.#current.set(messageId, this.#count++);
    if (this.#current.size >= this.size) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    if (this.#ring.length < this.size) {
      this.#ring.push(messageId);
      return undefined;
    }
    this.#ring[this.#next] = messageId;
    this.#next = (this.#next + 1) % this.size;
    return undefined;
  }

  /** Forgets every id, as a new session does. */
  clear(): void {
    this.#current = new Map();
    this.#previous = new Map();
    this.#count = 0;
    this.#highest = undefined;
    this.#second = undefined;
    this.#ring = [];
    this.#next = 0;
  }
}
