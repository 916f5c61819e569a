/**
 * The chat list: `messages.getDialogs` by folder (0, the main list; 1, the archive) in pages,
 * `messages.getPeerDialogs`, `folders.editPeerFolders` to archive and unarchive, and
 * `messages.getDialogFilters`.
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import type { TlObject } from "../../tl/codec.ts";
import type { WorldMessage, WorldPeer, WorldUser } from "../world.ts";
import { messageObject } from "../render.ts";
import type { Handler, Tools } from "./tools.ts";

/** A dialog as the world lists it: the conversation and its latest message. */
type Dialog = { peer: WorldPeer; top: WorldMessage };

/** Where a page starts: after the dialog whose top message has this date and id, and this peer. */
interface PageOffset {
  date: number;
  id: number;
  peer?: WorldPeer;
}

const PEER_RANK = { user: 0, chat: 1, channel: 2 };

/**
 * Orders two positions in the chat list: newer top message first, then the higher message id,
 * then the peer, so that no two dialogs tie (private and channel message ids can be equal) and a
 * page offset falls between two dialogs, never on several at once. Negative: `a` comes first.
 */
function compareDialogs(
  a: { date: number; id: number; peer?: WorldPeer },
  b: { date: number; id: number; peer?: WorldPeer },
): number {
  const rank = (peer?: WorldPeer) =>
    peer ? PEER_RANK[peer.type] * 2 ** 40 + peer.id : Number.NEGATIVE_INFINITY;
  return b.date - a.date || b.id - a.id || rank(b.peer) - rank(a.peer);
}

/**
 * The dialogs after `offset`, in order. Clients page on with the previous page's last dialog:
 * its top message's date and id, and its peer (offset_date 0 with an offset_id pages by id
 * alone). Without a peer, dialogs tied with the offset on date and id count as already seen.
 */
export function dialogsAfter(all: Dialog[], offset: PageOffset): Dialog[] {
  const sorted = all.map((dialog) => ({ ...dialog, date: dialog.top.date, id: dialog.top.id }))
    .sort(compareDialogs);
  if (offset.date === 0 && offset.id === 0) {
    if (!offset.peer) return sorted;
    const at = sorted.findIndex(({ peer }) => sameDialog(peer, offset.peer!));
    return sorted.slice(at + 1);
  }
  if (offset.date === 0) return sorted.filter(({ top }) => top.id < offset.id);
  return sorted.filter((dialog) => compareDialogs(dialog, offset) > 0);
}

function sameDialog(a: WorldPeer, b: WorldPeer): boolean {
  return a.type === b.type && a.id === b.id;
}

/** The handlers, by method name. */
export function dialogMethods(tools: Tools): Record<string, Handler> {
  const { world, now, viewer, resolvePeer, related, dialogObject, updatesState, eventUpdate } =
    tools;

  /**
   * The peer an offset_peer names, checked for nothing but its kind: it only marks a position,
   * and Telegram's own clients send it with access_hash 0 for later pages.
   */
  const offsetPeer = (input: TlObject, me: WorldUser): WorldPeer | undefined => {
    switch (input._cons) {
      case "inputPeerEmpty":
        return undefined;
      case "inputPeerSelf":
        return { type: "user", id: me.id };
      case "inputPeerUser":
      case "inputPeerUserFromMessage":
        return { type: "user", id: Number(input.user_id) };
      case "inputPeerChat":
        return { type: "chat", id: Number(input.chat_id) };
      case "inputPeerChannel":
      case "inputPeerChannelFromMessage":
        return { type: "channel", id: Number(input.channel_id) };
      default:
        throw new RpcError(400, "PEER_ID_INVALID");
    }
  };

  const dialogsAnswer = (dialogs: Dialog[], me: WorldUser) => {
    const messages = dialogs.map((dialog) => dialog.top);
    return {
      dialogs: dialogs.map((dialog) => dialogObject(dialog, me.id)),
      messages: messages.map((message) => messageObject(message, me.id)),
      ...related(messages, me, dialogs.map((dialog) => dialog.peer)),
    };
  };

  return {
    "messages.getDialogs": (call, context) => {
      const me = viewer(context);
      const folderId = Number(call.folder_id ?? 0);
      if (folderId !== 0 && folderId !== 1) throw new RpcError(400, "FOLDER_ID_INVALID");
      const all = world.dialogs(me.id, folderId);
      const after = dialogsAfter(all, {
        date: Number(call.offset_date) || 0,
        id: Number(call.offset_id) || 0,
        peer: offsetPeer(call.offset_peer as TlObject, me),
      });
      const dialogs = after.slice(0, Math.min(100, Math.max(0, call.limit as number) || 100));
      return {
        // The whole list fits: messages.dialogs; a page of it: messages.dialogsSlice with the total.
        ...(dialogs.length === all.length
          ? { _cons: "messages.dialogs" }
          : { _cons: "messages.dialogsSlice", count: all.length }),
        ...dialogsAnswer(dialogs, me),
      };
    },

    // The dialogs of the peers asked for, as a client refreshes some rows of its chat list.
    "messages.getPeerDialogs": (call, context) => {
      const me = viewer(context);
      const wanted = (call.peers as TlObject[]).map((item) => resolvePeer(item.peer, me));
      const dialogs = world.dialogs(me.id).filter((dialog) =>
        wanted.some((peer) => sameDialog(peer, dialog.peer))
      );
      const answer = dialogsAnswer(dialogs, me);
      return {
        _cons: "messages.peerDialogs",
        ...answer,
        ...related(dialogs.map((dialog) => dialog.top), me, wanted),
        state: updatesState(me, context),
      };
    },

    // Archives (folder 1) or unarchives (folder 0) dialogs: one updateFolderPeers in the
    // viewer's box, pushed to their other sessions and kept for getDifference.
    "folders.editPeerFolders": (call, context) => {
      const me = viewer(context);
      const moves = (call.folder_peers as TlObject[]).map((item) => {
        const folderId = Number(item.folder_id);
        if (folderId !== 0 && folderId !== 1) throw new RpcError(400, "FOLDER_ID_INVALID");
        const peer = resolvePeer(item.peer, me);
        if (peer.type === "user" && peer.id === me.id) throw new RpcError(400, "PEER_ID_INVALID");
        return { peer, folderId };
      });
      if (moves.length === 0) throw new RpcError(400, "FOLDER_PEERS_EMPTY");
      const event = world.moveToFolder(me.id, moves, now(context));
      tools.pushEvents([event], context.session);
      return {
        _cons: "updates",
        updates: [eventUpdate(event, me.id)],
        ...related([], me, moves.map((move) => move.peer)),
        date: event.date,
        seq: 0,
      };
    },

    // No folders of the user's own (the archive is not one of these). Older layers declare a
    // bare Vector<DialogFilter>, later ones messages.dialogFilters: answer what is served.
    "messages.getDialogFilters": (_call, context) => {
      const declared = context.dc.codec.combinator("messages.getDialogFilters");
      return declared?.kind === "function" && declared.resultText.startsWith("Vector")
        ? []
        : { _cons: "messages.dialogFilters", filters: [] };
    },
  };
}
