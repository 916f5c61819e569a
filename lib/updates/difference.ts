/**
 * Reading the answers of `updates.getDifference` and `updates.getChannelDifference` into what the
 * state machine does with them: the items to deliver in order (new messages as `updateNew*`
 * updates, then the other updates), the updates of other boxes found among them, and where the
 * box stands after them.
 *
 * @module
 */

import type { TlObject } from "../tl/codec.ts";
import { moveOf } from "./boxes.ts";

/** A common-box difference, read. */
export type CommonDifference =
  | { kind: "empty"; date: number; seq: number }
  | { kind: "too_long"; pts: number }
  | {
    kind: "items";
    items: TlObject[];
    /** How many of `items` come first as new messages (the rest are other updates). */
    newCount: number;
    /** Updates of channel boxes (and `updateChannelTooLong`): checked against their own boxes. */
    channelUpdates: TlObject[];
    next: { pts: number; qts: number; date: number; seq: number };
    /** More follows from `next` (`differenceSlice`). */
    slice: boolean;
  };

/** A new message from a difference as the update it stands for (which pts it had is not told). */
const asUpdate = (cons: string) => (message: unknown): TlObject => ({
  _cons: cons,
  message,
  pts: 0,
  pts_count: 0,
});

/** Reads an `updates.Difference`. */
export function readDifference(result: TlObject): CommonDifference {
  switch (result._cons) {
    case "updates.differenceEmpty":
      return { kind: "empty", date: result.date as number, seq: result.seq as number };
    case "updates.differenceTooLong":
      return { kind: "too_long", pts: result.pts as number };
  }
  const items: TlObject[] = [
    ...(result.new_messages as TlObject[]).map(asUpdate("updateNewMessage")),
    ...(result.new_encrypted_messages as TlObject[]).map((message) => ({
      _cons: "updateNewEncryptedMessage",
      message,
      qts: 0,
    })),
  ];
  const channelUpdates: TlObject[] = [];
  for (const update of result.other_updates as TlObject[]) {
    const box = moveOf(update)?.box;
    const inChannel = update._cons === "updateChannelTooLong" ||
      (box !== undefined && box !== "common" && box !== "secret");
    (inChannel ? channelUpdates : items).push(update);
  }
  const slice = result._cons === "updates.differenceSlice";
  const state = (slice ? result.intermediate_state : result.state) as TlObject;
  return {
    kind: "items",
    items,
    newCount: (result.new_messages as TlObject[]).length +
      (result.new_encrypted_messages as TlObject[]).length,
    channelUpdates,
    next: {
      pts: state.pts as number,
      qts: state.qts as number,
      date: state.date as number,
      seq: state.seq as number,
    },
    slice,
  };
}

/** A channel difference, read: its items, the channel's pts after them, and whether more follow. */
export type ChannelDifference =
  | { kind: "too_long"; pts: number }
  | { kind: "items"; items: TlObject[]; newCount: number; pts: number; final: boolean };

/** Reads an `updates.ChannelDifference`. */
export function readChannelDifference(result: TlObject): ChannelDifference {
  if (result._cons === "updates.channelDifferenceTooLong") {
    return { kind: "too_long", pts: (result.dialog as TlObject).pts as number };
  }
  const items = result._cons === "updates.channelDifference"
    ? [
      ...(result.new_messages as TlObject[]).map(asUpdate("updateNewChannelMessage")),
      ...(result.other_updates as TlObject[]),
    ]
    : [];
  const newCount = result._cons === "updates.channelDifference"
    ? (result.new_messages as TlObject[]).length
    : 0;
  return {
    kind: "items",
    items,
    newCount,
    pts: result.pts as number,
    final: result.final !== undefined,
  };
}
