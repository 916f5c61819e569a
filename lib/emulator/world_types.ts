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

/** A file's bytes, read a part at a time: generated, in memory, or in a temporary file. */
export interface FileContent {
  readonly size: number;
  /**
   * The bytes from `offset` on, at most `length` of them: fewer at the end of the file, none past
   * it. Written into `into` when it is long enough (the serving path reuses one buffer).
   */
  read(offset: number, length: number, into?: Uint8Array): Uint8Array;
  /**
   * Parts worth trying gzip on (the default world's small patterned file); others, generated or
   * uploaded, go uncompressed: trying costs more than sending a megabyte that does not shrink.
   */
  compressible?: boolean;
}

/** One size of a photo (its letter, as in photoSize.type), with content of its own. */
export interface WorldPhotoSize extends FileContent {
  type: string;
  w: number;
  h: number;
  /**
   * A progressive JPEG (rendered `photoSizeProgressive`): the byte counts at which each scan
   * ends, rising, the last one the size's whole length.
   */
  progressive?: number[];
}

/** A stored file for upload.getFile: its size and bytes are its {@link FileContent}. */
export interface WorldFile extends FileContent {
  id: bigint;
  accessHash: bigint;
  dcId: number;
  /**
   * For photos sent as media: the image's size in pixels, and its sizes when it has several
   * (thumbnails first, the largest last); without `sizes` the file itself is the one size.
   */
  photo?: { width: number; height: number; sizes?: WorldPhotoSize[] };
  /** For documents sent as media: the name, type and upload time. */
  name?: string;
  mimeType?: string;
  date?: number;
  /** Served through the CDN DC to clients that say they can (upload.fileCdnRedirect). */
  cdn?: boolean;
  /** A fresh file_reference, stamped with the time it is handed out (set by the world). */
  reference?: () => Uint8Array;
}

/**
 * A generated file the world starts with (world option `files`, flags `--file`/`--photo`): its
 * content is `generatedFileBytes` (files/generated_bytes.ts) of its id (a photo: of each size's
 * seed), and Bob sends it to Alice in a message of its own, whose text is `file <id>`.
 */
export interface GeneratedFileSpec {
  /** The document's or photo's id (a string or number in JSON). */
  id: bigint | number | string;
  /** Bytes (a photo: of its largest size). */
  size: number;
  /** The DC that holds it (default: `filesDc`, else 2). */
  dc?: number;
  kind?: "document" | "photo";
  /** A photo whose largest size is a progressive JPEG (`photoSizeProgressive`). */
  progressive?: boolean;
  /** Served through the CDN DC (see {@link WorldOptions.cdnAll}). */
  cdn?: boolean;
  name?: string;
  mimeType?: string;
}

/** Fault switches of the world (see the README's emulator section). */
export interface WorldOptions {
  /**
   * More accounts besides Alice and Bob: phones +15551000001, +15551000002, … in order (at most
   * 9999), login code 12345, no 2FA password; like everyone in the world, contacts of Alice's.
   */
  users?: number;
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
  /** Generated files of any size, each in a message from Bob to Alice. */
  files?: GeneratedFileSpec[];
  /** Every generated file is served through the CDN DC. */
  cdnAll?: boolean;
  /** File references older than this answer FILE_REFERENCE_EXPIRED (unset: never checked). */
  fileRefTtlSeconds?: number;
  /**
   * More file requests than this in flight on one auth key: the extra ones answer
   * FLOOD_WAIT_<fileFloodSeconds> (default 1).
   */
  fileFlood?: number;
  fileFloodSeconds?: number;
  /** File requests are answered this many milliseconds late, on the DC's clock. */
  fileLatencyMs?: number;
  /** CDN file tokens older than this answer FILE_TOKEN_INVALID (unset: they never expire). */
  cdnTokenTtlSeconds?: number;
  /**
   * Fault: upload.getFile answers every file with the byte at this offset flipped, while
   * upload.getFileHashes still hashes the true bytes (a server that stored other bytes).
   */
  fileCorruptOffset?: number;
}
