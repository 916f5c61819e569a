/**
 * The faults one connection injects, as its DC's {@link DcFaults} ask (read afresh each time, so a
 * test may change them while the DC runs): dropping the connection every so many messages,
 * forged answers, slow answers, and replaying each payload after the next.
 *
 * @module
 */

import type { DcContext, DcFaults } from "./dc_context.ts";

/**
 * The fault state of one connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionFaults } from "./server_faults.ts";
 * const faults = new ConnectionFaults({ faults: { dropEvery: 2 } });
 * faults.received();
 * assert.equal(faults.takeDropDue(), false);
 * faults.received();
 * assert.equal(faults.takeDropDue(), true);
 * assert.equal(faults.takeDropDue(), false);
 * ```
 */
export class ConnectionFaults {
  #received = 0;
  #dropDue = false;
  /** The previous encrypted payload, sent again under the `replay` fault. */
  #lastPayload?: Uint8Array;

  /** Faults as `dc.faults` says at each step. */
  constructor(private readonly dc: Pick<DcContext, "faults">) {}

  get #faults(): DcFaults {
    return this.dc.faults;
  }

  /** Counts a received message (container contents count); a drop may fall due. */
  received(): void {
    const dropEvery = this.#faults.dropEvery;
    if (dropEvery && ++this.#received % dropEvery === 0) this.#dropDue = true;
  }

  /** True once when a drop fell due since the last call. */
  takeDropDue(): boolean {
    const due = this.#dropDue;
    this.#dropDue = false;
    return due;
  }

  /** The body to answer `method` with instead of its result, under `answerWith`. */
  forgedAnswer(method: string): Uint8Array | undefined {
    return this.#faults.answerWith?.(method);
  }

  /** How long to hold the answer to `method`, under `slow`; undefined for at once. */
  delayMs(method: string): number | undefined {
    const slow = this.#faults.slow;
    return slow && method === slow.method ? slow.ms : undefined;
  }

  /** Under `replay`: the payload sent before this one, to write again after it. */
  replayAfter(payload: Uint8Array): Uint8Array | undefined {
    if (!this.#faults.replay) return undefined;
    const previous = this.#lastPayload;
    this.#lastPayload = payload;
    return previous;
  }
}
