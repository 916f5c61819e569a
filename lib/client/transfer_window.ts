/**
 * How many file parts may be in flight per DC, and on which of the DC's connections the next one
 * goes. Like TCP's congestion window: a DC starts with a few parts, the window grows by one per
 * finished part (doubling per round trip) up to a threshold and slowly past it, and a
 * FLOOD_WAIT halves it and holds every queued part of that DC until the wait is over. Caps in
 * parts and in bytes bound what one DC has in flight, hence the memory its parts hold. No I/O
 * and no clock: the caller feeds the time in milliseconds and sends what `next` returns.
 *
 * @module
 */

import { RpcError } from "../errors.ts";
import type { Clock, TimerId } from "../io/clock.ts";
import { backoffMs, type BackoffOptions } from "../net/backoff.ts";

/** What a part must say for the window to place it. */
export interface WindowPart {
  /** The DC that serves it. */
  readonly dc: number;
  /** Its size in bytes (a download's limit, an upload part's length), for the bytes cap. */
  readonly bytes: number;
}

/** Settings of a {@link TransferWindow}; every field is a guess to be measured (see the defaults). */
export interface TransferWindowOptions {
  /** Connections per DC that parts are spread over (numbered 0 … connections − 1). */
  connections: number;
  /** Parts in flight on one connection at most. */
  perConnection: number;
  /** The window a DC starts with, in parts. */
  startParts: number;
  /** The window never grows past this many parts in flight per DC. */
  maxParts: number;
  /** Bytes in flight per DC at most; one part is always let through, whatever its size. */
  maxBytes: number;
  /** A part that failed this many times (flood waits and lost connections aside) is given up. */
  maxFailures: number;
  /** The wait before a failed part goes again, growing with its failures. */
  retryBackoff: BackoffOptions;
  /** Jitter for the retry wait (tests pin it). */
  random?: () => number;
}

/**
 * Downloads: 2 connections per DC (as TDLib without Premium) × 4 parts each, 8 parts of 1 MiB
 * (8 MiB) in flight. Measured with `deno task bench` (MTPROTO2JSON_BENCH_FILES_TRIALS: 256 MiB
 * through serve, 3 interleaved rounds, MB/s; the first round on an idle 2-core machine, the
 * others with other work taking 0.6 to 1 core): at a 100 ms round trip (emulator --file-latency
 * 100) 4 parts in flight (the old 2 × 3 under its 4 MiB cap) 29/27/26, 2 × 3 44/36/36, 2 × 4
 * 48/38/43, 4 × 2 49/37/44, 4 × 4 54/49/53; on loopback, idle, all alike and CPU-bound: 4 parts
 * 64/76/66, 2 × 4 77/71/64, 4 × 2 76/73/60. At real round trips the window is the limit (4 MiB /
 * 100 ms is 40 MB/s): 8 in flight gave about 60% more than 4; 16 about 10% more again for 30 MB
 * more of serve's peak RSS (178 MB with 4 parts, 184–190 with 8, 219 with 16).
 */
export const DOWNLOAD_WINDOW: TransferWindowOptions = {
  connections: 2,
  perConnection: 4,
  startParts: 2,
  maxParts: 8,
  maxBytes: 8 * 1024 * 1024,
  maxFailures: 5,
  retryBackoff: { baseMs: 1_000, capMs: 16_000 },
};

/**
 * Uploads: 8 connections per DC × 1 part of 512 KiB, 4 MiB in flight (as TDLib; it opens 4 on
 * DCs 2 and 4 for accounts without Premium: pass `connections: 4` there). Measured as downloads
 * (256 MiB, MB/s): at a 100 ms round trip 4 × 1 16/16/16, 8 × 1 26/24/22, 8 × 2 26/26/23; on
 * loopback 8 × 1 24/17/25, 4 × 1 25/25/23, 4 × 2 23/19/21, 8 × 2 20/20/23. Serve is CPU-bound
 * here (gzip attempts on every part, issue #22): measure again once they go.
 */
export const UPLOAD_WINDOW: TransferWindowOptions = {
  connections: 8,
  perConnection: 1,
  startParts: 2,
  maxParts: 8,
  maxBytes: 4 * 1024 * 1024,
  maxFailures: 5,
  retryBackoff: { baseMs: 1_000, capMs: 16_000 },
};

