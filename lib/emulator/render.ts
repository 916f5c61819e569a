/**
 * How the world's users, chats and messages look as TL objects, in one place for every method.
 *
 * @module
 */

import type { TlObject } from "../tl/codec.ts";
import type { WorldChat, WorldFile, WorldMessage, WorldPeer, WorldUser } from "./world.ts";

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
    status: statusObject(user),
  };
}

/**
 * A user's UserStatus: online until a time, offline since one, or "recently" for a user who never
 * said (clients turn an online status into offline themselves once it expires).
 */
export function statusObject(user: WorldUser): TlObject {
  if (!user.status) return { _cons: "userStatusRecently" };
  return user.status.online
    ? { _cons: "userStatusOnline", expires: user.status.until }
    : { _cons: "userStatusOffline", was_online: user.status.until };
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

/** The TL Peer of a world peer. */
export function peerObject(peer: WorldPeer): TlObject {
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
    ...(message.forwardedFrom
      ? {
        fwd_from: {
          _cons: "messageFwdHeader",
          from_id: peerObject(message.forwardedFrom.peer),
          date: message.forwardedFrom.date,
        },
      }
      : {}),
    date: message.date,
    message: message.text,
    ...(message.editDate ? { edit_date: message.editDate } : {}),
    ...(message.pinned ? { pinned: true } : {}),
    ...(message.reactions?.size ? { reactions: reactionsObject(message, viewer) } : {}),
    ...(message.media ? { media: mediaObject(message.media) } : {}),
  };
}

/** A message's reactions as `messageReactions`, marking the viewer's own choice. */
export function reactionsObject(message: WorldMessage, viewer: number): TlObject {
  return {
    _cons: "messageReactions",
    results: [...message.reactions!].map(([emoticon, users], index) => ({
      _cons: "reactionCount",
      ...(users.has(viewer) ? { chosen_order: index } : {}),
      reaction: { _cons: "reactionEmoji", emoticon },
      count: users.size,
    })),
  };
}

/** A stored file as the MessageMedia of a message: a photo, or else a document. */
export function mediaObject(file: WorldFile): TlObject {
  if (!file.photo) return { _cons: "messageMediaDocument", document: documentObject(file) };
  // An uploaded photo has one size, the original: "y" is Telegram's letter for up to 1280 px,
  // "w" beyond. A generated one has its thumbnails too, each with content of its own.
  const sizes = file.photo.sizes ?? [{
    type: Math.max(file.photo.width, file.photo.height) > 1280 ? "w" : "y",
    w: file.photo.width,
    h: file.photo.height,
    size: file.size,
  }];
  return {
    _cons: "messageMediaPhoto",
    photo: {
      _cons: "photo",
      id: file.id,
      access_hash: file.accessHash,
      file_reference: fileReference(file),
      date: file.date ?? 0,
      sizes: sizes.map((size) =>
        "progressive" in size && size.progressive
          ? {
            _cons: "photoSizeProgressive",
            type: size.type,
            w: size.w,
            h: size.h,
            sizes: size.progressive,
          }
          : { _cons: "photoSize", type: size.type, w: size.w, h: size.h, size: size.size }
      ),
      dc_id: file.dcId,
    },
  };
}

/** A stored file as the Document a message carries. */
export function documentObject(file: WorldFile): TlObject {
  return {
    _cons: "document",
    id: file.id,
    access_hash: file.accessHash,
    file_reference: fileReference(file),
    date: file.date ?? 0,
    mime_type: file.mimeType ?? "application/octet-stream",
    size: file.size,
    dc_id: file.dcId,
    attributes: file.name ? [{ _cons: "documentAttributeFilename", file_name: file.name }] : [],
  };
}

/** A fresh file reference, stamped now: every message fetched again carries a new one. */
function fileReference(file: WorldFile): Uint8Array {
  return file.reference?.() ?? new Uint8Array(0);
}
