/**
 * The account's update state as a sans-IO state machine: fed what Telegram pushes, the results of
 * calls that move the state, and the answers to the calls it asks for; it returns, in order, the
 * `updates` lines to deliver (each with the cursor after it) and events (gap, recovered,
 * too_long, synced). Updates that arrive ahead of a hole are held for a moment (the docs: about
 * half a second) before the hole is filled with `updates.getDifference` or
 * `updates.getChannelDifference`; a reconnect, a new session or a long silence also asks for a
 * difference. Time comes from an injected clock; the owner makes the calls from
 * {@link UpdateState.nextRequests} and calls {@link UpdateState.tick} at {@link
 * UpdateState.nextDeadline}.
 * https://core.telegram.org/api/updates
 *
 * This file is the facade: in-order delivery per box is box_sequencer.ts, which differences to
 * ask for and when is difference_planner.ts, and the users and channels seen are known_peers.ts.
 *
 * @module
 */

import type { TlObject } from "../tl/codec.ts";
import {
  type BoxName,
  channelBox,
  channelOfBox,
  COMMON_BOX,
  expandShort,
  idOf,
  moveOf,
  shortUsers,
} from "./boxes.ts";
import { BoxSequencer } from "./box_sequencer.ts";
import { type CursorValue, decodeCursor, encodeCursor, type UpdateStateValues } from "./cursor.ts";
import { affectedUpdate, sentMessage } from "./call_results.ts";
import { readChannelDifference, readDifference } from "./difference.ts";
import { DifferencePlanner } from "./difference_planner.ts";
import { KnownPeers } from "./known_peers.ts";
import type { UpdateOutput } from "./update_output.ts";

export type { UpdateEvent, UpdateOutput } from "./update_output.ts";

/** Tuning and the clock. */
export interface UpdateStateOptions {
  /** Milliseconds, monotonic enough for deadlines. */
  clock: () => number;
  /** How long updates past a hole wait for it to fill (default 500 ms). */
  gapMs?: number;
  /** A difference is asked for after this long without updates (default 15 min). */
  idleMs?: number;
  /** Wait after a failed difference call before asking again (default 5 s). */
  retryMs?: number;
}

/** The update state of one account. */
export class UpdateState {
  readonly #clock: () => number;
  #state?: UpdateStateValues;
  /**
   * Boxes inside a difference: how many of its new messages and other updates were delivered
   * (`other` undefined only when resumed from a cursor that counted both lists as one). Kept per
   * box: a box resumed from the middle of its difference keeps its count while other boxes'
   * differences are delivered, until its own is answered. Made when first needed and dropped
   * when emptied: most sessions are inside no difference (an empty map is ~180 B per session).
   */
  #inside?: Map<BoxName, { new: number; other?: number }>;
  #syncing = false;
  #recovered = 0;
  readonly #peers = new KnownPeers();
  readonly #planner: DifferencePlanner;
  readonly #sequencer: BoxSequencer;
  /** The account's own user id, for outgoing short messages. */
  selfId?: number;