/** What to do now: send `part` on the DC's connection number `connection`, or wait. */
export type WindowStep<P> = { part: P; connection: number } | { waitUntil: number };

/** What became of a failed part. */
export type FailureOutcome =
  /** FLOOD_WAIT: the part and every queued part of its DC wait until then; the window halved. */
  | { action: "flood_wait"; until: number }
  /** Queued again, not before `at`. */
  | { action: "retry"; at: number }
  /** Failed `failures` times: dropped from the window, the caller reports the error. */
  | { action: "give_up"; failures: number };

interface DcState<P> {
  /** Queued parts, in the order they were added (a retried part keeps its place). */
  queue: P[];
  window: number;
  threshold: number;
  inFlight: number;
  bytes: number;
  loads: number[];
  notBefore: number;
  /** Counts window cuts, so that the parts of one round trip cut it once. */
  epoch: number;
}

interface PartState {
  order: number;
  failures: number;
  notBefore: number;
  connection?: number;
  epoch: number;
}

/**
 * Parts queued for several DCs, handed out as their DC's window allows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "../errors.ts";
 * import { DOWNLOAD_WINDOW, TransferWindow } from "./transfer_window.ts";
 * const window = new TransferWindow({ ...DOWNLOAD_WINDOW, startParts: 1 });
 * const [a, b] = [{ dc: 2, bytes: 1024 }, { dc: 2, bytes: 1024 }];
 * window.add(a);
 * window.add(b);
 * assert.deepEqual(window.next(0), { part: a, connection: 0 });
 * assert.equal(window.next(0), undefined); // the window is one part
 * assert.deepEqual(window.failed(a, new RpcError(420, "FLOOD_WAIT_3"), 10), {
 *   action: "flood_wait",
 *   until: 3010,
 * });
 * assert.deepEqual(window.next(10), { waitUntil: 3010 });
 * assert.deepEqual(window.next(3010), { part: a, connection: 0 });
 * ```
 */
export class TransferWindow<P extends WindowPart> {
  readonly #options: TransferWindowOptions;
  readonly #dcs = new Map<number, DcState<P>>();
  readonly #parts = new Map<P, PartState>();
  #added = 0;

  /** A window with nothing queued; `options` defaults to {@link DOWNLOAD_WINDOW}. */
  constructor(options: TransferWindowOptions = DOWNLOAD_WINDOW) {
    for (const key of ["connections", "perConnection", "startParts", "maxParts"] as const) {
      if (!(Number.isSafeInteger(options[key]) && options[key] >= 1)) {
        throw new RangeError(`${key} must be a whole number ≥ 1, got ${options[key]}`);
      }
    }
    this.#options = options;
  }

