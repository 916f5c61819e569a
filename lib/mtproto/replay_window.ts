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
  #seen = new Set<bigint>();
  #ring: bigint[] = []; // grows to the window, then wraps
  #next = 0;

  /** A window of the last `size` ids. */
  constructor(readonly size = REPLAY_WINDOW) {}

  /** True when `messageId` is in the window (it was received and accepted). */
  has(messageId: bigint): boolean {
    return this.#seen.has(messageId);
  }

  /** Records `messageId`, or returns why it is refused (then it is not recorded). */
  accept(messageId: bigint): string | undefined {
    if (this.#seen.has(messageId)) return "replayed msg_id";
    if (this.#ring.length === this.size && messageId < this.#ring[this.#next]) {
      return "msg_id older than the replay window";
    }
    this.#seen.add(messageId);
    if (this.#ring.length < this.size) {
      this.#ring.push(messageId);
      return undefined;
    }
    this.#seen.delete(this.#ring[this.#next]);
    this.#ring[this.#next] = messageId;
    this.#next = (this.#next + 1) % this.size;
    return undefined;
  }

  /** Forgets every id, as a new session does. */
  clear(): void {
    this.#seen.clear();
    this.#ring = [];
    this.#next = 0;
  }
}
