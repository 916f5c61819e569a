/**
 * Acting on messages and chats beyond sending: search (`messages.search`), members
 * (`channels.getParticipants`), pins (`messages.updatePinnedMessage`, journaled like Telegram's
 * `updatePinnedMessages`) and reactions (`messages.sendReaction`, pushed as
 * `updateMessageReactions`, which carries no pts).
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import type { TlObject } from "../../tl/codec.ts";
import { messageObject, peerObject, reactionsObject, userObject } from "../render.ts";
import type { WorldPeer } from "../world.ts";
import type { Handler, Tools } from "./tools.ts";

/** The handlers of this namespace, by method name. */
export function messageActionMethods(tools: Tools): Record<string, Handler> {
  const { world, now, viewer, resolvePeer, inputChannel, related, pushEvents, pushToUser } = tools;

  /** The viewer's message `id` in `peer`, or MESSAGE_ID_INVALID. */
  const find = (viewerId: number, peer: WorldPeer, id: unknown) => {
    const message = world.history(viewerId, peer).find((candidate) => candidate.id === id);
    if (!message) throw new RpcError(400, "MESSAGE_ID_INVALID");
    return message;
  };

  return {
    // Text search in one conversation, newest first; an empty query lists everything.
    "messages.search": (call, context) => {
      const me = viewer(context);
      const peer = resolvePeer(call.peer, me);
      const query = String(call.q).toLowerCase();
      const found = world.history(me.id, peer).filter((message) =>
        message.text.toLowerCase().includes(query)
      );
      const page = found.slice(0, Math.min(100, Math.max(1, (call.limit as number) || 20)));
      const base = {
        messages: page.map((message) => messageObject(message, me.id)),
        topics: [],
        ...related(page, me, [peer]),
      };
      return peer.type === "channel"
        ? {
          _cons: "messages.channelMessages",
          pts: world.chats.get(peer.id)!.pts,
          count: found.length,
          ...base,
        }
        : { _cons: "messages.messagesSlice", count: found.length, ...base };
    },

    "channels.getParticipants": (call, context) => {
      const me = viewer(context);
      const channel = inputChannel(call.channel, me);
      const offset = Math.max(0, call.offset as number);
      const members = channel.members.slice(offset, offset + Math.max(1, call.limit as number));
      return {
        _cons: "channels.channelParticipants",
        count: channel.members.length,
        participants: members.map((userId) => ({
          _cons: "channelParticipant",
          user_id: userId,
          date: channel.date,
        })),
        chats: [],
        users: members.map((userId) => userObject(world.users.get(userId)!, me.id)),
      };
    },

    "messages.updatePinnedMessage": (call, context) => {
      const me = viewer(context);
      const peer = resolvePeer(call.peer, me);
      const message = find(me.id, peer, call.id);
      const pin = !call.unpin;
      if (message.pinned === pin || (message.pinned === undefined && !pin)) {
        throw new RpcError(400, "MESSAGE_NOT_MODIFIED");
      }
      message.pinned = pin;
      const events = world.journal(message.peer, me.id, now(context), {
        kind: pin ? "pin" : "unpin",
        messageIds: [message.id],
        peer: message.peer.type === "user" ? peer : message.peer,
      });
      pushEvents(events, context.session);
      const own = events.find((event) => event.userId === me.id || event.channelId !== undefined)!;
      return {
        _cons: "updates",
        updates: [tools.eventUpdate(own, me.id)],
        ...related([message], me, [peer]),
        date: now(context),
        seq: 0,
      };
    },

    "messages.sendReaction": (call, context) => {
      const me = viewer(context);
      const peer = resolvePeer(call.peer, me);
      const message = find(me.id, peer, call.msg_id);
      const chosen = ((call.reaction ?? []) as TlObject[]).map((reaction) => {
        if (reaction._cons !== "reactionEmoji") throw new RpcError(400, "REACTION_INVALID");
        return String(reaction.emoticon);
      });
      message.reactions ??= new Map();
      for (const [emoticon, users] of message.reactions) {
        users.delete(me.id);
        if (users.size === 0) message.reactions.delete(emoticon);
      }
      for (const emoticon of chosen) {
        message.reactions.set(emoticon, (message.reactions.get(emoticon) ?? new Set()).add(me.id));
      }
      const update = (viewerId: number) => ({
        _cons: "updateMessageReactions",
        peer: peerObject(
          peer.type === "user" && viewerId !== me.id ? { type: "user", id: me.id } : peer,
        ),
        msg_id: message.id,
        reactions: reactionsObject(message, viewerId),
      });
      const members = message.peer.type === "user"
        ? [message.fromId, message.peer.id]
        : world.chats.get(message.peer.id)!.members;
      for (const member of new Set(members)) {
        const user = world.users.get(member);
        if (!user) continue;
        pushToUser(member, {
          _cons: "updates",
          updates: [update(member)],
          ...related([message], user),
          date: now(context),
          seq: 0,
        }, context.session);
      }
      return {
        _cons: "updates",
        updates: [update(me.id)],
        ...related([message], me),
        date: now(context),
        seq: 0,
      };
    },
  };
}
