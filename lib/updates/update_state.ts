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
 * @module
 */

import type { TlObject } from "../tl/codec.ts";
import {
  type BoxMove,
  type BoxName,
  channelBox,
  channelOfBox,
  expandShort,
  idOf,
  longText,
  moveOf,
  shortUsers,
} from "./boxes.ts";
import { type CursorValue, decodeCursor, encodeCursor, type UpdateStateValues } from "./cursor.ts";
import { affectedUpdate, sentMessage } from "./call_results.ts";
import { readChannelDifference, readDifference } from "./difference.ts";

/** What the state machine reports besides update lines. */
export type UpdateEvent =
  | { type: "gap"; box: BoxName; local: number; remote: number }
  | { type: "recovered"; box: BoxName; count: number }
  | { type: "too_long"; box: BoxName }
  | { type: "synced"; cursor: string; recovered: number };

/** One output, in delivery order. */
export type UpdateOutput =
  | { kind: "updates"; value: TlObject; cursor: string }
  | { kind: "event"; event: UpdateEvent };

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

interface Held {
  move: BoxMove;
  update: TlObject;
  container: TlObject;
}

const COMMON = "common";
/** The users known (to expand short messages without a difference) are capped at this many. */
const MAX_KNOWN_USERS = 100_000;

/** The update state of one account. */
export class UpdateState {
  readonly #clock: () => number;
  readonly #gapMs: number;
  readonly #idleMs: number;
  readonly #retryMs: number;
  #state?: UpdateStateValues;
  #skip = 0;
  #skipBox?: BoxName;
  readonly #held = new Map<BoxName, Held[]>();
  readonly #gapDeadline = new Map<BoxName, number>();
  /** Boxes whose difference must be fetched, with the earliest time to ask. */
  readonly #wanted = new Map<BoxName, number>();
  readonly #inFlight = new Map<TlObject, BoxName>();
  #needState = false;
  #syncing = false;
  #recovered = 0;
  #lastActivity: number;
  readonly #hashes = new Map<number, string>();
  readonly #knownUsers = new Set<number>();
  /** The account's own user id, for outgoing short messages. */
  selfId?: number;