  /** A state machine with no state yet: {@link start} gives it one. */
  constructor(options: UpdateStateOptions) {
    this.#clock = options.clock;
    this.#planner = new DifferencePlanner({
      clock: options.clock,
      idleMs: options.idleMs ?? 15 * 60_000,
      retryMs: options.retryMs ?? 5000,
    });
    this.#sequencer = new BoxSequencer({
      state: () => this.#state,
      busy: (box) => this.#planner.busy(box),
      line: (update, container) => this.#line(update, container),
    }, { clock: options.clock, gapMs: options.gapMs ?? 500 });
  }

  /**
   * Starts managing: from a cursor, everything after it is fetched; without one, the current
   * state is (`updates.getState`, the call after which Telegram pushes updates). Either way a
   * `synced` event follows once caught up.
   */
  start(cursor?: string): void {
    this.#syncing = true;
    this.#recovered = 0;
    if (cursor === undefined) {
      this.#planner.wantState();
      return;
    }
    const value = decodeCursor(cursor);
    this.#state = value.state;
    this.#inside = undefined;
    for (const [box, done] of Object.entries(value.inside ?? {})) {
      (this.#inside ??= new Map()).set(box as BoxName, { ...done });
    }
    this.#peers.rememberHashes(value.hashes ?? {});
    this.#planner.wantAll(this.#state, [...this.#inside?.keys() ?? []]);
  }

  /** A reconnect or a new server session: what was pushed meanwhile is fetched. */
  reset(): void {
    if (this.#state) this.#planner.wantAll(this.#state, [...this.#inside?.keys() ?? []]);
  }

  /** The cursor after everything delivered so far. */
  cursor(): string {
    return this.#cursor();
  }

  /** True while a difference (or the initial state) is being fetched. */
  get syncing(): boolean {
    return this.#syncing;
  }

  /** The calls to make now; each answer goes back through {@link answer} or {@link failed}. */
  nextRequests(): TlObject[] {
    return this.#planner.nextRequests(this.#state, this.#peers);
  }

  /** When {@link tick} should run next (a held update's deadline, the idle check, a retry). */
  nextDeadline(): number {
    return Math.min(this.#planner.nextDeadline(), this.#sequencer.nextDeadline());
  }

  /** Time passed: holes that did not fill in time, and a long silence, ask for differences. */
  tick(): void {
    const now = this.#clock();
    for (const box of this.#sequencer.expired(now)) this.#planner.want(box);
    this.#planner.checkIdle(now, this.#state !== undefined);
  }

  /** Learns the users and the channels' access hashes an object lists (results, updates). */
  learn(value: unknown): void {
    this.#peers.learn(value);
  }

  /** What Telegram pushed: any `Updates` object. */
  push(value: TlObject): UpdateOutput[] {
    this.#planner.active();
    this.learn(value);
    const out: UpdateOutput[] = [];
    switch (value._cons) {
      case "updatesTooLong":
        // Too much to push: the client is told, and the difference brings what it can.
        out.push({ kind: "event", event: { type: "too_long", box: COMMON_BOX } });
        this.#planner.want(COMMON_BOX);
        return out;
      case "updateShortMessage":
      case "updateShortChatMessage":
        // The full form would need these users; a difference brings them (as the docs advise).
        if (!this.#peers.knowsUsers(shortUsers(value))) {
          this.#planner.want(COMMON_BOX);
          return out;
        }
        break;
      case "updateShortSentMessage":
        this.#process(sentMessage(value, undefined, this.selfId), this.#container(value), out);
        return out;
    }
    const full = expandShort(value, this.selfId);
    for (const update of (full.updates as TlObject[] | undefined) ?? []) {
      this.#process(update, full, out);
    }
    return out;
  }

  /** The result of a call the client made: what moves the state is applied like a push. */
  callResult(call: TlObject, result: TlObject): UpdateOutput[] {
    this.learn(result);
    const out: UpdateOutput[] = [];
    if (result._cons === "updateShortSentMessage") {
      this.#process(sentMessage(result, call, this.selfId), this.#container(result), out);
      return out;
    }
    if (typeof result._cons === "string" && /^update(s|sCombined|Short\w*)$/.test(result._cons)) {
      return this.push(result);
    }
    if (
      typeof result.pts === "number" && typeof result.pts_count === "number" &&
      String(result._cons).startsWith("messages.affected")
    ) {
      const { update, refetch } = affectedUpdate(call, result, this.selfId);
      if (update) this.#process(update, this.#container(result), out);
      if (refetch) this.#planner.want(refetch);
    }
    return out;
  }

  /** A call from {@link nextRequests} failed: asked again after a while. */
  failed(request: TlObject): void {
    this.#planner.failed(request);
  }

  /** The answer to a call from {@link nextRequests}. */
  answer(request: TlObject, result: TlObject): UpdateOutput[] {
    const box = this.#planner.settle(request);
    if (box === undefined) return [];
    this.#planner.active();
    this.learn(result);
    const out: UpdateOutput[] = [];
    if (box === "state") {
      const channels = this.#state?.channels ?? {};
      this.#state = {
        pts: result.pts as number,
        qts: result.qts as number,
        date: result.date as number,
        seq: result.seq as number,
        channels,
      };
    } else if (channelOfBox(box) === undefined) {
      this.#onDifference(result, out);
    } else {
      this.#onChannelDifference(box, result, out);
    }
    // Whatever the answer (items, empty, too long), the box is past the difference it was inside.
    if (box !== "state") this.#leave(box);
    this.#sequencer.drainAll(out);
    this.#maybeSynced(out);
    return out;
  }

  #onDifference(result: TlObject, out: UpdateOutput[]): void {
    const state = this.#state!;
    const difference = readDifference(result);
    switch (difference.kind) {
      case "empty":
        state.date = difference.date;
        state.seq = difference.seq;
        return;
      case "too_long":
        state.pts = difference.pts;
        out.push({ kind: "event", event: { type: "too_long", box: COMMON_BOX } });
        this.#planner.want(COMMON_BOX);
        return;
    }
    this.#deliverDifference(COMMON_BOX, difference.items, difference.newCount, result, () => {
      Object.assign(state, difference.next);
    }, out);
    for (const update of difference.channelUpdates) this.#process(update, result, out);
    // A slice: the rest is another getDifference away.
    if (difference.slice) this.#planner.want(COMMON_BOX);
  }

  #onChannelDifference(box: BoxName, result: TlObject, out: UpdateOutput[]): void {
    const state = this.#state!;
    const id = channelOfBox(box)!;
    const difference = readChannelDifference(result);
    if (difference.kind === "too_long") {
      state.channels[id] = difference.pts;
      out.push({ kind: "event", event: { type: "too_long", box } });
      return;
    }
    this.#deliverDifference(box, difference.items, difference.newCount, result, () => {
      state.channels[id] = difference.pts;
    }, out);
    if (!difference.final) this.#planner.want(box);
  }

  /**
   * Delivers a difference's items one line each: its new messages, then its other updates. Until
   * the last, a line's cursor is the state the difference started from and how many of each were
   * delivered (see `CursorValue.inside`); after the last, the new state.
   */
  #deliverDifference(
    box: BoxName,
    items: TlObject[],
    newCount: number,
    container: TlObject,
    advance: () => void,
    out: UpdateOutput[],
  ): void {
    const resumed = this.#inside?.get(box);
    // A cursor of an older version counted the two lists as one.
    let doneNew = resumed
      ? (resumed.other === undefined ? Math.min(resumed.new, newCount) : resumed.new)
      : 0;
    let doneOther = resumed ? (resumed.other ?? resumed.new - doneNew) : 0;
    const order = [
      ...Array.from({ length: Math.max(0, newCount - doneNew) }, (_, i) => doneNew + i),
      ...Array.from(
        { length: Math.max(0, items.length - newCount - doneOther) },
        (_, i) => newCount + doneOther + i,
      ),
    ];
    order.forEach((index, position) => {
      if (index < newCount) doneNew = index + 1;
      else doneOther = index - newCount + 1;
      (this.#inside ??= new Map()).set(box, { new: doneNew, other: doneOther });
      if (position === order.length - 1) {
        advance();
        this.#leave(box);
      }
      out.push(this.#line(items[index], container));
    });
    if (order.length === 0) advance();
    this.#leave(box);
    this.#recovered += order.length;
    if (order.length) {
      out.push({ kind: "event", event: { type: "recovered", box, count: order.length } });
    }
  }

  #process(update: TlObject, container: TlObject, out: UpdateOutput[]): void {
    if (update._cons === "updateChannelTooLong") {
      const id = idOf(update.channel_id);
      if (this.#state && this.#state.channels[id] === undefined && typeof update.pts === "number") {
        this.#state.channels[id] = update.pts;
      }
      this.#planner.want(channelBox(id));
      return;
    }
    const move = moveOf(update);
    if (!move) {
      out.push(this.#line(update, container)); // carries no state: live only
      return;
    }
    this.#sequencer.offer(move, update, container, out);
  }

  #maybeSynced(out: UpdateOutput[]): void {
    if (!this.#syncing || !this.#planner.idle) return;
    this.#syncing = false;
    out.push({
      kind: "event",
      event: { type: "synced", cursor: this.#cursor(), recovered: this.#recovered },
    });
  }

  #line(update: TlObject, container: TlObject): UpdateOutput {
    const date = (container.date as number | undefined) ?? this.#state?.date ?? 0;
    if (this.#state && date > this.#state.date) this.#state.date = date;
    return {
      kind: "updates",
      value: {
        _cons: "updates",
        updates: [update],
        users: (container.users as TlObject[] | undefined) ?? [],
        chats: (container.chats as TlObject[] | undefined) ?? [],
        date,
        seq: 0,
      },
      cursor: this.#cursor(),
    };
  }

  /** `box` is past its difference. */
  #leave(box: BoxName): void {
    this.#inside?.delete(box);
    if (this.#inside?.size === 0) this.#inside = undefined;
  }

  /** The container of an update that came without one (a call's result): no users or chats. */
  #container(value: TlObject): TlObject {
    return { _cons: "updates", users: [], chats: [], date: value.date };
  }

  #cursor(): string {
    const state = this.#state ?? { pts: 0, qts: 0, date: 0, seq: 0, channels: {} };
    const value: CursorValue = {
      state: { ...state, channels: { ...state.channels } },
      ...(this.#inside?.size ? { inside: Object.fromEntries(this.#inside) } : {}),
      ...(this.selfId !== undefined ? { account: this.selfId } : {}),
      hashes: this.#peers.hashesOf(Object.keys(state.channels)),
    };
    return encodeCursor(value);
  }
}
