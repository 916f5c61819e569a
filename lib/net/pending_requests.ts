/**
 * The requests a sender waits on, so that each gets exactly one outcome: its answer, its failure,
 * or the sender's closing. Requests sent under an earlier session (a temporary key replaced under
 * PFS) are remembered as sent, so that a timeout or a close still says they may have run.
 *
 * @module
 */

import { RpcError } from "../errors.ts";
import type { ClientSession, SessionEvent } from "../mtproto/session.ts";
import { BadAnswerError, SenderClosedError } from "./sender_errors.ts";

/** Who waits for a request's outcome. */
export interface Waiter {
  resolve(body: Uint8Array): void;
  reject(error: Error): void;
}

/** A session event that settles a request. */
export type SettlingEvent = Extract<SessionEvent, { type: "result" | "failed" }>;

/** Requests in flight by msg_id, with the promise each caller waits on. */
export class PendingRequests {
  readonly #waiters = new Map<number, Waiter>();
  /**
   * Requests sent under an earlier temporary key (PFS), whose new session forgot they went out;
   * made by the first handover only (an idle sender's empty set was ~180 bytes of its heap).
   */
  #sentEarlier: Set<number> | undefined = undefined;

  /** Registers `waiter` for the outcome of the request the session sent as `requestId`. */
  add(requestId: number, waiter: Waiter): void {
    this.#waiters.set(requestId, waiter);
  }

  /** Stops waiting for a request; a late answer then settles nothing. */
  forget(requestId: number): void {
    this.#waiters.delete(requestId);
    this.#sentEarlier?.delete(requestId);
  }

  /** Settles a request with its answer, or with its failure as an error. */
  settle(event: SettlingEvent): void {
    const waiter = this.#waiters.get(event.requestId);
    this.#waiters.delete(event.requestId);
    this.#sentEarlier?.delete(event.requestId);
    if (event.type === "result") {
      waiter?.resolve(event.body);
      return;
    }
    waiter?.reject(
      event.code === 0
        ? new BadAnswerError(event.reason)
        : new RpcError(400, `BAD_MSG_${event.code}`),
    );
  }

  /**
   * Moves the requests left unanswered under `from` (if any) to `to`, a session under a new
   * temporary key (PFS), which sends them afresh.
   */
  handOver(from: ClientSession | undefined, to: ClientSession): void {
    if (!from) return;
    // The new session forgets they went out before: remember it here, so that a timeout still
    // says they may have run.
    for (const requestId of this.#waiters.keys()) {
      if (from.wasSent(requestId)) (this.#sentEarlier ??= new Set()).add(requestId);
    }
    to.adopt(from);
  }

  /** True when the request went out at least once (under `session` or an earlier one). */
  wasSent(requestId: number, session: ClientSession | undefined): boolean {
    return this.#sentEarlier?.has(requestId) || (session?.wasSent(requestId) ?? false);
  }

  /** Fails every waiting request with `error`; a {@link SenderClosedError} per request. */
  failAll(error: Error, session: ClientSession | undefined): void {
    for (const [requestId, waiter] of this.#waiters) {
      // Each request says whether it went out: one that did not can be sent elsewhere.
      waiter.reject(
        error instanceof SenderClosedError
          ? new SenderClosedError(error.message, this.wasSent(requestId, session))
          : error,
      );
    }
    this.#waiters.clear();
    this.#sentEarlier = undefined;
  }
}