  constructor(options: UpdateStateOptions) {
    this.#clock = options.clock;
    this.#gapMs = options.gapMs ?? 500;
    this.#idleMs = options.idleMs ?? 15 * 60_000;
    this.#retryMs = options.retryMs ?? 5000;
    this.#lastActivity = this.#clock();
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
      this.#needState = true;
      return;
    }
    const value = decodeCursor(cursor);
    this.#state = value.state;
    this.#skip = value.skip;
    this.#skipBox = value.skipBox;
    for (const [id, hash] of Object.entries(value.hashes ?? {})) this.#hashes.set(Number(id), hash);
    this.#wantAll();
  }

  /** A reconnect or a new server session: what was pushed meanwhile is fetched. */
  reset(): void {
    if (this.#state) this.#wantAll();
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
    const now = this.#clock();
    const requests: TlObject[] = [];
    const busy = new Set(this.#inFlight.values());
    if (this.#needState && !busy.has("state")) {
      const request = { _cons: "updates.getState" };
      this.#inFlight.set(request, "state");
      return [request];
    }
    const state = this.#state;
    if (!state) return [];
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
        const hash = this.#hashes.get(channel);
        const pts = state.channels[channel];
        if (hash === undefined || pts === undefined) {
          // Nothing to ask with: the client must reload what it shows for this channel.
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
      this.#inFlight.set(request, box);
      requests.push(request);
    }
    return requests;
  }

  /** When {@link tick} should run next (a held update's deadline, the idle check, a retry). */
  nextDeadline(): number {
    let next = this.#lastActivity + this.#idleMs;
    for (const deadline of this.#gapDeadline.values()) next = Math.min(next, deadline);
    for (const notBefore of this.#wanted.values()) next = Math.min(next, notBefore);
    return next;
  }

  /** Time passed: holes that did not fill in time, and a long silence, ask for differences. */
  tick(): void {
    const now = this.#clock();
    for (const [box, deadline] of this.#gapDeadline) {
      if (deadline > now) continue;
      this.#gapDeadline.delete(box);
      this.#want(box);
    }
    if (this.#state && now - this.#lastActivity >= this.#idleMs) {
      // Telegram stops pushing to sessions it thinks idle; asking keeps the subscription alive.
      this.#lastActivity = now;
      this.#want(COMMON);
    }
  }

  /** Learns the users and the channels' access hashes an object lists (results, updates). */
  learn(value: unknown): void {
    if (typeof value !== "object" || value === null) return;
    const object = value as TlObject;
    if (Array.isArray(object.users)) {
      if (this.#knownUsers.size > MAX_KNOWN_USERS) this.#knownUsers.clear();
      for (const user of object.users as TlObject[]) this.#knownUsers.add(idOf(user.id));
    }
    if (Array.isArray(object.chats)) {
      for (const chat of object.chats as TlObject[]) {
        if (chat._cons === "channel" && chat.access_hash !== undefined && !chat.min) {
          this.#hashes.set(idOf(chat.id), longText(chat.access_hash));
        }
      }
    }
  }

  /** What Telegram pushed: any `Updates` object. */
  push(value: TlObject): UpdateOutput[] {
    this.#lastActivity = this.#clock();
    this.learn(value);
    const out: UpdateOutput[] = [];
    switch (value._cons) {
      case "updatesTooLong":
        // Too much to push: the client is told, and the difference brings what it can.
        out.push({ kind: "event", event: { type: "too_long", box: COMMON } });
        this.#want(COMMON);
        return out;
      case "updateShortMessage":
      case "updateShortChatMessage":
        // The full form would need these users; a difference brings them (as the docs advise).
        if (shortUsers(value).some((id) => !this.#knownUsers.has(id))) {
          this.#want(COMMON);
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
      if (refetch) this.#want(refetch);
    }
    return out;
  }

  /** A call from {@link nextRequests} failed: asked again after a while. */
  failed(request: TlObject): void {
    const box = this.#inFlight.get(request);
    this.#inFlight.delete(request);
    if (box === undefined) return;
    if (box === "state") return; // nextRequests asks again
    this.#wanted.set(box, this.#clock() + this.#retryMs);
  }

  /** The answer to a call from {@link nextRequests}. */
  answer(request: TlObject, result: TlObject): UpdateOutput[] {
    const box = this.#inFlight.get(request);
    this.#inFlight.delete(request);
    if (box === undefined) return [];
    this.#lastActivity = this.#clock();
    this.learn(result);
    const out: UpdateOutput[] = [];
    if (box === "state") {
      this.#needState = false;
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
    for (const held of [...this.#held.keys()]) this.#drain(held, out);
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
        out.push({ kind: "event", event: { type: "too_long", box: COMMON } });
        this.#want(COMMON);
        return;
    }
    this.#deliverDifference(COMMON, difference.items, result, () => {
      Object.assign(state, difference.next);
    }, out);
    for (const update of difference.channelUpdates) this.#process(update, result, out);
    if (difference.slice) this.#want(COMMON);
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
    this.#deliverDifference(box, difference.items, result, () => {
      state.channels[id] = difference.pts;
    }, out);
    if (!difference.final) this.#want(box);
  }

  /**
   * Delivers a difference's items one line each. Until the last, a line's cursor is the state
   * the difference started from and how many items were delivered; after the last, the new state.
   */
  #deliverDifference(
    box: BoxName,
    items: TlObject[],
    container: TlObject,
    advance: () => void,
    out: UpdateOutput[],
  ): void {
    const skip = this.#skipBox === box ? this.#skip : 0;
    let delivered = 0;
    for (let index = skip; index < items.length; index++) {
      this.#skip = index + 1;
      this.#skipBox = box;
      if (index === items.length - 1) {
        advance();
        this.#skip = 0;
        this.#skipBox = undefined;
      }
      out.push(this.#line(items[index], container));
      delivered++;
    }
    if (delivered === 0) advance();
    this.#skip = 0;
    this.#skipBox = undefined;
    this.#recovered += delivered;
    if (delivered) out.push({ kind: "event", event: { type: "recovered", box, count: delivered } });
  }

  #process(update: TlObject, container: TlObject, out: UpdateOutput[]): void {
    if (update._cons === "updateChannelTooLong") {
      const id = idOf(update.channel_id);
      if (this.#state && this.#state.channels[id] === undefined && typeof update.pts === "number") {
        this.#state.channels[id] = update.pts;
      }
      this.#want(channelBox(id));
      return;
    }
    const move = moveOf(update);
    if (!move) {
      out.push(this.#line(update, container)); // carries no state: live only
      return;
    }
    const held = { move, update, container };
    if (!this.#state || this.#busy(move.box)) {
      this.#hold(held);
      return;
    }
    this.#apply(held, out, true);
  }

  /** Applies an update in order, drops one already applied, or holds one past a hole. */
  #apply(held: Held, out: UpdateOutput[], fresh: boolean): boolean {
    const { move } = held;
    let local = this.#local(move.box);
    if (local === undefined) local = move.to - move.count; // a channel seen for the first time
    if (local + move.count === move.to) {
      this.#setLocal(move.box, move.to);
      out.push(this.#line(held.update, held.container));
      if (fresh) this.#drain(move.box, out);
      return true;
    }
    if (local + move.count > move.to) return true; // already applied
    if (fresh) {
      this.#hold(held);
      if (!this.#gapDeadline.has(move.box)) {
        this.#gapDeadline.set(move.box, this.#clock() + this.#gapMs);
        out.push({
          kind: "event",
          event: { type: "gap", box: move.box, local, remote: move.to - move.count },
        });
      }
    }
    return false;
  }

  /** Applies held updates of `box` that are now in order. */
  #drain(box: BoxName, out: UpdateOutput[]): void {
    const held = this.#held.get(box);
    if (!held || this.#busy(box) || !this.#state) return;
    held.sort((a, b) => (a.move.to - a.move.count) - (b.move.to - b.move.count));
    while (held.length && this.#apply(held[0], out, false)) held.shift();
    if (held.length === 0) {
      this.#held.delete(box);
      this.#gapDeadline.delete(box);
    }
  }

  #hold(held: Held): void {
    const list = this.#held.get(held.move.box) ?? [];
    list.push(held);
    this.#held.set(held.move.box, list);
  }

  #busy(box: BoxName): boolean {
    if (this.#wanted.has(box)) return true;
    for (const inFlight of this.#inFlight.values()) if (inFlight === box) return true;
    return false;
  }

  #want(box: BoxName): void {
    if (!this.#wanted.has(box)) this.#wanted.set(box, 0);
  }

  #wantAll(): void {
    this.#want(COMMON);
    for (const id of Object.keys(this.#state?.channels ?? {})) this.#want(channelBox(id));
    if (this.#skipBox) this.#want(this.#skipBox);
  }

  #maybeSynced(out: UpdateOutput[]): void {
    if (!this.#syncing || this.#needState || this.#inFlight.size || this.#wanted.size) return;
    this.#syncing = false;
    out.push({
      kind: "event",
      event: { type: "synced", cursor: this.#cursor(), recovered: this.#recovered },
    });
  }

  #local(box: BoxName): number | undefined {
    const state = this.#state!;
    if (box === COMMON) return state.pts;
    if (box === "secret") return state.qts;
    return state.channels[channelOfBox(box)!];
  }

  #setLocal(box: BoxName, value: number): void {
    const state = this.#state!;
    if (box === COMMON) state.pts = value;
    else if (box === "secret") state.qts = value;
    else state.channels[channelOfBox(box)!] = value;
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

  /** The container of an update that came without one (a call's result): no users or chats. */
  #container(value: TlObject): TlObject {
    return { _cons: "updates", users: [], chats: [], date: value.date };
  }

  #cursor(): string {
    const state = this.#state ?? { pts: 0, qts: 0, date: 0, seq: 0, channels: {} };
    const hashes: Record<string, string> = {};
    for (const id of Object.keys(state.channels)) {
      const hash = this.#hashes.get(Number(id));
      if (hash !== undefined) hashes[id] = hash;
    }
    const value: CursorValue = {
      state: { ...state, channels: { ...state.channels } },
      skip: this.#skip,
      ...(this.#skip ? { skipBox: this.#skipBox } : {}),
      ...(this.selfId !== undefined ? { account: this.selfId } : {}),
      hashes,
    };
    return encodeCursor(value);
  }
}
