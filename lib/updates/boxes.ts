/**
 * Which message box an update belongs to, and how far it moves it: Telegram numbers the
 * account's common box (private chats and basic groups) with `pts`, secret chats and bot events
 * with `qts`, and every channel with a `pts` of its own. Also the expansion of the short forms
 * (`updateShortMessage`, `updateShortChatMessage`, `updateShort`) into full `updates`.
 * https://core.telegram.org/api/updates
 *
 * @module
 */

import type { TlObject } from "../tl/codec.ts";

/** A box's name: "common", "secret", or "channel:<id>". */
export type BoxName = string;

/** Where an update moves the state: its box, the sequence number after it, and by how much. */
export interface BoxMove {
  box: BoxName;
  /** pts (or qts) after the update. */
  to: number;
  /** How many events it accounts for (`pts_count`; 1 for a qts update). */
  count: number;
}

/**
 * A `long` in any form the codecs give (number, bigint, decimal string, or the `JSON.rawJSON`
 * digits of the JSON form) as its decimal text.
 */
export function longText(value: unknown): string {
  if (typeof value === "object" && value !== null && "rawJSON" in value) {
    return String((value as { rawJSON: unknown }).rawJSON);
  }
  return String(value);
}

/** A long id as a number (ids of users, chats and channels fit). */
export const idOf = (value: unknown): number => Number(longText(value));

/** The common box: private chats and basic groups, numbered by the account's `pts`. */
export const COMMON_BOX: BoxName = "common";

/** The box of channel `id`. */
export const channelBox = (id: unknown): BoxName => `channel:${idOf(id)}`;

/** The channel a box is about, or undefined for the common and secret boxes. */
export function channelOfBox(box: BoxName): number | undefined {
  return box.startsWith("channel:") ? Number(box.slice(8)) : undefined;
}

/** The channel an update with a pts is about, if any. */
function channelOf(update: TlObject): unknown {
  if (update.channel_id !== undefined) return update.channel_id;
  const peer = (update.message as TlObject | undefined)?.peer_id as TlObject | undefined;
  return peer?._cons === "peerChannel" ? peer.channel_id : undefined;
}

/**
 * How `update` moves the state, or undefined for an update that carries none (typing, online
 * status, a read position given for information such as `updateReadChannelInbox`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { moveOf } from "./boxes.ts";
 * const update = { _cons: "updateDeleteChannelMessages", channel_id: 7, messages: [1], pts: 5, pts_count: 1 };
 * assert.deepEqual(moveOf(update), { box: "channel:7", to: 5, count: 1 });
 * assert.equal(moveOf({ _cons: "updateUserTyping", user_id: 1 }), undefined);
 * ```
 */
export function moveOf(update: TlObject): BoxMove | undefined {
  if (typeof update.pts === "number" && typeof update.pts_count === "number") {
    const channel = channelOf(update);
    return {
      box: channel === undefined ? "common" : channelBox(channel),
      to: update.pts,
      count: update.pts_count,
    };
  }
  if (typeof update.qts === "number") return { box: "secret", to: update.qts, count: 1 };
  return undefined;
}

/**
 * The full `updates` form of a short update, given the account's own user id (an outgoing
 * `updateShortMessage` names the peer, not the sender). Other `Updates` come back unchanged.
 */
export function expandShort(value: TlObject, selfId: number | undefined): TlObject {
  const common = (fromId: unknown, peer: TlObject) => ({
    _cons: "message",
    ...(value.out ? { out: true } : {}),
    ...(value.mentioned ? { mentioned: true } : {}),
    ...(value.media_unread ? { media_unread: true } : {}),
    ...(value.silent ? { silent: true } : {}),
    id: value.id,
    from_id: { _cons: "peerUser", user_id: fromId },
    peer_id: peer,
    ...(value.fwd_from ? { fwd_from: value.fwd_from } : {}),
    ...(value.via_bot_id !== undefined ? { via_bot_id: value.via_bot_id } : {}),
    ...(value.reply_to ? { reply_to: value.reply_to } : {}),
    date: value.date,
    message: value.message,
    ...(value.entities ? { entities: value.entities } : {}),
    ...(value.ttl_period !== undefined ? { ttl_period: value.ttl_period } : {}),
  });
  const wrap = (update: TlObject): TlObject => ({
    _cons: "updates",
    updates: [update],
    users: [],
    chats: [],
    date: value.date,
    seq: 0,
  });
  const newMessage = (message: TlObject) => ({
    _cons: "updateNewMessage",
    message,
    pts: value.pts,
    pts_count: value.pts_count,
  });
  switch (value._cons) {
    case "updateShortMessage":
      return wrap(newMessage(common(
        value.out ? selfId : value.user_id,
        { _cons: "peerUser", user_id: value.user_id },
      )));
    case "updateShortChatMessage":
      return wrap(newMessage(common(value.from_id, { _cons: "peerChat", chat_id: value.chat_id })));
    case "updateShort":
      return wrap(value.update as TlObject);
  }
  return value;
}

/** The user ids a short message names (whose users the full form would carry). */
export function shortUsers(value: TlObject): number[] {
  if (value._cons === "updateShortMessage") return [idOf(value.user_id)];
  if (value._cons === "updateShortChatMessage") return [idOf(value.from_id)];
  return [];
}
