/**
 * Changing what was sent: `messages.editMessage`, `messages.deleteMessages` and
 * `channels.deleteMessages`, each journaled in every box it touches (so getDifference returns
 * it) and pushed to the other sessions of everyone concerned.
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import type { WorldMessage, WorldPeer, WorldUser } from "../world.ts";
import type { Handler, Tools } from "./tools.ts";

/** The handlers of this namespace, by method name. */
export function changeMethods(tools: Tools): Record<string, Handler> {
  const { world, now, viewer, resolvePeer, inputChannel, pushEvents, eventUpdate, related } = tools;

  const samePeer = (a: WorldPeer, b: WorldPeer) => a.type === b.type && a.id === b.id;

  /** The viewer's private and group messages with these ids (channel messages have their own). */
  const ownBoxMessages = (me: WorldUser, ids: number[]) =>
    world.messages.filter((message) =>
      ids.includes(message.id) && message.peer.type !== "channel" && !message.deleted &&
      world.membersOf(message.peer, message.fromId).includes(me.id)
    );

  /** Deletes messages of one conversation; returns the viewer's events. */
  const remove = (me: WorldUser, messages: WorldMessage[], date: number, session: unknown) => {
    const byConversation = new Map<string, WorldMessage[]>();
    for (const message of messages) {
      const key = message.peer.type === "user"
        ? `user:${Math.min(message.fromId, message.peer.id)}:${
          Math.max(message.fromId, message.peer.id)
        }`
        : `${message.peer.type}:${message.peer.id}`;
      byConversation.set(key, [...(byConversation.get(key) ?? []), message]);
    }
    let mine = { pts: me.pts, count: 0 };
    for (const group of byConversation.values()) {
      for (const message of group) message.deleted = true;
      const events = world.journal(group[0].peer, group[0].fromId, date, {
        kind: "delete",
        messageIds: group.map((message) => message.id),
      }, group.length);
      pushEvents(events, session);
      const own = events.find((event) => event.userId === me.id || event.channelId !== undefined);
      if (own) mine = { pts: own.pts, count: mine.count + own.ptsCount };
    }
    return mine;
  };

  return {
    "messages.editMessage": (call, context) => {
      const me = viewer(context);
      const peer = resolvePeer(call.peer, me);
      const message = world.history(me.id, peer).find((candidate) => candidate.id === call.id);
      if (!message) throw new RpcError(400, "MESSAGE_ID_INVALID");
      if (message.fromId !== me.id) throw new RpcError(403, "MESSAGE_AUTHOR_REQUIRED");
      if (call.message === undefined || call.message === message.text) {
        throw new RpcError(400, "MESSAGE_NOT_MODIFIED");
      }
      message.text = String(call.message);
      message.editDate = now(context);
      const events = world.journal(message.peer, me.id, message.editDate, {
        kind: "edit",
        message,
      });
      pushEvents(events, context.session);
      const own = events.find((event) =>
        event.userId === me.id || (event.channelId !== undefined && samePeer(peer, message.peer))
      )!;
      return {
        _cons: "updates",
        updates: [eventUpdate(own, me.id)],
        ...related([message], me),
        date: message.editDate,
        seq: 0,
      };
    },

    "messages.deleteMessages": (call, context) => {
      const me = viewer(context);
      const messages = ownBoxMessages(me, call.id as number[]);
      if (messages.length === 0) {
        return { _cons: "messages.affectedMessages", pts: me.pts, pts_count: 0 };
      }
      const mine = remove(me, messages, now(context), context.session);
      return { _cons: "messages.affectedMessages", pts: mine.pts, pts_count: mine.count };
    },

    "channels.deleteMessages": (call, context) => {
      const me = viewer(context);
      const channel = inputChannel(call.channel, me);
      const ids = call.id as number[];
      const messages = world.history(me.id, { type: "channel", id: channel.id }).filter(
        (message: WorldMessage) => ids.includes(message.id),
      );
      if (messages.length === 0) {
        return { _cons: "messages.affectedMessages", pts: channel.pts, pts_count: 0 };
      }
      if (messages.some((message) => message.fromId !== me.id)) {
        throw new RpcError(403, "MESSAGE_DELETE_FORBIDDEN");
      }
      const mine = remove(me, messages, now(context), context.session);
      return { _cons: "messages.affectedMessages", pts: mine.pts, pts_count: mine.count };
    },
  };
}
