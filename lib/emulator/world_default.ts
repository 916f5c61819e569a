/**
 * The default world every emulator starts with: Alice and Bob (Bob with a 2FA password), their
 * private chat, a group, a channel, an archived channel and a file. Deterministic — the same ids,
 * messages and dates every start — because tests and the docs' transcripts rely on them.
 *
 * @module
 */

import { bytesFromBigint } from "../crypto/bigint.ts";
import { TELEGRAM_DH_PRIME } from "../crypto/dh.ts";
import { passwordVerifier, type SrpAlgorithm } from "../crypto/srp.ts";
import type { World, WorldOptions, WorldPeer, WorldUser } from "./world.ts";
import { memoryContent } from "./files/file_content.ts";

/** The 2FA password of the second user. */
export const SECOND_USER_PASSWORD = "hunter2";

/** The folder Telegram keeps archived dialogs in (the main list is folder 0). */
export const ARCHIVE_FOLDER = 1;

/** The most accounts `--users` adds: their phones have four digits to count in. */
export const MAX_EXTRA_USERS = 9999;

/**
 * The phone number (digits only) of the `index`th account `--users` adds, from 1.
 *
 * @example
 * ```ts
 * import { extraUserPhone } from "./world_default.ts";
 * import assert from "node:assert/strict";
 * assert.equal(extraUserPhone(1), "15551000001");
 * assert.equal(extraUserPhone(300), "15551000300");
 * ```
 */
export function extraUserPhone(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > MAX_EXTRA_USERS) {
    throw new RangeError(`extra users are numbered 1 to ${MAX_EXTRA_USERS}, not ${index}`);
  }
  return `1555100${String(index).padStart(4, "0")}`;
}

/** Fills an empty world with the default people, chats and history. */
export async function populateDefaultWorld(world: World, options: WorldOptions): Promise<void> {
  const homeDc = options.homeDc ?? 2;
  const epoch = options.epoch ?? 1_700_000_000;
  const algorithm: SrpAlgorithm = {
    salt1: Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff),
    salt2: Uint8Array.from({ length: 16 }, (_, i) => (i * 53 + 7) & 0xff),
    g: 3,
    p: bytesFromBigint(TELEGRAM_DH_PRIME, 256),
  };
  const alice: WorldUser = {
    id: 1000001,
    accessHash: -8446744073709551615n,
    phone: "15550000001",
    firstName: "Alice",
    lastName: "Example",
    username: "alice",
    homeDc,
    pts: 0,
  };
  const bob: WorldUser = {
    id: 1000002,
    accessHash: 5446744073709551616n,
    phone: "15550000002",
    firstName: "Bob",
    lastName: "Example",
    username: "bob_example",
    homeDc,
    password: {
      algorithm,
      verifier: await passwordVerifier(SECOND_USER_PASSWORD, algorithm),
      hint: "the classic",
    },
    pts: 0,
  };
  world.users.set(alice.id, alice);
  world.users.set(bob.id, bob);
  world.chats.set(2000001, {
    id: 2000001,
    kind: "group",
    accessHash: 0n,
    title: "Example Group",
    members: [alice.id, bob.id],
    date: epoch,
    pts: 0,
  });
  world.chats.set(3000001, {
    id: 3000001,
    kind: "channel",
    accessHash: 7000000000000000001n,
    title: "Example Channel",
    username: "example_channel",
    members: [alice.id, bob.id],
    date: epoch,
    pts: 0,
  });
  // A channel both have archived, so that the archive (folder 1) is not empty. A channel has its
  // own message ids and pts, so adding it leaves every private and group id and pts as they were.
  world.chats.set(3000002, {
    id: 3000002,
    kind: "channel",
    accessHash: 7000000000000000002n,
    title: "Archived Channel",
    members: [alice.id, bob.id],
    date: epoch,
    pts: 0,
  });
  const say = (fromId: number, peer: WorldPeer, text: string, minutes: number) =>
    world.addMessage(fromId, peer, text, epoch + minutes * 60);
  say(alice.id, { type: "user", id: bob.id }, "Hi Bob!", 1);
  say(bob.id, { type: "user", id: alice.id }, "Hi Alice, how are you?", 2);
  say(alice.id, { type: "user", id: bob.id }, "Fine, testing mtproto2json.", 3);
  say(alice.id, { type: "chat", id: 2000001 }, "Welcome to the group.", 4);
  say(bob.id, { type: "chat", id: 2000001 }, "Thanks!", 5);
  say(alice.id, { type: "channel", id: 3000001 }, "First post of the channel.", 6);
  say(alice.id, { type: "channel", id: 3000001 }, "Second post, with a file.", 7);
  say(alice.id, { type: "channel", id: 3000002 }, "An old announcement, archived.", 0);
  for (const user of [alice, bob]) {
    world.setFolder(user.id, { type: "channel", id: 3000002 }, ARCHIVE_FOLDER);
  }
  world.addFile({
    id: 9000001n,
    accessHash: 9100000000000000001n,
    dcId: options.filesDc ?? 2,
    ...memoryContent(Uint8Array.from({ length: 10000 }, (_, i) => (i * 7) & 0xff)),
  });
}
