/**
 * How long to wait before reconnecting: exponential from a base, capped, with full jitter so that
 * many connections dropped together (a DC restart) do not come back in one storm.
 *
 * @module
 */

/** What the wait depends on. */
export interface BackoffOptions {
  /** The first wait's upper bound, in milliseconds. */
  baseMs: number;
  /** No wait is longer than this. */
  capMs: number;
}

/** Reconnect waits after a dropped connection. */
export const RECONNECT_BACKOFF: BackoffOptions = { baseMs: 100, capMs: 5_000 };
/** Waits after the server said `-429` (too many connections from here): longer. */
export const FLOOD_BACKOFF: BackoffOptions = { baseMs: 2_000, capMs: 60_000 };

/**
 * The wait before attempt number `attempt` (0 for the first retry): uniformly random between half
 * and all of `min(cap, base · 2^attempt)`, so the wait grows but never collapses to zero.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffMs, RECONNECT_BACKOFF } from "./backoff.ts";
 * assert.equal(backoffMs(0, RECONNECT_BACKOFF, () => 0.999999), 99.99995);
 * assert.equal(backoffMs(30, RECONNECT_BACKOFF, () => 0), 2_500);
 * ```
 */
export function backoffMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + (ceiling / 2) * random();
}
