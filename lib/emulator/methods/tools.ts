/**
 * What the emulator's API methods share: the clock, the signed-in viewer, reading input peers,
 * the users and chats a list of messages refers to, dialogs, update state, and pushing updates to
 * a user's live sessions on every DC.
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import type { TlObject } from "../../tl/codec.ts";
import type { CallContext, DcContext } from "../server_connection.ts";
import type {
  World,
  WorldBoxEvent,
  WorldChat,
  WorldMessage,
  WorldPeer,
  WorldUser,
} from "../world.ts";
import { chatObject, messageObject, peerObject, userObject } from "../render.ts";

/** Where the emulator's DCs listen, for help.getConfig's dc_options. */
export interface DcAddress {
  id: number;
  port: number;
}

/** A method's handler: the call (wrappers removed) and its context, to the result's value. */
export type Handler = (call: TlObject, context: CallContext) => unknown;

/** The shared helpers, built once per emulator by {@link createTools}. */
export type Tools = ReturnType<typeof createTools>;

/** Builds the helpers over one world; `allDcs` lists every DC for pushing updates. */
export function createTools(world: World, allDcs: () => DcContext[]) {
  const now = (context: CallContext) => Math.floor(context.dc.clock.wall() / 1000);
  const keyId = (context: CallContext) => context.key.authKey.id.toHex();

  const viewer = (context: CallContext): WorldUser => {
    const user = context.key.userId === undefined ? undefined : world.users.get(context.key.userId);
    if (!user) throw new RpcError(401, "AUTH_KEY_UNREGISTERED");
    return user;
  };

  const resolvePeer = (input: unknown, me: WorldUser): WorldPeer => {
    const peer = input as TlObject;
    switch (peer._cons) {
      case "inputPeerSelf":
        return { type: "user", id: me.id };
      case "inputPeerUser": {
        const user = world.users.get(Number(peer.user_id));
        if (!user || (user.id !== me.id && user.accessHash !== peer.access_hash)) {
          throw new RpcError(400, "PEER_ID_INVALID");
        }
        return { type: "user", id: user.id };
      }
      case "inputPeerChat": {
        const chat = world.chats.get(Number(peer.chat_id));
        if (!chat || chat.kind !== "group" || !chat.members.includes(me.id)) {
          throw new RpcError(400, "PEER_ID_INVALID");
        }
        return { type: "chat", id: chat.id };
      }
      case "inputPeerChannel": {
        const chat = world.chats.get(Number(peer.channel_id));
        if (!chat || chat.kind !== "channel" || chat.accessHash !== peer.access_hash) {
          throw new RpcError(400, "CHANNEL_INVALID");
        }
        return { type: "channel", id: chat.id };
      }
      default:
        throw new RpcError(400, "PEER_ID_INVALID");
    }
  };

  /** The channel an InputChannel names, if the viewer may see it. */
  const inputChannel = (input: unknown, me: WorldUser): WorldChat => {
    const value = input as TlObject;
    const chat = world.chats.get(Number(value.channel_id));
    if (
      value._cons !== "inputChannel" || !chat || chat.kind !== "channel" ||
      chat.accessHash !== value.access_hash || !chat.members.includes(me.id)
    ) {
      throw new RpcError(400, "CHANNEL_INVALID");
    }
    return chat;
  };

  /**
   * The user an InputUser names, if the viewer may see it: by access hash, or as seen in a
   * message the viewer can see (inputUserFromMessage, how Telegram lets a client name a user it
   * has no access hash for).
   */
  const inputUser = (input: unknown, me: WorldUser): WorldUser | undefined => {
    const value = input as TlObject;
    if (value._cons === "inputUserSelf") return me;
    if (value._cons === "inputUserFromMessage") {
      const user = world.users.get(Number(value.user_id));
      const where = resolvePeer(value.peer, me);
      const message = world.history(me.id, where).find((candidate) =>
        candidate.id === value.msg_id
      );
      const seen = message &&
        (message.fromId === user?.id ||
          (message.peer.type === "user" && message.peer.id === user?.id));
      return seen ? user : undefined;
    }
    if (value._cons !== "inputUser") return undefined;
    const user = world.users.get(Number(value.user_id));
    return user && (user.id === me.id || user.accessHash === value.access_hash) ? user : undefined;
  };

  /** Users and chats a list of messages refers to. */
  const related = (messages: WorldMessage[], me: WorldUser, extraPeers: WorldPeer[] = []) => {
    const userIds = new Set<number>([me.id]);
    const chatIds = new Set<number>();
    for (const message of messages) {
      userIds.add(message.fromId);
      if (message.peer.type === "user") userIds.add(message.peer.id);
      else chatIds.add(message.peer.id);
    }
    for (const peer of extraPeers) (peer.type === "user" ? userIds : chatIds).add(peer.id);
    return {
      users: [...userIds].flatMap((id) =>
        world.users.has(id) ? [userObject(world.users.get(id)!, me.id)] : []
      ),
      chats: [...chatIds].flatMap((id) =>
        world.chats.has(id) ? [chatObject(world.chats.get(id)!)] : []
      ),
    };
  };

  /**
   * Pushes an update to every live session of a user that takes updates, on every DC. An
   * `updates` container gets the user's next seq. The fault switches apply here: every Nth push
   * dropped (`dropUpdatesEvery`) or replaced by updatesTooLong (`tooLongEvery`).
   */
  const pushToUser = (userId: number, update: TlObject, exceptSession?: unknown) => {
    const user = world.users.get(userId);
    if (update._cons === "updates" && user) {
      update = { ...update, seq: user.seq = (user.seq ?? 0) + 1 };
    }
    const count = ++world.pushes;
    const { dropUpdatesEvery, tooLongEvery } = world.options;
    if (dropUpdatesEvery && count % dropUpdatesEvery === 0) return;
    if (tooLongEvery && count % tooLongEvery === 0) update = { _cons: "updatesTooLong" };
    for (const dc of allDcs()) {
      for (const session of dc.sessions.values()) {
        // A bound temporary key's sessions belong to its permanent key's account.
        const account = session.key.boundTo ?? session.key;
        if (account.userId !== userId || session === exceptSession || !session.wantsUpdates) {
          continue;
        }
        session.push(dc.codec.encode(update));
      }
    }
  };

  /**
   * Pushes an update that only matters while it is fresh (typing, presence) to a user's live
   * sessions, as updateShort. It is never journaled, so getDifference never returns it, and the
   * fault switches skip it: they exist to open gaps, and an update without pts leaves none.
   */
  const pushLive = (userId: number, update: TlObject, date: number) => {
    for (const dc of allDcs()) {
      for (const session of dc.sessions.values()) {
        const account = session.key.boundTo ?? session.key;
        if (account.userId !== userId || !session.wantsUpdates) continue;
        session.push(dc.codec.encode({ _cons: "updateShort", update, date }));
      }
    }
  };

  function dialogObject(
    dialog: { peer: WorldPeer; top: WorldMessage },
    viewerId: number,
  ): TlObject {
    const peer = dialog.peer;
    return {
      _cons: "dialog",
      peer: peerObject(peer),
      top_message: dialog.top.id,
      read_inbox_max_id: world.readUpTo(viewerId, peer),
      // What the other side of a private chat has read; groups and channels: taken as read.
      read_outbox_max_id: peer.type === "user"
        ? world.readUpTo(peer.id, { type: "user", id: viewerId })
        : dialog.top.id,
      unread_count: world.unread(viewerId, peer).length,
      unread_mentions_count: 0,
      unread_reactions_count: 0,
      notify_settings: { _cons: "peerNotifySettings" },
      ...(dialog.peer.type === "channel" ? { pts: world.chats.get(dialog.peer.id)!.pts } : {}),
      ...(world.folderOf(viewerId, peer) ? { folder_id: world.folderOf(viewerId, peer) } : {}),
    };
  }

  const updatesState = (me: WorldUser, context: CallContext) => ({
    _cons: "updates.state",
    pts: me.pts,
    qts: 0,
    date: now(context),
    seq: me.seq ?? 0,
    unread_count: 0,
  });

  /** A journaled change as the update Telegram sends for it, as `viewerId` sees it. */
  const eventUpdate = (event: WorldBoxEvent, viewerId: number): TlObject => {
    const moved = { pts: event.pts, pts_count: event.ptsCount };
    const inChannel = event.channelId !== undefined;
    switch (event.kind) {
      case "new":
        return {
          _cons: inChannel ? "updateNewChannelMessage" : "updateNewMessage",
          message: messageObject(event.message!, viewerId),
          ...moved,
        };
      case "edit":
        return {
          _cons: inChannel ? "updateEditChannelMessage" : "updateEditMessage",
          message: messageObject(event.message!, viewerId),
          ...moved,
        };
      case "delete":
        return inChannel
          ? {
            _cons: "updateDeleteChannelMessages",
            channel_id: event.channelId,
            messages: event.messageIds,
            ...moved,
          }
          : { _cons: "updateDeleteMessages", messages: event.messageIds, ...moved };
      case "read_inbox":
        return {
          _cons: "updateReadHistoryInbox",
          peer: peerObject(event.peer!),
          max_id: event.maxId,
          still_unread_count: event.stillUnread,
          ...moved,
        };
      case "read_outbox":
        return {
          _cons: "updateReadHistoryOutbox",
          peer: peerObject(event.peer!),
          max_id: event.maxId,
          ...moved,
        };
      case "pin":
      case "unpin":
        return {
          _cons: inChannel ? "updatePinnedChannelMessages" : "updatePinnedMessages",
          ...(event.kind === "pin" ? { pinned: true } : {}),
          ...(inChannel ? { channel_id: event.channelId } : { peer: peerObject(event.peer!) }),
          messages: event.messageIds,
          ...moved,
        };
      case "folders":
        return {
          _cons: "updateFolderPeers",
          folder_peers: event.folderPeers!.map((move) => ({
            _cons: "folderPeer",
            peer: peerObject(move.peer),
            folder_id: move.folderId,
          })),
          ...moved,
        };
    }
  };

  /** The peers a journaled event names besides its message's. */
  const eventPeers = (event: WorldBoxEvent): WorldPeer[] => [
    ...(event.peer ? [event.peer] : []),
    ...(event.folderPeers ?? []).map((move) => move.peer),
  ];

  /** Pushes each journaled event to its user, in an `updates` with what it refers to. */
  const pushEvents = (events: WorldBoxEvent[], exceptSession?: unknown) => {
    for (const event of events) {
      const targets = event.userId !== undefined
        ? [event.userId]
        : world.chats.get(event.channelId!)!.members;
      for (const userId of targets) {
        const user = world.users.get(userId);
        if (!user) continue;
        pushToUser(userId, {
          _cons: "updates",
          updates: [eventUpdate(event, userId)],
          ...related(event.message ? [event.message] : [], user, eventPeers(event)),
          date: event.date,
          seq: 0,
        }, exceptSession);
      }
    }
  };

  const newMessageUpdate = (message: WorldMessage, viewerId: number) =>
    message.peer.type === "channel"
      ? {
        _cons: "updateNewChannelMessage",
        message: messageObject(message, viewerId),
        pts: message.pts.get(0)!,
        pts_count: 1,
      }
      : {
        _cons: "updateNewMessage",
        message: messageObject(message, viewerId),
        pts: message.pts.get(viewerId)!,
        pts_count: 1,
      };

  return {
    world,
    now,
    keyId,
    viewer,
    resolvePeer,
    inputChannel,
    inputUser,
    related,
    pushToUser,
    pushLive,
    dialogObject,
    updatesState,
    eventUpdate,
    eventPeers,
    pushEvents,
    newMessageUpdate,
  };
}
