/**
 * Timers as a value, so that what waits (deadlines, backoff, pings) can be driven by a fake clock
 * in tests instead of by sleeping.
 *
 * @module
 */

/** A timer's handle: only ever given back to the same {@link Timers}. */
export type TimerId = unknown;

/** Starts and stops timers. */
export interface Timers {
  /** Runs `run` once after `ms` milliseconds. */
  setTimeout(run: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
  /** Runs `run` every `ms` milliseconds; never keeps the process alive on its own. */
  setInterval(run: () => void, ms: number): TimerId;
  clearInterval(id: TimerId): void;
  /** Milliseconds on the timers' clock (only differences mean anything). */
  now(): number;
}

type Handle = ReturnType<typeof setTimeout>;

/**
 * The platform's timers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { realTimers } from "./timers.ts";
 * const fired = await new Promise((resolve) => realTimers.setTimeout(() => resolve(true), 1));
 * assert.equal(fired, true);
 * ```
 */
export const realTimers: Timers = {
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (id) => clearTimeout(id as Handle | undefined),
  setInterval(run, ms) {
    const id = setInterval(run, ms);
    Deno.unrefTimer(id as unknown as number);
    return id;
  },
  clearInterval: (id) => clearInterval(id as Handle | undefined),
  now: () => performance.now(),
};
