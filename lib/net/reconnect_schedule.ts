/**
 * When a sender may connect again: after a dropped connection or a failed attempt it waits a
 * backoff that grows with the failures in a row, and after a `-429` (too many connections from
 * here) it opens no connection before a longer wait has passed.
 *
 * @module
 */

import { backoffMs, FLOOD_BACKOFF, RECONNECT_BACKOFF } from "./backoff.ts";
import type { Clock, TimerId } from "../io/clock.ts";

/** Failures in a row, the `-429` wait, and the one pending reconnect. */
export class ReconnectSchedule {
  readonly #clock: Clock;
  /** Failed connection attempts in a row, for the backoff. */
  #failures = 0;
  /** After a `-429` (too many connections), no new connection before this time. */
  #notBefore = 0;
  #timer?: TimerId;

  /** Schedules on `clock`. */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Counts a failed attempt, or a connection dropped before it delivered anything. */
  failed(): void {
    this.#failures++;
  }

  /** The connection works (or is dropped on purpose): the next reconnect waits the least. */
  succeeded(): void {
    this.#failures = 0;
  }

  /** `-429`: too many connections from here; no new one for a while (growing, with jitter). */
  flooded(): void {
    const attempt = Math.max(0, this.#failures - 1);
    this.#notBefore = this.#clock.now() + backoffMs(attempt, FLOOD_BACKOFF);
  }

  /** Milliseconds left of a `-429` wait (zero or less: none). */
  floodWaitMs(): number {
    return this.#notBefore - this.#clock.now();
  }

  /**
   * Runs `attempt` after the backoff (longer after a `-429`, see {@link flooded}). One at a time:
   * while one is pending, asking again does nothing.
   */
  schedule(attempt: () => void): void {
    if (this.#timer !== undefined) return;
    const failures = Math.max(0, this.#failures - 1);
    const wait = Math.max(
      backoffMs(failures, RECONNECT_BACKOFF),
      this.#notBefore - this.#clock.now(),
    );
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      attempt();
    }, wait);
  }

  /** Cancels the pending reconnect, for good (the sender is closing). */
  stop(): void {
    this.#clock.clearTimeout(this.#timer);
  }
}
