/**
 * `messages.readHistory` and `channels.readHistory`: read receipts, with the updates Telegram
 * sends for them — the reader's other sessions learn what was read, and in private chats and
 * groups each author learns their messages were read.
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import type { WorldPeer } from "../world.ts";
import type { Handler, Tools } from "./tools.ts";

/** The handlers of this namespace, by method name. */
export function readMethods(tools: Tools): Record<string, Handler> {
  const { world, viewer, resolvePeer, inputChannel, pushToUser, pushEvents, now, related } = tools;

  return {
    "messages.readHistory": (call, context) => {
      const me = viewer(context);
      const peer: WorldPeer = resolvePeer(call.peer, me);
      if (peer.type === "channel") {
        // Telegram's answer for a channel given to the method for private chats and groups.
        throw new RpcError(400, "PEER_ID_INVALID");
      }
      const journaled = world.boxEvents.length;
      const read = world.markRead(me.id, peer, Number(call.max_id) || 0);
      // The reader's other sessions and each author learn of it.
      pushEvents(world.boxEvents.slice(journaled), context.session);
      return {
        _cons: "messages.affectedMessages",
        pts: me.pts,
        pts_count: read.length ? 1 : 0,
      };
    },

    "channels.readHistory": (call, context) => {
      const me = viewer(context);
      const channel = inputChannel(call.channel, me);
      const peer: WorldPeer = { type: "channel", id: channel.id };
      const read = world.markRead(me.id, peer, Number(call.max_id) || 0);
      if (read.length) {
        pushToUser(me.id, {
          _cons: "updates",
          updates: [{
            _cons: "updateReadChannelInbox",
            channel_id: channel.id,
            max_id: world.readUpTo(me.id, peer),
            still_unread_count: world.unread(me.id, peer).length,
            pts: channel.pts,
          }],
          ...related([], me, [peer]),
          date: now(context),
          seq: 0,
        }, context.session);
      }
      return true;
    },
  };
}
