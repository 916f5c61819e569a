/**
 * The peers the update state machine has seen: users (so that a short message about them can be
 * expanded without asking for a difference) and channels' access hashes (without which a
 * channel's difference cannot be asked for).
 *
 * @module
 */

import type { TlObject } from "../tl/codec.ts";
import { idOf, longText } from "./boxes.ts";

/** The users known (to expand short messages without a difference) are capped at this many. */
const MAX_KNOWN_USERS = 100_000;

/**
 * Users and channel access hashes learnt from results and updates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KnownPeers } from "./known_peers.ts";
 * const peers = new KnownPeers();
 * peers.learn({
 *   _cons: "updates",
 *   users: [{ _cons: "user", id: 7 }],
 *   chats: [{ _cons: "channel", id: 10, access_hash: "-5" }],
 * });
 * assert.ok(peers.knowsUsers([7]) && !peers.knowsUsers([7, 8]));
 * assert.equal(peers.accessHash(10), "-5");
 * ```
 */
export class KnownPeers {
  // Made with the first user or channel learnt: an idle session through serve may learn none,
  // and each empty collection is ~160 B per connection.
  #users?: Set<number>;
  #hashes?: Map<number, string>;

  /** Learns the users and the channels' access hashes an object lists (results, updates). */
  learn(value: unknown): void {
    if (typeof value !== "object" || value === null) return;
    const object = value as TlObject;
    if (Array.isArray(object.users) && object.users.length) {
      // Forgetting everyone at the cap costs at most a difference per short message, not memory.
      if (this.#users && this.#users.size > MAX_KNOWN_USERS) this.#users.clear();
      const users = this.#users ??= new Set();
      for (const user of object.users as TlObject[]) users.add(idOf(user.id));
    }
    if (Array.isArray(object.chats)) {
      for (const chat of object.chats as TlObject[]) {
        // A min channel's access hash is not good for calls of the account's own.
        if (chat._cons === "channel" && chat.access_hash !== undefined && !chat.min) {
          (this.#hashes ??= new Map()).set(idOf(chat.id), longText(chat.access_hash));
        }
      }
    }
  }

  /** True when every user in `ids` has been seen. */
  knowsUsers(ids: number[]): boolean {
    return ids.every((id) => this.#users?.has(id));
  }

  /** The access hash of channel `id` as decimal text, if known. */
  accessHash(id: number): string | undefined {
    return this.#hashes?.get(id);
  }

  /** Remembers access hashes carried by a cursor, keyed by channel id. */
  rememberHashes(hashes: Record<string, string>): void {
    for (const [id, hash] of Object.entries(hashes)) {
      (this.#hashes ??= new Map()).set(Number(id), hash);
    }
  }

  /** The known access hashes of the channels `ids`, for a cursor. */
  hashesOf(ids: Iterable<string>): Record<string, string> {
    const hashes: Record<string, string> = {};
    if (!this.#hashes) return hashes;
    for (const id of ids) {
      const hash = this.#hashes.get(Number(id));
      if (hash !== undefined) hashes[id] = hash;
    }
    return hashes;
  }
}
