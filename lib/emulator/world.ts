/**
 * The emulator's in-memory world: users, chats, a channel, their history, login codes and files.
 * It is deterministic by default — the same users, ids and messages every start — so tests and
 * demos can rely on them. This is a test double of Telegram, not Telegram.
 *
 * @module
 */

import { type Clock, systemClock } from "../io/clock.ts";
import { extraUserPhone, populateDefaultWorld } from "./world_default.ts";
import { Authorizations } from "./authorizations.ts";
import { FileService } from "./files/file_service.ts";
import { generatedFile } from "./files/generated_files.ts";
import type {
  WorldBoxEvent,
  WorldChat,
  WorldFile,
  WorldMessage,
  WorldOptions,
  WorldPeer,
  WorldUser,
} from "./world_types.ts";

export { ARCHIVE_FOLDER, SECOND_USER_PASSWORD } from "./world_default.ts";
export type * from "./world_types.ts";

/** The login code the emulator "sends" to every phone. */
export const LOGIN_CODE = "12345";

/** The whole world. */
export class World {
  readonly users = new Map<number, WorldUser>();
  readonly chats = new Map<number, WorldChat>();
  readonly messages: WorldMessage[] = [];
  /** Files by id; add them with {@link World.addFile}, which gives them their references. */
  readonly files = new Map<bigint, WorldFile>();
  /** Uploads in progress, file references, the pace of file requests, the CDN. */
  readonly fileService: FileService;
  /** Pending sign-ins by auth key id (hex). */
  readonly signIns = new Map<
    string,
    { phone: string; phoneCodeHash: string; passwordOk?: boolean }
  >();
  /** Exported authorizations: id → user, for auth.importAuthorization on another DC. */
  readonly exported = new Map<
    bigint,
    { userId: number; bytes: Uint8Array; authorization?: bigint }
  >();
  /** Every change of every box, in order (see {@link WorldBoxEvent}). */
  readonly boxEvents: WorldBoxEvent[] = [];
  /** How far each user has read each conversation: `${reader}:${peer type}:${peer id}` → id. */
  readonly #readUpTo = new Map<string, number>();
  /** The folder of each dialog not in the main list: `${viewer}:${peer type}:${peer id}` → id. */
  readonly #folders = new Map<string, number>();
  /** Every signed-in auth key, by account (account.getAuthorizations). */
  readonly authorizations = new Authorizations();
  #nextMessageId = 1;
  #nextUserId = 1000100;
  floodCalls = 0;
  /** Update pushes so far (for the fault switches). */
  pushes = 0;

  #nextFileId = 9_000_001n;

  private constructor(readonly options: WorldOptions, clock: Clock) {
    this.fileService = new FileService(options, clock);
  }

  /**
   * Builds the default world (the 2FA verifier takes a PBKDF2, hence async), with the generated
   * files of `options.files` each in a message from Bob to Alice. `clock` stamps file references.
   */
  static async create(options: WorldOptions = {}, clock: Clock = systemClock): Promise<World> {
    const world = new World(options, clock);
    await populateDefaultWorld(world, options);
    for (let index = 1; index <= (options.users ?? 0); index++) {
      world.addUser(extraUserPhone(index), "User", String(index), options.homeDc ?? 2);
    }
    const alice = world.userByPhone("15550000001")!, bob = world.userByPhone("15550000002")!;
    // After the default history (its last message is at minute 7).
    const start = (options.epoch ?? 1_700_000_000) + 8 * 60;
    for (const [index, spec] of (options.files ?? []).entries()) {
      const file = world.addFile(generatedFile(spec, options, start + index));
      world.addMessage(bob.id, { type: "user", id: alice.id }, `file ${file.id}`, file.date!, file);
    }
    return world;
  }

  /** Adds a file (its references stamped on the world's clock) and returns it. */
  addFile(file: WorldFile): WorldFile {
    this.files.set(file.id, this.fileService.stamp(file));
    return file;
  }

