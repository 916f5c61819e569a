/**
 * The one clock: what reads the time or waits (deadlines, backoff, pings, retries, health) takes a
 * {@link Clock}, so that tests drive time with a fake one instead of sleeping. This is the only
 * file in `lib/` that reads the platform's time or sets its timers; `main.ts` creates the
 * {@link systemClock} and hands it down (scripts/check_layers.ts enforces both).
 *
 * @module
 */

/** A timer's handle: only ever given back to the same {@link Clock}. */
export type TimerId = unknown;

/** Time and timers. */
export interface Clock {
  /** Monotonic milliseconds (only differences mean anything). */
  now(): number;
  /** Wall time in milliseconds since the epoch, like `Date.now()`. */
  wall(): number;
  /**
   * Runs `run` once after `ms` milliseconds; `keepAlive: false` lets the process exit before it
   * fires (background work such as an account's update deadlines).
   */
  setTimeout(run: () => void, ms: number, options?: { keepAlive?: boolean }): TimerId;
  clearTimeout(id: TimerId): void;
  /** Runs `run` every `ms` milliseconds; never keeps the process alive on its own. */
  setInterval(run: () => void, ms: number): TimerId;
  clearInterval(id: TimerId): void;
  /** Resolves after `ms` milliseconds; `keepAlive: false` lets the process exit meanwhile. */
  sleep(ms: number, options?: { keepAlive?: boolean }): Promise<void>;
}

type Handle = ReturnType<typeof setTimeout>;

/**
 * The platform's clock and timers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "./clock.ts";
 * const before = systemClock.now();
 * await systemClock.sleep(1);
 * assert.ok(systemClock.now() >= before);
 * ```
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  wall: () => Date.now(),
  setTimeout(run, ms, options) {
    const id = setTimeout(run, ms);
    if (options?.keepAlive === false) Deno.unrefTimer(id as unknown as number);
    return id;
  },
  clearTimeout: (id) => clearTimeout(id as Handle | undefined),
  setInterval(run, ms) {
    const id = setInterval(run, ms);
    Deno.unrefTimer(id as unknown as number);
    return id;
  },
  clearInterval: (id) => clearInterval(id as Handle | undefined),
  sleep: (ms, options) =>
    new Promise((resolve) => systemClock.setTimeout(() => resolve(), ms, options)),
};

/**
 * `clock` with its wall time moved by `skewMs` (timers and monotonic time unchanged): a DC whose
 * clock is off, or a client that thinks it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { skewedClock, systemClock } from "./clock.ts";
 * const ahead = skewedClock(systemClock, 3_600_000);
 * assert.ok(ahead.wall() - systemClock.wall() >= 3_599_000);
 * ```
 */
export function skewedClock(clock: Clock, skewMs: number): Clock {
  if (skewMs === 0) return clock;
  return {
    now: () => clock.now(),
    wall: () => clock.wall() + skewMs,
    setTimeout: (run, ms, options) => clock.setTimeout(run, ms, options),
    clearTimeout: (id) => clock.clearTimeout(id),
    setInterval: (run, ms) => clock.setInterval(run, ms),
    clearInterval: (id) => clock.clearInterval(id),
    sleep: (ms, options) => clock.sleep(ms, options),
  };
}
