/**
 * What the results of the account's own calls stand for in the update stream: a sent message's
 * short answer (`updateShortSentMessage`) is the full message, rebuilt from the call; an
 * `messages.affected*` answer is the update the call caused, as far as the call tells.
 *
 * @module
 */

import type { TlObject } from "../tl/codec.ts";
import { type BoxName, channelBox } from "./boxes.ts";

/** The updateNewMessage an `updateShortSentMessage` stands for (the text from the call). */
export function sentMessage(
  result: TlObject,
  call: TlObject | undefined,
  selfId: number | undefined,
): TlObject {
  const peer = call?.peer as TlObject | undefined;
  return {
    _cons: "updateNewMessage",
    message: {
      _cons: "message",
      out: true,
      id: result.id,
      from_id: { _cons: "peerUser", user_id: selfId },
      peer_id: peerOfInput(peer, selfId),
      date: result.date,
      message: call?.message ?? "",
      ...(result.media ? { media: result.media } : {}),
      ...(result.entities ? { entities: result.entities } : {}),
    },
    pts: result.pts,
    pts_count: result.pts_count,
  };
}

/**
 * The update a `messages.affected*` answer stands for; for a call whose change the answer does
 * not describe, the box whose difference would bring it instead.
 */
export function affectedUpdate(
  call: TlObject,
  result: TlObject,
  selfId: number | undefined,
): { update?: TlObject; refetch?: BoxName } {
  const channel = (call.channel as TlObject | undefined)?.channel_id;
  const base = { pts: result.pts, pts_count: result.pts_count };
  switch (call._cons) {
    case "messages.deleteMessages":
      return { update: { _cons: "updateDeleteMessages", messages: call.id, ...base } };
    case "channels.deleteMessages":
      return {
        update: {
          _cons: "updateDeleteChannelMessages",
          channel_id: channel,
          messages: call.id,
          ...base,
        },
      };
    case "messages.readHistory":
      return {
        update: {
          _cons: "updateReadHistoryInbox",
          peer: peerOfInput(call.peer as TlObject, selfId),
          max_id: call.max_id,
          still_unread_count: 0,
          ...base,
        },
      };
  }
  if (result.pts_count === 0) return {};
  return { refetch: channel === undefined ? "common" : channelBox(channel) };
}

/** The Peer an InputPeer names (the account itself for inputPeerSelf or none). */
function peerOfInput(input: TlObject | undefined, selfId: number | undefined): TlObject {
  switch (input?._cons) {
    case "inputPeerChat":
      return { _cons: "peerChat", chat_id: input.chat_id };
    case "inputPeerChannel":
      return { _cons: "peerChannel", channel_id: input.channel_id };
    case "inputPeerUser":
      return { _cons: "peerUser", user_id: input.user_id };
  }
  return { _cons: "peerUser", user_id: selfId };
}
