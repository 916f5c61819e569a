/**
 * The inflate budget: how many bytes the gzip_packed objects received on one session may inflate
 * to. One message may take the whole per-message budget (MAX_INFLATED), but a peer sending bomb
 * after bomb is cut off for the rest of a 10-second window instead of eating the CPU.
 * https://core.telegram.org/mtproto/serialize#gzip-packed
 *
 * @module
 */

import { SecurityError } from "../errors.ts";
import { GZIP_PACKED_ID, MAX_INFLATED } from "../tl/codec.ts";
import { unpackGzip } from "./gzip_packed.ts";
import { peekConstructorId } from "./peek.ts";

/** Bytes all gzip_packed of one session may inflate to per window. */
export const INFLATE_PER_WINDOW = 16 * MAX_INFLATED;
/** The length of the window, in seconds. */
export const INFLATE_WINDOW_SECONDS = 10;

/**
 * Inflates gzip_packed bodies within what is left of the current window's allowance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InflateBudget } from "./inflate_budget.ts";
 * import { packGzip } from "./gzip_packed.ts";
 * const budget = new InflateBudget(1000, 10);
 * const packed = packGzip(new Uint8Array(800), 0);
 * assert.equal(budget.inflate(packed, 0).length, 800);
 * assert.throws(() => budget.inflate(packed, 1)); // only 200 bytes left in this window
 * assert.equal(budget.inflate(packed, 10).length, 800); // a new window
 * ```
 */
export class InflateBudget {
  #inflated = 0;
  #windowStart = 0;

  /** `perWindow` bytes every `windowSeconds`; each body at most MAX_INFLATED. */
  constructor(
    readonly perWindow = INFLATE_PER_WINDOW,
    readonly windowSeconds = INFLATE_WINDOW_SECONDS,
  ) {}

  /**
   * Undoes gzip_packed around `body` at time `now` (seconds), or returns a body that is not
   * gzip_packed as it is. Past the window's allowance it throws a {@link SecurityError}.
   */
  inflate(body: Uint8Array, now: number): Uint8Array {
    if (peekConstructorId(body) !== GZIP_PACKED_ID) return body;
    if (now - this.#windowStart >= this.windowSeconds) {
      this.#windowStart = now;
      this.#inflated = 0;
    }
    const left = this.perWindow - this.#inflated;
    if (left <= 0) {
      throw new SecurityError(
        `this connection inflated ${this.perWindow} bytes in ${this.windowSeconds} s; ` +
          `no more for now`,
      );
    }
    const inflated = unpackGzip(body, Math.min(MAX_INFLATED, left));
    this.#inflated += inflated.length;
    return inflated;
  }
}
