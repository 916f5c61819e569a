/**
 * Message identifiers: roughly unixtime × 2^32, strictly increasing per session, divisible by 4
 * from the client, odd from the server (1 mod 4 for responses, 3 for others). The clock is
 * injected and corrected by the server's time, so ids stay valid on a machine whose clock is off.
 *
 * @module
 */

/** Milliseconds since the epoch, like `Date.now`. */
export type WallClock = () => number;

/**
 * Issues msg_ids for one side of one session.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MessageIdGenerator } from "./message_id.ts";
 * const ids = new MessageIdGenerator(() => 1_700_000_000_000, "client");
 * const [a, b] = [ids.next(), ids.next()];
 * assert.ok(b > a && a % 4n === 0n && b % 4n === 0n);
 * assert.equal(a >> 32n, 1_700_000_000n);
 * ```
 */
export class MessageIdGenerator {
  #last = 0n;
  /** Server time minus local time, in milliseconds. */
  offsetMs = 0;

  /** Creates a generator for the `client` (ids ≡ 0 mod 4) or `server` (odd ids) side. */
  constructor(readonly clock: WallClock, readonly side: "client" | "server") {}

  /** Corrects the clock from a server time in seconds (`server_DH_inner_data`, msg ids). */
  synchronize(serverTimeSeconds: number): void {
    this.offsetMs = serverTimeSeconds * 1000 - this.clock();
  }

  /**
   * Corrects the clock from a server's msg_id (its high 32 bits are the server's time), after a
   * bad_msg_notification 16/17 said our ids were out of range. The server accepted none of those
   * ids, so the next ones follow the corrected clock even if that is backwards.
   */
  synchronizeToMessageId(serverMessageId: bigint): void {
    this.offsetMs = Number(serverMessageId >> 32n) * 1000 +
      Math.floor(Number(serverMessageId & 0xffffffffn) * 1000 / 2 ** 32) - this.clock();
    this.#last = 0n;
  }

  /** Server-corrected time in seconds. */
  now(): number {
    return (this.clock() + this.offsetMs) / 1000;
  }

  /** The next id; for the server, `response` picks 1 mod 4 over 3 mod 4. */
  next(response = false): bigint {
    const ms = this.clock() + this.offsetMs;
    const seconds = BigInt(Math.floor(ms / 1000));
    const fraction = BigInt(Math.floor(((ms % 1000) / 1000) * 2 ** 32)) & ~3n;
    let id = (seconds << 32n) | fraction;
    if (id <= this.#last) id = (this.#last + 4n) & ~3n;
    // The docs forbid ids whose low 32 bits are all zero (one in 2^30 would be).
    if ((id & 0xffffffffn) === 0n) id += 4n;
    this.#last = id;
    if (this.side === "server") return id | (response ? 1n : 3n);
    return id;
  }
}
