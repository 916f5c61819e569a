/**
 * What to do with an RPC error, decided in one place and without I/O: wait and retry, follow a
 * migration, or hand the error to the caller. The client applies the decision; the request's
 * deadline has the last word (a wait that would outlast it is not made).
 *
 * @module
 */

import type { RpcError } from "../errors.ts";
import { backoffMs, RECONNECT_BACKOFF } from "../net/backoff.ts";

/** The switches the policy reads. */
export interface RetryOptions {
  /** FLOOD_WAIT_X / FLOOD_PREMIUM_WAIT_X up to this many seconds are waited out. */
  floodWaitThreshold: number;
  /** Follow *_MIGRATE_X to the named DC. */
  followMigrations: boolean;
}

/** The decision for one error. */
export type RetryDecision =
  /** Wait this long, then send the same request again. */
  | { action: "wait"; ms: number; reason: string }
  /** Send it to DC `dc`; `home` when the account lives there (PHONE/NETWORK/USER_MIGRATE). */
  | { action: "migrate"; dc: number; home: boolean }
  /** Give the error to the caller. */
  | { action: "return" };

/** Tries in all (the first included) before an error is returned whatever it is. */
export const MAX_ATTEMPTS = 4;
/** Server-side failures (500, -503, INTERNAL) are retried this many times, after 1 s then 2 s. */
const SERVER_ERROR_RETRIES = 2;
const MIGRATE = /^(PHONE|NETWORK|USER|FILE|STATS)_MIGRATE_(\d+)$/;

/**
 * Decides what to do after `error`, the answer to try number `attempt` (0 for the first).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "../errors.ts";
 * import { decideRetry } from "./retry_policy.ts";
 * const options = { floodWaitThreshold: 5, followMigrations: true };
 * assert.deepEqual(decideRetry(new RpcError(420, "FLOOD_WAIT_3"), 0, options), {
 *   action: "wait",
 *   ms: 3000,
 *   reason: "FLOOD_WAIT_3",
 * });
 * assert.deepEqual(decideRetry(new RpcError(420, "FLOOD_WAIT_60"), 0, options), {
 *   action: "return",
 * });
 * ```
 */
export function decideRetry(
  error: RpcError,
  attempt: number,
  options: RetryOptions,
): RetryDecision {
  if (attempt + 1 >= MAX_ATTEMPTS) return { action: "return" };
  const message = error.errorMessage;
  if (
    (error.type === "FLOOD_WAIT" || error.type === "FLOOD_PREMIUM_WAIT") &&
    error.argument !== undefined && error.argument <= options.floodWaitThreshold
  ) {
    return { action: "wait", ms: error.argument * 1000, reason: message };
  }
  // SLOWMODE_WAIT_X is the chat's rule, not a server hiccup: the caller decides.
  if (error.type === "SLOWMODE_WAIT") return { action: "return" };
  const migrate = MIGRATE.exec(message);
  if (migrate) {
    if (!options.followMigrations) return { action: "return" };
    const home = migrate[1] !== "FILE" && migrate[1] !== "STATS";
    return { action: "migrate", dc: Number(migrate[2]), home };
  }
  const serverSide = error.code === 500 || error.code === -500 || error.code === -503 ||
    /INTERNAL|TIMEOUT|RPC_CALL_FAIL|RPC_MCGET_FAIL/.test(message) && error.code !== 400;
  if (serverSide && attempt < SERVER_ERROR_RETRIES) {
    return { action: "wait", ms: 1000 * 2 ** attempt, reason: message };
  }
  return { action: "return" };
}

/**
 * Decides what to do after the connection failed before the request could go out (refused,
 * reset, a broken pipe, closed during the key exchange, no answer within the connect deadline):
 * try again after a growing, jittered wait (as after any dropped connection) when the wait ends
 * before the request's deadline, else give the error to the caller. `failures` counts this
 * request's connection failures before this one (0 for the first); `leftMs` is what is left of
 * its deadline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideReconnect } from "./retry_policy.ts";
 * const refused = new Error("refused");
 * assert.equal(decideReconnect(refused, 0, 10_000).action, "wait");
 * assert.deepEqual(decideReconnect(refused, 0, 10), { action: "return" });
 * ```
 */
export function decideReconnect(
  error: Error,
  failures: number,
  leftMs: number,
  random: () => number = Math.random,
): RetryDecision {
  const ms = backoffMs(failures, RECONNECT_BACKOFF, random);
  if (ms >= leftMs) return { action: "return" };
  return { action: "wait", ms, reason: `${error.name}: ${error.message}` };
}