  /** An id no file has yet, for a file made from an upload. */
  nextFileId(): bigint {
    while (this.files.has(this.#nextFileId)) this.#nextFileId++;
    return this.#nextFileId++;
  }

  /** Adds a message and advances the pts of every box it lands in. */
  addMessage(
    fromId: number,
    peer: WorldPeer,
    text: string,
    date: number,
    media?: WorldFile,
    forwardedFrom?: { peer: WorldPeer; date: number },
  ): WorldMessage {
    const pts = new Map<number, number>();
    let id: number;
    if (peer.type === "channel") {
      const channel = this.chats.get(peer.id)!;
      id = this.messages.filter((m) => m.peer.type === "channel" && m.peer.id === peer.id).length +
        1;
      pts.set(0, channel.pts + 1);
    } else {
      id = this.#nextMessageId++;
      for (const member of this.membersOf(peer, fromId)) {
        pts.set(member, this.users.get(member)!.pts + 1);
      }
    }
    const message: WorldMessage = {
      id,
      fromId,
      peer,
      date,
      text,
      pts,
      ...(media ? { media } : {}),
      ...(forwardedFrom ? { forwardedFrom } : {}),
    };
    this.messages.push(message);
    this.journal(message.peer, fromId, date, { kind: "new", message });
    return message;
  }

  /** The users whose common box a conversation's changes land in (a channel: none). */
  membersOf(peer: WorldPeer, fromId: number): number[] {
    if (peer.type === "channel") return [];
    const members = peer.type === "user" ? [fromId, peer.id] : this.chats.get(peer.id)!.members;
    return [...new Set(members)].filter((member) => this.users.has(member));
  }

  /**
   * Records a change of the conversation `peer` (of which `actorId` is a member): one event in
   * the channel's box, or one in each member's common box, each advancing its pts by `count`.
   */
  journal(
    peer: WorldPeer,
    actorId: number,
    date: number,
    change: Omit<WorldBoxEvent, "pts" | "ptsCount" | "date" | "userId" | "channelId">,
    count = 1,
  ): WorldBoxEvent[] {
    const events: WorldBoxEvent[] = [];
    if (peer.type === "channel") {
      const channel = this.chats.get(peer.id)!;
      channel.pts += count;
      events.push({ channelId: channel.id, pts: channel.pts, ptsCount: count, date, ...change });
    } else {
      for (const member of this.membersOf(peer, actorId)) {
        const user = this.users.get(member)!;
        user.pts += count;
        events.push({ userId: member, pts: user.pts, ptsCount: count, date, ...change });
      }
    }
    this.boxEvents.push(...events);
    return events;
  }

  /** Creates a user for a phone number that signed up. */
  addUser(phone: string, firstName: string, lastName: string, homeDc: number): WorldUser {
    const user: WorldUser = {
      id: this.#nextUserId++,
      accessHash: BigInt(this.#nextUserId) * 7919n,
      phone,
      firstName,
      lastName,
      homeDc,
      pts: 0,
    };
    this.users.set(user.id, user);
    return user;
  }

  /** Finds a user by phone, ignoring formatting. */
  userByPhone(phone: string): WorldUser | undefined {
    const digits = phone.replace(/\D/g, "");
    for (const user of this.users.values()) if (user.phone === digits) return user;
    return undefined;
  }

  /** Messages a user can see in a conversation, newest first. */
  history(viewer: number, peer: WorldPeer): WorldMessage[] {
    return this.messages.filter((message) => {
      if (message.deleted) return false;
      if (peer.type === "user") {
        return message.peer.type === "user" &&
          ((message.fromId === viewer && message.peer.id === peer.id) ||
            (message.fromId === peer.id && message.peer.id === viewer));
      }
      return message.peer.type === peer.type && message.peer.id === peer.id;
    }).reverse();
  }

  /** The highest message id `reader` has read in the conversation `peer` (as they see it). */
  readUpTo(reader: number, peer: WorldPeer): number {
    return this.#readUpTo.get(`${reader}:${peer.type}:${peer.id}`) ?? 0;
  }

  /** Messages in `peer` that `reader` did not write and has not read yet. */
  unread(reader: number, peer: WorldPeer): WorldMessage[] {
    const upTo = this.readUpTo(reader, peer);
    return this.history(reader, peer).filter((message) =>
      message.fromId !== reader && message.id > upTo
    );
  }

  /**
   * Marks `peer` read by `reader` up to `maxId` (0: everything) and returns the messages it
   * newly marked read (none if it was read that far already). Private and group reads move the
   * reader's pts and each author's; a channel's read position moves nothing but itself.
   */
  markRead(reader: number, peer: WorldPeer, maxId: number): WorldMessage[] {
    const unread = this.unread(reader, peer).filter((message) => !maxId || message.id <= maxId);
    if (unread.length === 0) return [];
    const upTo = Math.max(...unread.map((message) => message.id));
    this.#readUpTo.set(`${reader}:${peer.type}:${peer.id}`, upTo);
    if (peer.type === "channel") return unread;
    const user = this.users.get(reader)!;
    const date = Math.max(...unread.map((message) => message.date));
    this.boxEvents.push({
      userId: reader,
      pts: ++user.pts,
      ptsCount: 1,
      date,
      kind: "read_inbox",
      peer,
      maxId: upTo,
      stillUnread: this.unread(reader, peer).length,
    });
    for (const authorId of new Set(unread.map((message) => message.fromId))) {
      const author = this.users.get(authorId);
      if (!author) continue;
      const authorUpTo = Math.max(
        ...unread.filter((message) => message.fromId === authorId).map((message) => message.id),
      );
      this.boxEvents.push({
        userId: authorId,
        pts: ++author.pts,
        ptsCount: 1,
        date,
        kind: "read_outbox",
        peer: peer.type === "user" ? { type: "user", id: reader } : peer,
        maxId: authorUpTo,
      });
    }
    return unread;
  }

  /** The folder `viewer` keeps the dialog with `peer` in: 0 (the main list) or 1 (the archive). */
  folderOf(viewer: number, peer: WorldPeer): number {
    return this.#folders.get(`${viewer}:${peer.type}:${peer.id}`) ?? 0;
  }

  /** Moves a dialog of `viewer` to a folder, without journaling (see {@link moveToFolder}). */
  setFolder(viewer: number, peer: WorldPeer, folderId: number): void {
    const key = `${viewer}:${peer.type}:${peer.id}`;
    if (folderId === 0) this.#folders.delete(key);
    else this.#folders.set(key, folderId);
  }

  /**
   * Moves dialogs of `viewer` between folders as folders.editPeerFolders does: one event in the
   * viewer's common box (updateFolderPeers carries a pts), whichever kind of peer moved.
   */
  moveToFolder(
    viewer: number,
    moves: { peer: WorldPeer; folderId: number }[],
    date: number,
  ): WorldBoxEvent {
    for (const move of moves) this.setFolder(viewer, move.peer, move.folderId);
    const user = this.users.get(viewer)!;
    const event: WorldBoxEvent = {
      userId: viewer,
      pts: ++user.pts,
      ptsCount: 1,
      date,
      kind: "folders",
      folderPeers: moves,
    };
    this.boxEvents.push(event);
    return event;
  }

  /**
   * The conversations of a user, each with its latest message, newest first; with `folderId`,
   * only those in that folder.
   */
  dialogs(viewer: number, folderId?: number): { peer: WorldPeer; top: WorldMessage }[] {
    const latest = new Map<string, { peer: WorldPeer; top: WorldMessage }>();
    for (const message of this.messages) {
      if (message.deleted) continue;
      let peer: WorldPeer;
      if (message.peer.type === "user") {
        if (message.fromId !== viewer && message.peer.id !== viewer) continue;
        peer = { type: "user", id: message.fromId === viewer ? message.peer.id : message.fromId };
      } else {
        if (!this.chats.get(message.peer.id)?.members.includes(viewer)) continue;
        peer = message.peer;
      }
      latest.set(`${peer.type}:${peer.id}`, { peer, top: message });
    }
    return [...latest.values()]
      .filter((dialog) => folderId === undefined || this.folderOf(viewer, dialog.peer) === folderId)
      .sort((a, b) => b.top.date - a.top.date || b.top.id - a.top.id);
  }
}
