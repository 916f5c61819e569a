/**
 * The API methods the emulator answers, over the {@link World}. Calls that need a signed-in
 * account answer 401 AUTH_KEY_UNREGISTERED before sign-in; methods it does not implement answer
 * 400 METHOD_NOT_IMPLEMENTED_IN_EMULATOR, never silence.
 *
 * @module
 */

import { RpcError } from "../errors.ts";
import { bigintFromBytes } from "../crypto/bigint.ts";
import { type SrpServerChallenge, srpServerChallenge, srpServerVerify } from "../crypto/srp.ts";
import type { TlObject } from "../tl/codec.ts";
import type { CallContext, DcContext } from "./server_connection.ts";
import { startupMethods } from "./startup_methods.ts";
import {
  LOGIN_CODE,
  type World,
  type WorldChat,
  type WorldMessage,
  type WorldPeer,
  type WorldUser,
} from "./world.ts";

/** Where the emulator's DCs listen, for help.getConfig's dc_options. */
export interface DcAddress {
  id: number;
  port: number;
}

type Handler = (call: TlObject, context: CallContext) => unknown;

const NO_ACCOUNT_NEEDED = new Set([
  "help.getConfig",
  "help.getNearestDc",
  "auth.sendCode",
  "auth.signIn",
  "auth.signUp",
  "auth.checkPassword",
  "auth.importAuthorization",
  "account.getPassword",
  // Asked before sign-in by full clients, and answered then by Telegram.
  "help.getAppConfig",
  "help.getPromoData",
  "help.getTermsOfServiceUpdate",
  "help.getPeerColors",
  "help.getPeerProfileColors",
]);

