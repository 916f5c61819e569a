/**
 * Waiting for an order of events instead of for time: "nothing else came" checked with a sentinel
 * request whose answer comes after anything already due, and a clock that tells when a wait or a
 * timer began (a retry waiting, an answer held back), for `until` to wait on.
 *
 * @module
 */

import { type Clock, systemClock } from "../../lib/io/clock.ts";
import type { JsonClient } from "./json_client.ts";

type Line = Record<string, unknown>;

/**
 * Sends `sentinel` (a request with an id no other request in flight has) and resolves with its
 * answer, throwing when any other line — one already received and not taken, or one arriving
 * before the answer — comes first. Choose a sentinel whose answer must come after what is due:
 * a call to the DC, answered after what the DC sent before on the same connection.
 */
export async function nothingBefore(
  client: JsonClient,
  sentinel: Line & { id: number },
  timeoutMs = 10_000,
): Promise<Line> {
  const first = client.next(() => true, timeoutMs);
  await client.send(sentinel);
  const line = await first;
  if (line.id !== sentinel.id) {
    throw new Error(
      `a line came before the answer to the sentinel ${sentinel.id}: ${JSON.stringify(line)}`,
    );
  }
  return line;
}

/** A clock that passes everything to `base` and notes each sleep and timer it was asked for. */
export interface WatchedClock extends Clock {
  /** The length of every `sleep` asked for, in order (a retry's wait, a flood wait, …). */
  readonly sleeps: number[];
  /** The delay of every `setTimeout` asked for, in order (a held answer, a deadline, …). */
  readonly timers: number[];
}

/** A {@link WatchedClock} over `base` (the platform's clock by default). */
export function watchedClock(base: Clock = systemClock): WatchedClock {
  const sleeps: number[] = [];
  const timers: number[] = [];
  return {
    sleeps,
    timers,
    now: () => base.now(),
    wall: () => base.wall(),
    setTimeout(run, ms, options) {
      timers.push(ms);
      return base.setTimeout(run, ms, options);
    },
    clearTimeout: (id) => base.clearTimeout(id),
    setInterval: (run, ms) => base.setInterval(run, ms),
    clearInterval: (id) => base.clearInterval(id),
    sleep(ms, options) {
      sleeps.push(ms);
      return base.sleep(ms, options);
    },
  };
}
