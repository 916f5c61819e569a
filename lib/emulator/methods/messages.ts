/**
 * `messages.*` and `channels.*`: history, messages by id, full chat profiles, and sending (with
 * the updates it pushes). The chat list is in `dialogs.ts`.
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import type { TlObject } from "../../tl/codec.ts";
import type { WorldMessage, WorldPeer, WorldUser } from "../world.ts";
import { chatObject, messageObject, userObject } from "../render.ts";
import type { Handler, Tools } from "./tools.ts";
import { imageSize } from "../image_size.ts";

/** How much of an uploaded photo is read for its size in pixels (a JPEG's SOF comes early). */
const IMAGE_HEADER_BYTES = 64 * 1024;

/** The handlers of this namespace, by method name. */
export function messageMethods(tools: Tools): Record<string, Handler> {
  const {
    world,
    now,
    viewer,
    resolvePeer,
    inputChannel,
    related,
    pushToUser,
    newMessageUpdate,
  } = tools;

  /**
   * Pushes a new message to every other member of its conversation: a private text as the short
   * updateShortMessage, anything else as updates with the whole message.
   */
  const deliver = (message: WorldMessage, me: WorldUser, session: unknown) => {
    const peer = message.peer;
    const recipients = peer.type === "user" ? [peer.id] : world.chats.get(peer.id)!.members;
    // The sender's other sessions see the message too, as on Telegram.
    pushToUser(me.id, {
      _cons: "updates",
      updates: [newMessageUpdate(message, me.id)],
      ...related([message], me),
      date: message.date,
      seq: 0,
    }, session);
    for (const recipient of new Set(recipients)) {
      if (recipient === me.id) continue;
      if (peer.type === "user" && !message.media && !message.forwardedFrom) {
        pushToUser(recipient, {
          _cons: "updateShortMessage",
          id: message.id,
          user_id: me.id,
          message: message.text,
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
  };

  /** The sender's answer when the short form cannot carry the message. */
  const sentUpdates = (message: WorldMessage, me: WorldUser, randomId: unknown) => ({
    _cons: "updates",
    updates: [
      { _cons: "updateMessageID", id: message.id, random_id: randomId },
      newMessageUpdate(message, me.id),
    ],
    ...related([message], me),
    date: message.date,
    seq: 0,
  });

  return {
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
          candidate.id === id && candidate.peer.type !== "channel" && !candidate.deleted &&
          visible(candidate)
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

    // A document or photo uploaded with upload.saveFilePart, sent as a message (other media:
    // not yet).
    "messages.sendMedia": (call, context) => {
      const me = viewer(context);
      const peer = resolvePeer(call.peer, me);
      const media = call.media as TlObject;
      if (
        media._cons !== "inputMediaUploadedDocument" && media._cons !== "inputMediaUploadedPhoto"
      ) {
        throw new RpcError(400, "MEDIA_TYPE_NOT_IMPLEMENTED_IN_EMULATOR");
      }
      const input = media.file as TlObject;
      if (input._cons !== "inputFile" && input._cons !== "inputFileBig") {
        throw new RpcError(400, "FILE_PARTS_INVALID");
      }
      // The upload's temporary file becomes the file's content: nothing is copied to memory.
      const content = world.fileService.uploads.complete(me.id, {
        _cons: input._cons,
        id: input.id as bigint,
        parts: input.parts as number,
        md5_checksum: input.md5_checksum as string | undefined,
      });
      const photo = media._cons === "inputMediaUploadedPhoto"
        ? imageSize(content.read(0, IMAGE_HEADER_BYTES))
        : undefined;
      if (media._cons === "inputMediaUploadedPhoto" && !photo) {
        throw new RpcError(400, "IMAGE_PROCESS_FAILED");
      }
      const named = ((media.attributes ?? []) as TlObject[]).find((attribute) =>
        attribute._cons === "documentAttributeFilename"
      );
      const id = world.nextFileId();
      const file = world.addFile({
        id,
        accessHash: BigInt.asIntN(64, (id - 9_000_000n) * 0x9e3779b97f4a7c15n),
        dcId: context.dc.dcId,
        ...content,
        date: now(context),
        ...(photo ? { photo } : {
          name: String(named?.file_name ?? input.name ?? "file"),
          mimeType: String(media.mime_type),
        }),
      });
      const message = world.addMessage(me.id, peer, String(call.message), now(context), file);
      deliver(message, me, context.session);
      return sentUpdates(message, me, call.random_id);
    },

    // Copies of messages the viewer can see, naming who wrote the original and when.
    "messages.forwardMessages": (call, context) => {
      const me = viewer(context);
      const from = resolvePeer(call.from_peer, me);
      const to = resolvePeer(call.to_peer, me);
      const ids = call.id as number[];
      const randomIds = call.random_id as unknown[];
      if (ids.length === 0 || ids.length !== randomIds.length) {
        throw new RpcError(400, "RANDOM_ID_INVALID");
      }
      const history = world.history(me.id, from);
      const copies = ids.map((id) => {
        const original = history.find((message) => message.id === id);
        if (!original) throw new RpcError(400, "MESSAGE_ID_INVALID");
        // A forward of a forward still names the first author.
        const author: WorldPeer = original.peer.type === "channel"
          ? original.peer
          : { type: "user", id: original.fromId };
        const forwardedFrom = original.forwardedFrom ?? { peer: author, date: original.date };
        return world.addMessage(
          me.id,
          to,
          original.text,
          now(context),
          original.media,
          forwardedFrom,
        );
      });
      for (const copy of copies) deliver(copy, me, context.session);
      return {
        _cons: "updates",
        updates: copies.flatMap((copy, index) => [
          { _cons: "updateMessageID", id: copy.id, random_id: randomIds[index] },
          newMessageUpdate(copy, me.id),
        ]),
        ...related(copies, me, copies.map((copy) => copy.forwardedFrom!.peer)),
        date: now(context),
        seq: 0,
      };
    },

    "messages.sendMessage": (call, context) => {
      const me = viewer(context);
      const peer = resolvePeer(call.peer, me);
      const text = String(call.message);
      if (text.length === 0) throw new RpcError(400, "MESSAGE_EMPTY");
      if (text.length > 4096) throw new RpcError(400, "MESSAGE_TOO_LONG");
      const message = world.addMessage(me.id, peer, text, now(context));
      deliver(message, me, context.session);
      if (peer.type === "channel") return sentUpdates(message, me, call.random_id);
      return {
        _cons: "updateShortSentMessage",
        out: true,
        id: message.id,
        pts: message.pts.get(me.id)!,
        pts_count: 1,
        date: message.date,
      };
    },
  };
}
