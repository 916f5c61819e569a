/**
 * The shapes of the emulator's world: its users, chats, messages, box events, files and fault
 * switches.
 *
 * @module
 */

import type { SrpAlgorithm } from "../crypto/srp.ts";

/** A user of the emulated world. */
export interface WorldUser {
  id: number;
  accessHash: bigint;
  phone: string;
  firstName: string;
  lastName: string;
  username?: string;
  /** The DC the account lives on: sign-in elsewhere gets PHONE_MIGRATE_X. */
  homeDc: number;
  password?: { algorithm: SrpAlgorithm; verifier: bigint; hint: string };
  /** Update sequence of the user's message box. */
  pts: number;
  /** Sequence number of the `updates` containers pushed to the user. */
  seq?: number;
  /**
   * Presence from account.updateStatus: online until `until`, or offline since it (unix
   * seconds). Unset: "recently", as Telegram shows a user who never said.
   */
  status?: { online: boolean; until: number };
}

/** A basic group or a channel. */
export interface WorldChat {
  id: number;
  kind: "group" | "channel";
  accessHash: bigint;
  title: string;
  username?: string;
  members: number[];
  date: number;
  /** The channel's own update sequence. */
  pts: number;
}

/** Where a message lives. */
export type WorldPeer = { type: "user"; id: number } | { type: "chat"; id: number } | {
  type: "channel";
  id: number;
};

/** One message; private and group messages share one id sequence, each channel has its own. */
export interface WorldMessage {
  id: number;
  fromId: number;
  /** For private messages: the recipient. */
  peer: WorldPeer;
  date: number;
  text: string;
  /** pts of the message in each participant's box (channels: in the channel). */
  pts: Map<number, number>;
  /** A document or photo sent with the message. */
  media?: WorldFile;
  /** For a forwarded copy: who wrote the original (a user, or the channel) and when. */
  forwardedFrom?: { peer: WorldPeer; date: number };
  /** Set by an edit: when. */
  editDate?: number;
  /** Set by a deletion: the message stays only for the journal. */
  deleted?: boolean;
  /** Pinned in its conversation. */
  pinned?: boolean;
  /** Reactions: each emoticon and who chose it. */
  reactions?: Map<string, Set<number>>;
}

/**
 * One change in a message box, as journaled for updates.getDifference and
 * updates.getChannelDifference: a user's common box (`userId`) or a channel's (`channelId`).
 */
export interface WorldBoxEvent {
  userId?: number;
  channelId?: number;
  /** The box's pts after the change, and how many events it counts for. */
  pts: number;
  ptsCount: number;
  date: number;
  kind: "new" | "edit" | "delete" | "read_inbox" | "read_outbox" | "pin" | "unpin" | "folders";
  /** new, edit: the message (as it is now). */
  message?: WorldMessage;
  /** delete, pin, unpin: the ids concerned. */
  messageIds?: number[];
  /** read_inbox, read_outbox: the conversation as `userId` sees it, and up to where. */
  peer?: WorldPeer;
  maxId?: number;
  /** read_inbox: incoming messages still unread after it. */
  stillUnread?: number;
  /** folders: the dialogs moved, each to its new folder (0: the main list, 1: the archive). */
  folderPeers?: { peer: WorldPeer; folderId: number }[];
}

/** A stored file for upload.getFile. */
export interface WorldFile {
  id: bigint;
  accessHash: bigint;
  dcId: number;
  bytes: Uint8Array;
  /** For photos sent as media: the image's size in pixels. */
  photo?: { width: number; height: number };
  /** For documents sent as media: the name, type and upload time. */
  name?: string;
  mimeType?: string;
  date?: number;
}

/** Fault switches of the world (see the README's emulator section). */
export interface WorldOptions {
  /** The DC every account lives on (default 2). */
  homeDc?: number;
  /** The DC files live on (default 2). */
  filesDc?: number;
  /** Answer this method with FLOOD_WAIT_<seconds>, the first `times` calls. */
  floodWait?: { method: string; seconds: number; times?: number };
  /** Start of the world's history, in unix seconds. */
  epoch?: number;
  /** Fault: every Nth update push is silently not sent (clients see a gap). */
  dropUpdatesEvery?: number;
  /** Fault: every Nth update push is replaced by updatesTooLong. */
  tooLongEvery?: number;
  /** updates.getDifference / getChannelDifference return at most this many events (100). */
  differenceLimit?: number;
  /** A difference further behind than this many events is "too long" (10000). */
  differenceTooLongAfter?: number;
}
