/**
 * In-order delivery per message box: an update that continues its box's sequence is delivered,
 * one already applied is dropped, and one past a hole is held for a moment (the docs: about half a
 * second) in case the missing ones still arrive; when the moment passes, the box's difference is
 * asked for. https://core.telegram.org/api/updates
 *
 * @module
 */

import type { TlObject } from "../tl/codec.ts";
import { type BoxMove, type BoxName, channelOfBox, COMMON_BOX } from "./boxes.ts";
import type { UpdateStateValues } from "./cursor.ts";
import type { UpdateOutput } from "./update_output.ts";

/** What the sequencer needs from the state machine it works for. */
export interface SequencerHost {
  /** The positions of the boxes, or undefined until they are known. */
  state(): UpdateStateValues | undefined;
  /** True while a difference of `box` is wanted or under way: its updates wait for it. */
  busy(box: BoxName): boolean;
  /** The `updates` line that delivers `update`, read after the box has moved. */
  line(update: TlObject, container: TlObject): UpdateOutput;
}

/** Settings of a {@link BoxSequencer}. */
export interface SequencerOptions {
  /** Milliseconds, monotonic enough for deadlines. */
  clock: () => number;
  /** How long updates past a hole wait for it to fill. */
  gapMs: number;
}

interface Held {
  move: BoxMove;
  update: TlObject;
  container: TlObject;
}

/**
 * Delivers updates that move a box in the box's order, holding those that arrive past a hole.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BoxSequencer } from "./box_sequencer.ts";
 * import type { UpdateOutput } from "./update_output.ts";
 * const state = { pts: 10, qts: 0, date: 0, seq: 0, channels: {} };
 * const sequencer = new BoxSequencer({
 *   state: () => state,
 *   busy: () => false,
 *   line: (update) => ({ kind: "updates", value: update, cursor: "" }),
 * }, { clock: () => 0, gapMs: 500 });
 * const out: UpdateOutput[] = [];
 * const update = (pts: number) => ({ _cons: "updateNewMessage", pts, pts_count: 1 });
 * sequencer.offer({ box: "common", to: 12, count: 1 }, update(12), { _cons: "updates" }, out);
 * assert.equal(state.pts, 10); // held: pts 11 is missing
 * sequencer.offer({ box: "common", to: 11, count: 1 }, update(11), { _cons: "updates" }, out);
 * assert.equal(state.pts, 12);
 * ```
 */
export class BoxSequencer {
  readonly #host: SequencerHost;
  readonly #clock: () => number;
  readonly #gapMs: number;
  // Made with the first held update and dropped when none is left: a thousand idle connections
  // through serve each kept two empty maps (~180 B each) here.
  #held?: Map<BoxName, Held[]>;
  #gapDeadline?: Map<BoxName, number>;

  /** A sequencer holding nothing yet. */
  constructor(host: SequencerHost, options: SequencerOptions) {
    this.#host = host;
    this.#clock = options.clock;
    this.#gapMs = options.gapMs;
  }

  /**
   * Takes an update that moves `move.box`: delivered into `out` if it is next (with any held ones
   * it unblocks), dropped if already applied, else held, with a `gap` event for a new hole.
   */
  offer(move: BoxMove, update: TlObject, container: TlObject, out: UpdateOutput[]): void {
    const held = { move, update, container };
    if (!this.#host.state() || this.#host.busy(move.box)) {
      this.#hold(held);
      return;
    }
    this.#apply(held, out, true);
  }

  /** Delivers the held updates of every box that are now in order. */
  drainAll(out: UpdateOutput[]): void {
    if (this.#held) { for (const held of [...this.#held.keys()]) this.drain(held, out); }
  }

  /** Delivers the held updates of `box` that are now in order. */
  drain(box: BoxName, out: UpdateOutput[]): void {
    const held = this.#held?.get(box);
    if (!held || this.#host.busy(box) || !this.#host.state()) return;
    held.sort((a, b) => (a.move.to - a.move.count) - (b.move.to - b.move.count));
    while (held.length && this.#apply(held[0], out, false)) held.shift();
    if (held.length === 0) {
      this.#held?.delete(box);
      this.#gapDeadline?.delete(box);
      if (this.#held?.size === 0) this.#held = undefined;
      if (this.#gapDeadline?.size === 0) this.#gapDeadline = undefined;
    }
  }

  /** The boxes whose holes did not fill by `now`; each is reported once. */
  expired(now: number): BoxName[] {
    const boxes: BoxName[] = [];
    if (!this.#gapDeadline) return boxes;
    for (const [box, deadline] of this.#gapDeadline) {
      if (deadline > now) continue;
      this.#gapDeadline.delete(box);
      boxes.push(box);
    }
    if (this.#gapDeadline.size === 0) this.#gapDeadline = undefined;
    return boxes;
  }

  /** The earliest deadline of a hole, or `Infinity` when there is none. */
  nextDeadline(): number {
    let next = Infinity;
    for (const deadline of this.#gapDeadline?.values() ?? []) next = Math.min(next, deadline);
    return next;
  }

  /** Applies an update in order, drops one already applied, or holds one past a hole. */
  #apply(held: Held, out: UpdateOutput[], fresh: boolean): boolean {
    const { move } = held;
    const state = this.#host.state()!;
    let local = positionOf(state, move.box);
    if (local === undefined) local = move.to - move.count; // a channel seen for the first time
    if (local + move.count === move.to) {
      setPosition(state, move.box, move.to);
      out.push(this.#host.line(held.update, held.container));
      if (fresh) this.drain(move.box, out);
      return true;
    }
    if (local + move.count > move.to) return true; // already applied
    if (fresh) {
      this.#hold(held);
      if (!this.#gapDeadline?.has(move.box)) {
        (this.#gapDeadline ??= new Map()).set(move.box, this.#clock() + this.#gapMs);
        out.push({
          kind: "event",
          event: { type: "gap", box: move.box, local, remote: move.to - move.count },
        });
      }
    }
    return false;
  }

  #hold(held: Held): void {
    this.#held ??= new Map();
    const list = this.#held.get(held.move.box) ?? [];
    list.push(held);
    this.#held.set(held.move.box, list);
  }
}

function positionOf(state: UpdateStateValues, box: BoxName): number | undefined {
  if (box === COMMON_BOX) return state.pts;
  if (box === "secret") return state.qts;
  return state.channels[channelOfBox(box)!];
}

function setPosition(state: UpdateStateValues, box: BoxName, value: number): void {
  if (box === COMMON_BOX) state.pts = value;
  else if (box === "secret") state.qts = value;
  else state.channels[channelOfBox(box)!] = value;
}
