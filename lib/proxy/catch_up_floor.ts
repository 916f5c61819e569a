/**
 * What a connection that caught up on a difference of its own (its cursor was not a position in
 * the held account's journal) already has, and how the account's lines are filtered and their
 * cursors raised for it until the account's own state passes that point. Pure functions.
 *
 * @module
 */

import type { ManagedLine } from "../client/managed_updates.ts";
import type { TlObject } from "../tl/codec.ts";
import { channelOfBox, moveOf } from "../updates/boxes.ts";
import { type CursorValue, decodeCursor, encodeCursor } from "../updates/cursor.ts";

/**
 * What a connection that caught up on a difference of its own already has: the state its
 * difference reached, and which updates it delivered (the account may deliver the same ones from a
 * difference of its own, where an update carries no pts to compare).
 */
export interface Floor {
  state: CursorValue["state"];
  delivered: Set<string>;
}

/** An update's identity apart from how it arrived (pushed with its pts, or recovered without). */
export function identityOf(line: ManagedLine): string | undefined {
  const update = ((line.message as TlObject | undefined)?.updates as TlObject[])?.[0];
  if (!update) return undefined;
  const { pts: _pts, pts_count: _count, qts: _qts, ...rest } = update;
  return JSON.stringify(rest);
}

/** True when the connection with this floor already has the line. */
export function coveredBy(line: ManagedLine, floor: Floor): boolean {
  const update = ((line.message as TlObject | undefined)?.updates as TlObject[])?.[0];
  const move = update && moveOf(update);
  if (move && move.to > 0) {
    const reached = floor.state;
    const local = move.box === "common"
      ? reached.pts
      : move.box === "secret"
      ? reached.qts
      : reached.channels[channelOfBox(move.box)!];
    if (local !== undefined) return move.to <= local;
  }
  const identity = identityOf(line);
  return identity !== undefined && floor.delivered.has(identity);
}

/**
 * A line's cursor for a connection that already has everything up to `floor`: the line's state
 * raised to the floor box by box. While the floor is ahead anywhere, that state is not a journal
 * position (it is resumed by difference); once it is not, the line's own cursor is exact.
 */
export function mergedCursor(cursor: string, { state: floor }: Floor): {
  cursor: string;
  caughtUp: boolean;
} {
  const value = decodeCursor(cursor);
  const state = value.state;
  const ahead = floor.pts > state.pts || floor.qts > state.qts || floor.seq > state.seq ||
    Object.entries(floor.channels).some(([id, pts]) => !(state.channels[id] >= pts));
  if (!ahead) return { cursor, caughtUp: true };
  const channels = { ...state.channels };
  for (const [id, pts] of Object.entries(floor.channels)) {
    channels[id] = Math.max(pts, channels[id] ?? 0);
  }
  const merged = {
    pts: Math.max(state.pts, floor.pts),
    qts: Math.max(state.qts, floor.qts),
    date: Math.max(state.date, floor.date),
    seq: Math.max(state.seq, floor.seq),
    channels,
  };
  // A skip counts items of a difference from the line's own position in that box: kept only
  // where the box was not raised.
  const box = value.skipBox;
  const raised = box === "common"
    ? merged.pts !== state.pts
    : box === "secret"
    ? merged.qts !== state.qts
    : box !== undefined &&
      merged.channels[channelOfBox(box)!] !== state.channels[channelOfBox(box)!];
  return {
    cursor: encodeCursor({
      state: merged,
      skip: raised ? 0 : value.skip,
      ...(raised || !box ? {} : { skipBox: box }),
      ...(value.account !== undefined ? { account: value.account } : {}),
      ...(value.hashes ? { hashes: value.hashes } : {}),
    }),
    caughtUp: false,
  };
}