/** Builds the dispatcher a DC calls for every API request. */
export function createMethods(
  world: World,
  dcs: () => DcAddress[],
  allDcs: () => DcContext[],
  log: (line: string) => void,
): (call: TlObject, context: CallContext) => unknown {
  const challenges = new Map<bigint, { userId: number; challenge: SrpServerChallenge }>();
  let nextSrpId = 1n;
  const now = (context: CallContext) => Math.floor(context.dc.clock() / 1000);
  const keyId = (context: CallContext) => context.key.authKey.id.toHex();

  const viewer = (context: CallContext): WorldUser => {
    const user = context.key.userId === undefined ? undefined : world.users.get(context.key.userId);
    if (!user) throw new RpcError(401, "AUTH_KEY_UNREGISTERED");
    return user;
  };

  const signedIn = (context: CallContext, user: WorldUser) => {
    context.key.userId = user.id;
    world.signIns.delete(keyId(context));
    log(`dc${context.dc.dcId}: ${user.firstName} (+${user.phone}) signed in`);
    return { _cons: "auth.authorization", user: userObject(user, user.id) };
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

  const inputUser = (input: unknown, me: WorldUser): WorldUser | undefined => {
    const value = input as TlObject;
    if (value._cons === "inputUserSelf") return me;
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

  /** Pushes an update to every live session of a user that takes updates, on every DC. */
  const pushToUser = (userId: number, update: TlObject, exceptSession?: unknown) => {
    for (const dc of allDcs()) {
      for (const session of dc.sessions.values()) {
        if (session.key.userId !== userId || session === exceptSession || !session.wantsUpdates) {
          continue;
        }
        session.push(dc.codec.encode(update));
      }
    }
  };

  const handlers: Record<string, Handler> = {
    "help.getConfig": (_call, context) => ({
      _cons: "config",
      date: now(context),
      expires: now(context) + 3600,
      test_mode: false,
      this_dc: context.dc.dcId,
      dc_options: dcs().map((dc) => ({
        _cons: "dcOption",
        id: dc.id,
        ip_address: "127.0.0.1",
        port: dc.port,
      })),
      dc_txt_domain_name: "emulator.invalid",
      chat_size_max: 200,
      megagroup_size_max: 200000,
      forwarded_count_max: 100,
      online_update_period_ms: 210000,
      offline_blur_timeout_ms: 5000,
      offline_idle_timeout_ms: 30000,
      online_cloud_timeout_ms: 300000,
      notify_cloud_delay_ms: 30000,
      notify_default_delay_ms: 1500,
      push_chat_period_ms: 60000,
      push_chat_limit: 2,
      edit_time_limit: 172800,
      revoke_time_limit: 2147483647,
      revoke_pm_time_limit: 2147483647,
      rating_e_decay: 2419200,
      stickers_recent_limit: 200,
      channels_read_media_period: 604800,
      call_receive_timeout_ms: 20000,
      call_ring_timeout_ms: 90000,
      call_connect_timeout_ms: 30000,
      call_packet_timeout_ms: 10000,
      me_url_prefix: "https://t.me/",
      caption_length_max: 1024,
      message_length_max: 4096,
      webfile_dc_id: context.dc.dcId,
    }),

    "help.getNearestDc": (_call, context) => ({
      _cons: "nearestDc",
      country: "US",
      this_dc: context.dc.dcId,
      nearest_dc: context.dc.dcId,
    }),

    "auth.sendCode": (call, context) => {
      const phone = String(call.phone_number).replace(/\D/g, "");
      if (!phone) throw new RpcError(400, "PHONE_NUMBER_INVALID");
      const user = world.userByPhone(phone);
      const home = user?.homeDc ?? world.options.homeDc ?? 2;
      if (home !== context.dc.dcId) throw new RpcError(303, `PHONE_MIGRATE_${home}`);
      const phoneCodeHash = bigintFromBytes(context.dc.random(8)).toString(16);
      world.signIns.set(keyId(context), { phone, phoneCodeHash });
      log(`dc${context.dc.dcId}: login code for +${phone}: ${LOGIN_CODE}`);
      return {
        _cons: "auth.sentCode",
        type: { _cons: "auth.sentCodeTypeApp", length: LOGIN_CODE.length },
        phone_code_hash: phoneCodeHash,
        timeout: 120,
      };
    },

    "auth.signIn": (call, context) => {
      const pending = world.signIns.get(keyId(context));
      const phone = String(call.phone_number).replace(/\D/g, "");
      if (!pending || pending.phone !== phone || pending.phoneCodeHash !== call.phone_code_hash) {
        throw new RpcError(400, "PHONE_CODE_EXPIRED");
      }
      if (call.phone_code !== LOGIN_CODE) throw new RpcError(400, "PHONE_CODE_INVALID");
      const user = world.userByPhone(phone);
      if (!user) return { _cons: "auth.authorizationSignUpRequired" };
      if (user.password) {
        pending.passwordOk = false;
        throw new RpcError(401, "SESSION_PASSWORD_NEEDED");
      }
      return signedIn(context, user);
    },

    "auth.signUp": (call, context) => {
      const pending = world.signIns.get(keyId(context));
      const phone = String(call.phone_number).replace(/\D/g, "");
      if (!pending || pending.phone !== phone || pending.phoneCodeHash !== call.phone_code_hash) {
        throw new RpcError(400, "PHONE_CODE_EXPIRED");
      }
      if (world.userByPhone(phone)) throw new RpcError(400, "PHONE_NUMBER_OCCUPIED");
      const first = String(call.first_name).trim();
      if (!first) throw new RpcError(400, "FIRSTNAME_INVALID");
      return signedIn(
        context,
        world.addUser(phone, first, String(call.last_name), context.dc.dcId),
      );
    },

    "account.getPassword": (_call, context) => {
      const pending = world.signIns.get(keyId(context));
      const user = context.key.userId !== undefined
        ? world.users.get(context.key.userId)
        : pending
        ? world.userByPhone(pending.phone)
        : undefined;
      if (!user) throw new RpcError(401, "AUTH_KEY_UNREGISTERED");
      const newAlgo = {
        _cons: "passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow",
        salt1: context.dc.random(8),
        salt2: context.dc.random(16),
        g: 3,
        p: user.password?.algorithm.p ?? new Uint8Array(256),
      };
      const base = {
        _cons: "account.password",
        new_algo: newAlgo,
        new_secure_algo: { _cons: "securePasswordKdfAlgoSHA512", salt: context.dc.random(8) },
        secure_random: context.dc.random(32),
      };
      if (!user.password) return base;
      const challenge = srpServerChallenge(
        user.password.verifier,
        user.password.algorithm,
        context.dc.random,
      );
      const srpId = nextSrpId++;
      challenges.set(srpId, { userId: user.id, challenge });
      const algorithm = user.password.algorithm;
      return {
        ...base,
        has_password: true,
        current_algo: {
          ...newAlgo,
          salt1: algorithm.salt1,
          salt2: algorithm.salt2,
          g: algorithm.g,
          p: algorithm.p,
        },
        srp_B: challenge.srpB,
        srp_id: srpId,
        hint: user.password.hint,
      };
    },

    "auth.checkPassword": (call, context) => {
      const input = call.password as TlObject;
      const entry = challenges.get(input.srp_id as bigint);
      const user = entry && world.users.get(entry.userId);
      if (!entry || !user?.password) throw new RpcError(400, "SRP_ID_INVALID");
      challenges.delete(input.srp_id as bigint);
      const ok = srpServerVerify(
        user.password.verifier,
        user.password.algorithm,
        entry.challenge,
        input.A as Uint8Array,
        input.M1 as Uint8Array,
      );
      if (!ok) throw new RpcError(400, "PASSWORD_HASH_INVALID");
      return signedIn(context, user);
    },

    "auth.exportAuthorization": (call, context) => {
      const me = viewer(context);
      const dcId = call.dc_id as number;
      if (!dcs().some((dc) => dc.id === dcId)) throw new RpcError(400, "DC_ID_INVALID");
      const id = bigintFromBytes(context.dc.random(7));
      const bytes = context.dc.random(32);
      world.exported.set(id, { userId: me.id, bytes });
      return { _cons: "auth.exportedAuthorization", id, bytes };
    },

    "auth.importAuthorization": (call, context) => {
      const entry = world.exported.get(call.id as bigint);
      if (!entry || entry.bytes.toHex() !== (call.bytes as Uint8Array).toHex()) {
        throw new RpcError(400, "AUTH_BYTES_INVALID");
      }
      world.exported.delete(call.id as bigint);
      return signedIn(context, world.users.get(entry.userId)!);
    },

    "auth.logOut": (_call, context) => {
      viewer(context);
      context.key.userId = undefined;
      return { _cons: "auth.loggedOut" };
    },

    "users.getUsers": (call, context) => {
      const me = viewer(context);
      return (call.id as unknown[]).flatMap((input) => {
        const user = inputUser(input, me);
        return user ? [userObject(user, me.id)] : [];
      });
    },

    "users.getFullUser": (call, context) => {
      const me = viewer(context);
      const user = inputUser(call.id, me);
      if (!user) throw new RpcError(400, "USER_ID_INVALID");
      return {
        _cons: "users.userFull",
        full_user: {
          _cons: "userFull",
          id: user.id,
          about: `${user.firstName} lives in the mtproto2json emulator.`,
          settings: { _cons: "peerSettings" },
          notify_settings: { _cons: "peerNotifySettings" },
          common_chats_count: 2,
        },
        chats: [],
        users: [userObject(user, me.id)],
      };
    },

    "contacts.resolveUsername": (call, context) => {
      const me = viewer(context);
      const name = String(call.username).replace(/^@/, "").toLowerCase();
      const user = [...world.users.values()].find((candidate) => candidate.username === name);
      if (user) {
        return {
          _cons: "contacts.resolvedPeer",
          peer: { _cons: "peerUser", user_id: user.id },
          chats: [],
          users: [userObject(user, me.id)],
        };
      }
      const chat = [...world.chats.values()].find((candidate) => candidate.username === name);
      if (chat) {
        return {
          _cons: "contacts.resolvedPeer",
          peer: { _cons: "peerChannel", channel_id: chat.id },
          chats: [chatObject(chat)],
          users: [],
        };
      }
      throw new RpcError(400, "USERNAME_NOT_OCCUPIED");
    },

    "messages.getDialogs": (call, context) => {
      const me = viewer(context);
      const all = world.dialogs(me.id);
      // Pages continue after the previous page's last dialog: its top message's date and id, and
      // its peer, as clients send them; dialogs are newest first.
      const offsetDate = Number(call.offset_date) || 0;
      const offsetId = Number(call.offset_id) || 0;
      const offsetPeer = (call.offset_peer as TlObject | undefined)?._cons === "inputPeerEmpty"
        ? undefined
        : resolvePeer(call.offset_peer, me);
      const after = all.filter(({ peer, top }) =>
        (offsetDate === 0 ||
          top.date < offsetDate || (top.date === offsetDate && top.id < offsetId)) &&
        (offsetDate !== 0 || offsetId === 0 || top.id < offsetId) &&
        !(offsetPeer && peer.type === offsetPeer.type && peer.id === offsetPeer.id)
      );
      const dialogs = after.slice(0, Math.min(100, Math.max(0, call.limit as number) || 100));
      const messages = dialogs.map((dialog) => dialog.top);
      return {
        // The whole list fits: messages.dialogs; a page of it: messages.dialogsSlice with the total.
        ...(dialogs.length === all.length
          ? { _cons: "messages.dialogs" }
          : { _cons: "messages.dialogsSlice", count: all.length }),
        dialogs: dialogs.map(dialogObject),
        messages: messages.map((message) => messageObject(message, me.id)),
        ...related(messages, me, dialogs.map((dialog) => dialog.peer)),
      };
    },

    // The dialogs of the peers asked for, as a client refreshes some rows of its chat list.
    "messages.getPeerDialogs": (call, context) => {
      const me = viewer(context);
      const wanted = (call.peers as TlObject[]).map((item) => resolvePeer(item.peer, me));
      const dialogs = world.dialogs(me.id).filter((dialog) =>
        wanted.some((peer) => peer.type === dialog.peer.type && peer.id === dialog.peer.id)
      );
      const messages = dialogs.map((dialog) => dialog.top);
      return {
        _cons: "messages.peerDialogs",
        dialogs: dialogs.map(dialogObject),
        messages: messages.map((message) => messageObject(message, me.id)),
        ...related(messages, me, wanted),
        state: updatesState(me, context),
      };
    },

    // A group's profile: its members (the first one created it), no photo, default settings.
    "messages.getFullChat": (call, context) => {
      const me = viewer(context);
      const chat = world.chats.get(Number(call.chat_id));
      if (!chat || chat.kind !== "group" || !chat.members.includes(me.id)) {
        throw new RpcError(400, "CHAT_ID_INVALID");
      }
      const [creator, ...others] = chat.members;
      return {
        _cons: "messages.chatFull",
        full_chat: {
          _cons: "chatFull",
          id: chat.id,
          about: "",
          participants: {
            _cons: "chatParticipants",
            chat_id: chat.id,
            participants: [
              { _cons: "chatParticipantCreator", user_id: creator },
              ...others.map((id) => ({
                _cons: "chatParticipant",
                user_id: id,
                inviter_id: creator,
                date: chat.date,
              })),
            ],
            version: 1,
          },
          notify_settings: { _cons: "peerNotifySettings" },
        },
        chats: [chatObject(chat)],
        users: chat.members.map((id) => userObject(world.users.get(id)!, me.id)),
      };
    },

    // A channel's profile, with its member count and where the viewer has read to.
    "channels.getFullChannel": (call, context) => {
      const me = viewer(context);
      const chat = inputChannel(call.channel, me);
      const top = world.history(me.id, { type: "channel", id: chat.id })[0];
      return {
        _cons: "messages.chatFull",
        full_chat: {
          _cons: "channelFull",
          id: chat.id,
          about: "",
          participants_count: chat.members.length,
          read_inbox_max_id: top?.id ?? 0,
          read_outbox_max_id: top?.id ?? 0,
          unread_count: 0,
          chat_photo: { _cons: "photoEmpty", id: 0 },
          notify_settings: { _cons: "peerNotifySettings" },
          bot_info: [],
          pts: chat.pts,
        },
        chats: [chatObject(chat)],
        users: [],
      };
    },

    // A channel's messages by id; an id it does not have is messageEmpty.
    "channels.getMessages": (call, context) => {
      const me = viewer(context);
      const chat = inputChannel(call.channel, me);
      const history = world.history(me.id, { type: "channel", id: chat.id });
      const found: WorldMessage[] = [];
      const messages = (call.id as TlObject[]).map((input) => {
        const id = input._cons === "inputMessageID" ? input.id as number : 0;
        const message = history.find((candidate) => candidate.id === id);
        if (!message) return { _cons: "messageEmpty", id };
        found.push(message);
        return messageObject(message, me.id);
      });
      return {
        _cons: "messages.channelMessages",
        pts: chat.pts,
        count: history.length,
        messages,
        topics: [],
        ...related(found, me, [{ type: "channel", id: chat.id }]),
      };
    },

    // Private and group messages by id; an id the viewer cannot see is messageEmpty.
    "messages.getMessages": (call, context) => {
      const me = viewer(context);
      const visible = (message: WorldMessage) =>
        message.peer.type === "user"
          ? message.fromId === me.id || message.peer.id === me.id
          : message.peer.type === "chat" &&
            world.chats.get(message.peer.id)!.members.includes(me.id);
      const found: WorldMessage[] = [];
      const messages = (call.id as TlObject[]).map((input) => {
        const id = input._cons === "inputMessageID" ? input.id as number : 0;
        const message = world.messages.find((candidate) =>
          candidate.id === id && candidate.peer.type !== "channel" && visible(candidate)
        );
        if (!message) return { _cons: "messageEmpty", id };
        found.push(message);
        return messageObject(message, me.id);
      });
      return { _cons: "messages.messages", messages, topics: [], ...related(found, me) };
    },

    "messages.getHistory": (call, context) => {
      const me = viewer(context);
      const peer = resolvePeer(call.peer, me);
      const all = world.history(me.id, peer);
      const offsetId = call.offset_id as number;
      const limit = Math.min(100, Math.max(1, (call.limit as number) || 20));
      const start = offsetId > 0 ? all.findIndex((message) => message.id < offsetId) : 0;
      const page = start < 0
        ? []
        : all.slice(start + Math.max(0, call.add_offset as number), start + limit);
      const base = {
        messages: page.map((message) => messageObject(message, me.id)),
        topics: [],
        ...related(page, me, [peer]),
      };
      if (peer.type === "channel") {
        return {
          _cons: "messages.channelMessages",
          pts: world.chats.get(peer.id)!.pts,
          count: all.length,
          ...base,
        };
      }
      return { _cons: "messages.messages", ...base };
    },

    "messages.sendMessage": (call, context) => {
      const me = viewer(context);
      const peer = resolvePeer(call.peer, me);
      const text = String(call.message);
      if (text.length === 0) throw new RpcError(400, "MESSAGE_EMPTY");
      if (text.length > 4096) throw new RpcError(400, "MESSAGE_TOO_LONG");
      const message = world.addMessage(me.id, peer, text, now(context));
      const recipients = peer.type === "user" ? [peer.id] : world.chats.get(peer.id)!.members;
      for (const recipient of new Set(recipients)) {
        if (recipient === me.id) continue;
        if (peer.type === "user") {
          pushToUser(recipient, {
            _cons: "updateShortMessage",
            id: message.id,
            user_id: me.id,
            message: text,
            pts: message.pts.get(recipient)!,
            pts_count: 1,
            date: message.date,
          });
        } else {
          pushToUser(recipient, {
            _cons: "updates",
            updates: [newMessageUpdate(message, recipient)],
            ...related([message], world.users.get(recipient)!),
            date: message.date,
            seq: 0,
          });
        }
      }
      if (peer.type === "channel") {
        return {
          _cons: "updates",
          updates: [
            { _cons: "updateMessageID", id: message.id, random_id: call.random_id },
            newMessageUpdate(message, me.id),
          ],
          ...related([message], me),
          date: message.date,
          seq: 0,
        };
      }
      return {
        _cons: "updateShortSentMessage",
        out: true,
        id: message.id,
        pts: message.pts.get(me.id)!,
        pts_count: 1,
        date: message.date,
      };
    },

    "updates.getState": (_call, context) => updatesState(viewer(context), context),

    "updates.getDifference": (call, context) => {
      const me = viewer(context);
      const since = call.pts as number;
      const fresh = world.messages.filter((message) =>
        message.peer.type !== "channel" && (message.pts.get(me.id) ?? 0) > since
      );
      if (fresh.length === 0) {
        return { _cons: "updates.differenceEmpty", date: now(context), seq: 0 };
      }
      return {
        _cons: "updates.difference",
        new_messages: fresh.map((message) => messageObject(message, me.id)),
        new_encrypted_messages: [],
        other_updates: [],
        ...related(fresh, me),
        state: updatesState(me, context),
      };
    },

    "upload.getFile": (call, context) => {
      viewer(context);
      const location = call.location as TlObject;
      const file = world.files.get(location.id as bigint);
      if (!file || file.accessHash !== location.access_hash) {
        throw new RpcError(400, "LOCATION_INVALID");
      }
      if (file.dcId !== context.dc.dcId) throw new RpcError(303, `FILE_MIGRATE_${file.dcId}`);
      const offset = Number(call.offset);
      const limit = call.limit as number;
      if (offset % 1024 !== 0) throw new RpcError(400, "OFFSET_INVALID");
      if (limit <= 0 || limit > 1048576 || limit % 1024 !== 0) {
        throw new RpcError(400, "LIMIT_INVALID");
      }
      return {
        _cons: "upload.file",
        type: { _cons: "storage.filePartial" },
        mtime: world.options.epoch ?? 1_700_000_000,
        bytes: file.bytes.subarray(offset, offset + limit),
      };
    },
  };

  function dialogObject(dialog: { peer: WorldPeer; top: WorldMessage }): TlObject {
    return {
      _cons: "dialog",
      peer: peerObject(dialog.peer),
      top_message: dialog.top.id,
      read_inbox_max_id: dialog.top.id,
      read_outbox_max_id: dialog.top.id,
      unread_count: 0,
      unread_mentions_count: 0,
      unread_reactions_count: 0,
      notify_settings: { _cons: "peerNotifySettings" },
      ...(dialog.peer.type === "channel" ? { pts: world.chats.get(dialog.peer.id)!.pts } : {}),
    };
  }

  const updatesState = (me: WorldUser, context: CallContext) => ({
    _cons: "updates.state",
    pts: me.pts,
    qts: 0,
    date: now(context),
    seq: 0,
    unread_count: 0,
  });

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

  Object.assign(handlers, startupMethods({ world, viewer, now, userObject, updatesState }));

  return (call, context) => {
    const flood = world.options.floodWait;
    if (flood && flood.method === call._cons && world.floodCalls++ < (flood.times ?? Infinity)) {
      throw new RpcError(420, `FLOOD_WAIT_${flood.seconds}`);
    }
    const handler = handlers[call._cons];
    if (!handler) throw new RpcError(400, "METHOD_NOT_IMPLEMENTED_IN_EMULATOR");
    if (!NO_ACCOUNT_NEEDED.has(call._cons)) viewer(context);
    return handler(call, context);
  };
}

/** A user as `viewer` sees it. */
export function userObject(user: WorldUser, viewer: number): TlObject {
  return {
    _cons: "user",
    ...(user.id === viewer ? { self: true } : { contact: true, mutual_contact: true }),
    id: user.id,
    access_hash: user.accessHash,
    first_name: user.firstName,
    last_name: user.lastName,
    ...(user.username ? { username: user.username } : {}),
    phone: user.phone,
    status: { _cons: "userStatusRecently" },
  };
}

/** A group or channel. */
export function chatObject(chat: WorldChat): TlObject {
  if (chat.kind === "group") {
    return {
      _cons: "chat",
      id: chat.id,
      title: chat.title,
      photo: { _cons: "chatPhotoEmpty" },
      participants_count: chat.members.length,
      date: chat.date,
      version: 1,
    };
  }
  return {
    _cons: "channel",
    broadcast: true,
    id: chat.id,
    access_hash: chat.accessHash,
    title: chat.title,
    ...(chat.username ? { username: chat.username } : {}),
    photo: { _cons: "chatPhotoEmpty" },
    date: chat.date,
    participants_count: chat.members.length,
  };
}

function peerObject(peer: WorldPeer): TlObject {
  if (peer.type === "user") return { _cons: "peerUser", user_id: peer.id };
  if (peer.type === "chat") return { _cons: "peerChat", chat_id: peer.id };
  return { _cons: "peerChannel", channel_id: peer.id };
}

/** A message as `viewer` sees it: peer_id is the other side of a private conversation. */
export function messageObject(message: WorldMessage, viewer: number): TlObject {
  const peer: WorldPeer = message.peer.type === "user"
    ? { type: "user", id: message.fromId === viewer ? message.peer.id : message.fromId }
    : message.peer;
  return {
    _cons: "message",
    ...(message.fromId === viewer ? { out: true } : {}),
    id: message.id,
    ...(message.peer.type === "channel"
      ? { post: true }
      : { from_id: { _cons: "peerUser", user_id: message.fromId } }),
    peer_id: peerObject(peer),
    date: message.date,
    message: message.text,
  };
}
