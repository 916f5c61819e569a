/**
 * Which differences to ask for and when: the initial `updates.getState`, `updates.getDifference`
 * for the common box, `updates.getChannelDifference` per channel, one call per box at a time, a
 * wait before asking again after a failed call, and a difference after a long silence (Telegram
 * stops pushing to sessions it thinks idle). Sans-IO: the owner makes the calls it returns and
 * reports how each ended. https://core.telegram.org/api/updates
 *
 * @module
 */

import type { TlObject } from "../tl/codec.ts";
import { type BoxName, channelBox, channelOfBox, COMMON_BOX } from "./boxes.ts";
import type { UpdateStateValues } from "./cursor.ts";
import type { KnownPeers } from "./known_peers.ts";

/** What a call from {@link DifferencePlanner.nextRequests} is for: a box, or the initial state. */
export type PlannedFor = BoxName | "state";

/** Settings of a {@link DifferencePlanner}. */
export interface PlannerOptions {
  /** Milliseconds, monotonic enough for deadlines. */
  clock: () => number;
  /** A difference is asked for after this long without updates. */
  idleMs: number;
  /** Wait after a failed difference call before asking again. */
  retryMs: number;
}

/**
 * Plans the calls that fetch what the account missed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DifferencePlanner } from "./difference_planner.ts";
 * import { KnownPeers } from "./known_peers.ts";
 * const planner = new DifferencePlanner({ clock: () => 0, idleMs: 900_000, retryMs: 5000 });
 * const state = { pts: 5, qts: 0, date: 100, seq: 0, channels: {} };
 * planner.want("common");
 * const [request] = planner.nextRequests(state, new KnownPeers());
 * assert.deepEqual(request, { _cons: "updates.getDifference", pts: 5, date: 100, qts: 0 });
 * assert.ok(planner.busy("common"));
 * assert.equal(planner.settle(request), "common");
 * assert.ok(planner.idle);
 * ```
 */
export class DifferencePlanner {
  readonly #clock: () => number;
  readonly #idleMs: number;
  readonly #retryMs: number;
  // Both made when first needed and dropped when emptied: an idle session asks for nothing, and
  // a thousand idle connections through serve each kept two empty maps (~180 B each) here.
  /** Boxes whose difference must be fetched, with the earliest time to ask. */
  #wanted?: Map<BoxName, number>;
  #inFlight?: Map<TlObject, PlannedFor>;
  #needState = false;
  #lastActivity: number;

  /** A planner with nothing to ask for; the silence is counted from now. */
  constructor(options: PlannerOptions) {
    this.#clock = options.clock;
    this.#idleMs = options.idleMs;
    this.#retryMs = options.retryMs;
    this.#lastActivity = this.#clock();
  }

  /** True when nothing is wanted or under way, the initial state included. */
  get idle(): boolean {
    return !this.#needState && !this.#inFlight?.size && !this.#wanted?.size;
  }

  /** The initial state is to be fetched (`updates.getState`) before any difference. */
  wantState(): void {
    this.#needState = true;
  }

  /** The difference of `box` is to be fetched, as soon as possible unless already planned. */
  want(box: BoxName): void {
    this.#wanted ??= new Map();
    if (!this.#wanted.has(box)) this.#wanted.set(box, 0);
  }

  /** Every box of `state` is to be caught up (a resume, a reconnect, a new server session). */
  wantAll(state: UpdateStateValues | undefined, inside: BoxName[] = []): void {
    this.want(COMMON_BOX);
    for (const id of Object.keys(state?.channels ?? {})) this.want(channelBox(id));
    for (const box of inside) this.want(box);
  }

  /** True while the difference of `box` is wanted or under way. */
  busy(box: BoxName): boolean {
    if (this.#wanted?.has(box)) return true;
    if (this.#inFlight) {
      for (const inFlight of this.#inFlight.values()) if (inFlight === box) return true;
    }
    return false;
  }

  /** Updates arrived or a difference was answered: the silence starts again. */
  active(): void {
    this.#lastActivity = this.#clock();
  }

  /**
   * The calls to make now. A channel with no access hash or no position cannot be asked about
   * and is dropped: the client must reload what it shows for it.
   */
  nextRequests(state: UpdateStateValues | undefined, peers: KnownPeers): TlObject[] {
    const now = this.#clock();
    const requests: TlObject[] = [];
    const busy = new Set(this.#inFlight?.values());
    if (this.#needState && !busy.has("state")) {
      const request = { _cons: "updates.getState" };
      (this.#inFlight ??= new Map()).set(request, "state");
      return [request];
    }
    if (!state || !this.#wanted) return [];
    for (const [box, notBefore] of this.#wanted) {
      if (busy.has(box) || notBefore > now) continue;
      const channel = channelOfBox(box);
      let request: TlObject;
      if (channel === undefined) {
        request = {
          _cons: "updates.getDifference",
          pts: state.pts,
          date: state.date,
          qts: state.qts,
        };
      } else {
        const hash = peers.accessHash(channel);
        const pts = state.channels[channel];
        if (hash === undefined || pts === undefined) {
          this.#wanted.delete(box);
          continue;
        }
        request = {
          _cons: "updates.getChannelDifference",
          channel: { _cons: "inputChannel", channel_id: channel, access_hash: hash },
          filter: { _cons: "channelMessagesFilterEmpty" },
          pts,
          limit: 100,
        };
      }
      this.#wanted.delete(box);
      (this.#inFlight ??= new Map()).set(request, box);
      requests.push(request);
    }
    if (this.#wanted.size === 0) this.#wanted = undefined;
    return requests;
  }

  /** A call from {@link nextRequests} failed: its box is asked about again after a while. */
  failed(request: TlObject): void {
    const box = this.#take(request);
    if (box === undefined) return;
    if (box === "state") return; // nextRequests asks again
    (this.#wanted ??= new Map()).set(box, this.#clock() + this.#retryMs);
  }

  /**
   * A call from {@link nextRequests} was answered: what it was for, or undefined for a call this
   * planner did not plan (or already settled).
   */
  settle(request: TlObject): PlannedFor | undefined {
    const box = this.#take(request);
    if (box === "state") this.#needState = false;
    return box;
  }

  /** Removes `request` from those in flight (the map goes with the last). */
  #take(request: TlObject): PlannedFor | undefined {
    const box = this.#inFlight?.get(request);
    this.#inFlight?.delete(request);
    if (this.#inFlight?.size === 0) this.#inFlight = undefined;
    return box;
  }

  /**
   * Time passed: after a long silence the common box's difference is wanted, once the state is
   * known, because Telegram stops pushing to sessions it thinks idle and asking keeps the
   * subscription alive.
   */
  checkIdle(now: number, stateKnown: boolean): void {
    if (stateKnown && now - this.#lastActivity >= this.#idleMs) {
      this.#lastActivity = now;
      this.want(COMMON_BOX);
    }
  }

  /** When the planner next has something to do: the idle check, or a retry. */
  nextDeadline(): number {
    let next = this.#lastActivity + this.#idleMs;
    for (const notBefore of this.#wanted?.values() ?? []) next = Math.min(next, notBefore);
    return next;
  }
}