  /** Queues `part` behind those already queued. */
  add(part: P): void {
    if (this.#parts.has(part)) throw new RangeError("this part is already in the window");
    this.#parts.set(part, { order: this.#added++, failures: 0, notBefore: 0, epoch: 0 });
    this.#dc(part.dc).queue.push(part);
  }

  /**
   * The next part to send and its connection, marked in flight; else the earliest time one may
   * go (`waitUntil`), or undefined when only a finished, failed or lost part can free room (or
   * nothing is queued).
   */
  next(now: number): WindowStep<P> | undefined {
    let best: { dc: DcState<P>; at: number; order: number } | undefined;
    let wake = Infinity;
    for (const dc of this.#dcs.values()) {
      if (dc.queue.length === 0 || !this.#hasRoom(dc)) continue;
      if (now < dc.notBefore) {
        wake = Math.min(wake, dc.notBefore);
        continue;
      }
      for (let at = 0; at < dc.queue.length; at++) {
        const part = dc.queue[at];
        const state = this.#parts.get(part)!;
        if (now < state.notBefore) {
          wake = Math.min(wake, state.notBefore);
          continue;
        }
        // The bytes cap waits for room rather than letting a smaller, later part jump ahead.
        if (dc.inFlight > 0 && dc.bytes + part.bytes > this.#options.maxBytes) break;
        if (!best || state.order < best.order) best = { dc, at, order: state.order };
        break;
      }
    }
    if (best) return this.#send(best.dc, best.at);
    return wake === Infinity ? undefined : { waitUntil: wake };
  }

  /** `part` was answered: its room is freed and the DC's window grows. False if it was not in flight. */
  done(part: P): boolean {
    const state = this.#parts.get(part);
    if (state?.connection === undefined) return false;
    const dc = this.#release(part, state);
    this.#parts.delete(part);
    // An answer to a part sent before the last cut tells of the old conditions: no growth.
    if (state.epoch !== dc.epoch) return true;
    // Below the threshold one more part per answer (doubling per round trip); above it, about
    // one more per window's worth of answers.
    dc.window += dc.window < dc.threshold ? 1 : 1 / dc.window;
    dc.window = Math.min(dc.window, this.#cap());
    return true;
  }

  /**
   * `part` failed with `error` at `now`: FLOOD_WAIT_X and FLOOD_PREMIUM_WAIT_X hold the DC's
   * queue until `now + X s` and halve its window (once per round trip); anything else counts
   * against the part's failures, and it is retried after a growing wait or given up. Undefined
   * when the part was not in flight (its connection was lost meanwhile): nothing changes.
   */
  failed(part: P, error: unknown, now: number): FailureOutcome | undefined {
    const state = this.#parts.get(part);
    if (state?.connection === undefined) return undefined;
    const dc = this.#release(part, state);
    const flood = error instanceof RpcError &&
      (error.type === "FLOOD_WAIT" || error.type === "FLOOD_PREMIUM_WAIT") &&
      error.argument !== undefined;
    if (flood) {
      // Parts sent before the last cut report the same congestion: cut once for them all.
      if (state.epoch === dc.epoch) {
        dc.threshold = Math.max(1, Math.floor(dc.window / 2));
        dc.window = dc.threshold;
        dc.epoch++;
      }
      dc.notBefore = Math.max(dc.notBefore, now + error.argument! * 1000);
      this.#requeue(dc, part, state);
      return { action: "flood_wait", until: dc.notBefore };
    }
    state.failures++;
    if (state.failures >= this.#options.maxFailures) {
      this.#parts.delete(part);
      return { action: "give_up", failures: state.failures };
    }
    const { retryBackoff, random } = this.#options;
    state.notBefore = now + backoffMs(state.failures - 1, retryBackoff, random);
    this.#requeue(dc, part, state);
    return { action: "retry", at: state.notBefore };
  }

  /**
   * The DC's connection number `connection` dropped: its parts go back to the queue in their
   * places, without counting as failures. Returns them, so that late answers can be ignored.
   */
  connectionLost(dcId: number, connection: number): P[] {
    const dc = this.#dcs.get(dcId);
    if (!dc) return [];
    const lost: P[] = [];
    for (const [part, state] of this.#parts) {
      if (part.dc !== dcId || state.connection !== connection) continue;
      this.#release(part, state);
      this.#requeue(dc, part, state);
      lost.push(part);
    }
    return lost;
  }

  /** Forgets `part`, queued or in flight (a download that ended, an error that ends the transfer). */
  remove(part: P): void {
    const state = this.#parts.get(part);
    if (!state) return;
    const dc = this.#dc(part.dc);
    if (state.connection !== undefined) this.#release(part, state);
    else dc.queue.splice(dc.queue.indexOf(part), 1);
    this.#parts.delete(part);
  }

  /** The DC's window in whole parts (what may be in flight, the other caps aside). */
  window(dc: number): number {
    return Math.floor(this.#dc(dc).window);
  }

  /** Parts in flight to `dc`, and on each of its connections. */
  inFlight(dc: number): { parts: number; bytes: number; connections: number[] } {
    const state = this.#dc(dc);
    return { parts: state.inFlight, bytes: state.bytes, connections: [...state.loads] };
  }

  /** Parts queued or in flight, over every DC. */
  get size(): number {
    return this.#parts.size;
  }

  #cap(): number {
    const { maxParts, connections, perConnection } = this.#options;
    return Math.min(maxParts, connections * perConnection);
  }

  #dc(id: number): DcState<P> {
    let dc = this.#dcs.get(id);
    if (!dc) {
      const start = Math.min(this.#options.startParts, this.#cap());
      dc = {
        queue: [],
        window: start,
        threshold: this.#cap(),
        inFlight: 0,
        bytes: 0,
        loads: new Array(this.#options.connections).fill(0),
        notBefore: 0,
        epoch: 0,
      };
      this.#dcs.set(id, dc);
    }
    return dc;
  }

  #hasRoom(dc: DcState<P>): boolean {
    return dc.inFlight < Math.floor(dc.window) &&
      Math.min(...dc.loads) < this.#options.perConnection;
  }

  #send(dc: DcState<P>, at: number): WindowStep<P> {
    const [part] = dc.queue.splice(at, 1);
    const state = this.#parts.get(part)!;
    // The least loaded connection; the lowest number among equals, so that spare ones idle.
    const connection = dc.loads.indexOf(Math.min(...dc.loads));
    dc.loads[connection]++;
    dc.inFlight++;
    dc.bytes += part.bytes;
    state.connection = connection;
    state.epoch = dc.epoch;
    return { part, connection };
  }

  #release(part: P, state: PartState): DcState<P> {
    const dc = this.#dc(part.dc);
    dc.loads[state.connection!]--;
    dc.inFlight--;
    dc.bytes -= part.bytes;
    state.connection = undefined;
    return dc;
  }

  /** Puts `part` back in its place by the order it was added, so retries go first. */
  #requeue(dc: DcState<P>, part: P, state: PartState): void {
    let at = dc.queue.length;
    while (at > 0 && this.#parts.get(dc.queue[at - 1])!.order > state.order) at--;
    dc.queue.splice(at, 0, part);
  }
}

/**
 * `base` letting `parts` be in flight at most (a transfer's `parts` option): the per-connection
 * and bytes caps widen so that they allow that many parts of `partBytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DOWNLOAD_WINDOW, withParts } from "./transfer_window.ts";
 * assert.equal(withParts(DOWNLOAD_WINDOW, 16, 1 << 20).maxParts, 16);
 * assert.equal(withParts(DOWNLOAD_WINDOW, undefined, 1 << 20), DOWNLOAD_WINDOW);
 * ```
 */
export function withParts(
  base: TransferWindowOptions,
  parts: number | undefined,
  partBytes: number,
): TransferWindowOptions {
  if (parts === undefined) return base;
  const maxParts = Math.max(1, Math.floor(parts));
  return {
    ...base,
    maxParts,
    startParts: Math.min(base.startParts, maxParts),
    perConnection: Math.max(base.perConnection, Math.ceil(maxParts / base.connections)),
    maxBytes: Math.max(base.maxBytes, maxParts * partBytes),
  };
}

/** RPC errors a part is sent again after (flood waits, the server's own trouble); others end it. */
export function isRetriedRpcError(error: RpcError): boolean {
  return error.type === "FLOOD_WAIT" || error.type === "FLOOD_PREMIUM_WAIT" || error.code >= 500 ||
    error.code === -503;
}

/**
 * Sends every part the window lets go at `now` with `send`; returns when to look again if the
 * window holds parts back until a time, else undefined.
 */
export function sendDue<P extends WindowPart>(
  window: TransferWindow<P>,
  now: () => number,
  send: (part: P, connection: number) => void,
): number | undefined {
  for (let step = window.next(now()); step; step = window.next(now())) {
    if ("waitUntil" in step) return step.waitUntil;
    send(step.part, step.connection);
  }
  return undefined;
}

/**
 * Where a transfer's loop sleeps until one of its calls settles (or its source gives a part):
 * `wake`, or until the window's next due time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TransferWakeup } from "./transfer_window.ts";
 * import { systemClock } from "../io/clock.ts";
 * const wakeup = new TransferWakeup(systemClock);
 * const asleep = wakeup.sleep(undefined);
 * wakeup.wake();
 * await asleep;
 * await wakeup.sleep(systemClock.now()); // a due time already past: at once
 * assert.ok(true);
 * ```
 */
export class TransferWakeup {
  readonly #clock: Clock;
  #resolve?: () => void;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Ends the sleep in progress, if any (a wake with none in progress is not kept). */
  readonly wake = (): void => this.#resolve?.();

  /** Resolves once woken, or once the clock reaches `until` when one is given. */
  async sleep(until: number | undefined): Promise<void> {
    let timer: TimerId | undefined;
    await new Promise<void>((resolve) => {
      this.#resolve = resolve;
      if (until !== undefined) {
        timer = this.#clock.setTimeout(resolve, Math.max(0, until - this.#clock.now()));
      }
    });
    this.#clock.clearTimeout(timer);
    this.#resolve = undefined;
  }
}
