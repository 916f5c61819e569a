import { assertEquals } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { dialogsAfter } from "../../lib/emulator/methods/dialogs.ts";
import type { WorldMessage } from "../../lib/emulator/world.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signInWithCode } from "../support/raw_calls.ts";
import { untilFound } from "../support/until.ts";

type Call = (request: TlObject) => Promise<TlObject>;

const peerKey = (peer: TlObject) =>
  `${peer._cons}:${peer.user_id ?? peer.chat_id ?? peer.channel_id}`;

/**
 * Pages through one folder as TDLib does: each next page starts at the previous page's last
 * dialog, its peer given with access_hash 0. Returns every page's peers.
 */
async function pageThrough(call: Call, folderId: number, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let offset: Record<string, unknown> = {
    offset_date: 2147483647, // TDLib's first page: "older than the end of time"
    offset_id: 0,
    offset_peer: { _cons: "inputPeerEmpty" },
  };
  for (let page = 0; page < 20; page++) {
    const slice = await call({
      _cons: "messages.getDialogs",
      folder_id: folderId,
      ...offset,
      limit,
      hash: 0n,
    });
    const dialogs = slice.dialogs as TlObject[];
    if (dialogs.length === 0) return pages;
    pages.push(dialogs.map((dialog) => peerKey(dialog.peer as TlObject)));
    const last = dialogs.at(-1)!;
    const lastPeer = last.peer as TlObject;
    const top = (slice.messages as TlObject[]).find((message) =>
      message.id === last.top_message && peerKey(message.peer_id as TlObject) === peerKey(lastPeer)
    )!;
    const id = lastPeer.user_id ?? lastPeer.chat_id ?? lastPeer.channel_id;
    offset = {
      offset_date: top.date,
      offset_id: top.id,
      offset_peer: lastPeer._cons === "peerUser"
        ? { _cons: "inputPeerUser", user_id: id, access_hash: 0n }
        : lastPeer._cons === "peerChannel"
        ? { _cons: "inputPeerChannel", channel_id: id, access_hash: 0n }
        : { _cons: "inputPeerChat", chat_id: id },
    };
  }
  throw new Error(`folder ${folderId} never ran out of pages`);
}

/** A getDialogs for a whole folder in one call. */
function wholeFolderRequest(): TlObject {
  return {
    _cons: "messages.getDialogs",
    offset_date: 0,
    offset_id: 0,
    offset_peer: { _cons: "inputPeerEmpty" },
    limit: 100,
    hash: 0n,
  };
}

/** The whole folder in one call. */
async function wholeFolder(call: Call, folderId: number): Promise<TlObject> {
  return await call({ ...wholeFolderRequest(), folder_id: folderId });
}

Deno.test("getDialogs pages through the main list and the archive with offset_peer access_hash 0, without repeats or gaps", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const { world } = emulator;
  // Five more people write to Alice in the same second, so that pages split between dialogs
  // whose top messages share a date.
  const sameSecond = (world.options.epoch ?? 1_700_000_000) + 3600;
  const newcomers = ["Carol", "Dave", "Erin", "Frank", "Grace"].map((name, index) => {
    const user = world.addUser(`1555000010${index}`, name, "Example", 1);
    world.addMessage(user.id, { type: "user", id: 1000001 }, `Hi, I am ${name}.`, sameSecond);
    return user;
  });
  const alice = emulatedSender(emulator, 1);
  const aliceElsewhere: TlObject[] = [];
  const alice2 = emulatedSender(emulator, 1, {
    onUpdate: (body) => aliceElsewhere.push(codec.decode(body)),
  });
  const call = rawCaller(alice, codec), call2 = rawCaller(alice2, codec);
  try {
    await signInWithCode(call, "+15550000001");
    await signInWithCode(call2, "+15550000001");
    const main = await wholeFolder(call, 0);
    const mainPeers = (main.dialogs as TlObject[]).map((d) => peerKey(d.peer as TlObject));
    assertEquals(mainPeers.length, 8, "5 newcomers, the channel, the group and Bob");
    assertEquals(
      mainPeers.includes("peerChannel:3000002"),
      false,
      "archived: not in the main list",
    );
    const archive = await wholeFolder(call, 1);
    assertEquals(archive._cons, "messages.dialogs");
    assertEquals(
      (archive.dialogs as TlObject[]).map((d) => [peerKey(d.peer as TlObject), d.folder_id]),
      [["peerChannel:3000002", 1]],
    );
    for (const limit of [1, 2, 3, 7]) {
      const pages = await pageThrough(call, 0, limit);
      assertEquals(pages.flat(), mainPeers, `main list in pages of ${limit}`);
      assertEquals(pages.every((page) => page.length <= limit), true);
    }
    // A page names the folder's total.
    const firstPage = await call({
      _cons: "messages.getDialogs",
      folder_id: 0,
      offset_date: 0,
      offset_id: 0,
      offset_peer: { _cons: "inputPeerEmpty" },
      limit: 3,
      hash: 0n,
    });
    assertEquals([firstPage._cons, firstPage.count], ["messages.dialogsSlice", 8]);

    // Alice archives two of the newcomers: her other session is told, and so is getDifference.
    const before = await call2({ _cons: "updates.getState" });
    const archived = await call({
      _cons: "folders.editPeerFolders",
      folder_peers: newcomers.slice(1, 3).map((user) => ({
        _cons: "inputFolderPeer",
        peer: { _cons: "inputPeerUser", user_id: user.id, access_hash: user.accessHash },
        folder_id: 1,
      })),
    });
    const moved = (archived.updates as TlObject[])[0];
    assertEquals(moved._cons, "updateFolderPeers");
    assertEquals(moved.pts, (before.pts as number) + 1);
    const folderUpdate = await untilFound(
      () =>
        aliceElsewhere.flatMap((item) => (item.updates as TlObject[]) ?? [])
          .find((update) => update._cons === "updateFolderPeers"),
      15_000,
      "updateFolderPeers pushed to Alice's other session",
    );
    assertEquals(folderUpdate.pts, moved.pts);
    const difference = await call2({
      _cons: "updates.getDifference",
      pts: before.pts,
      date: before.date,
      qts: 0,
    });
    assertEquals(
      (difference.other_updates as TlObject[]).map((update) =>
        (update.folder_peers as TlObject[] | undefined)?.map((peer) => [
          peerKey(peer.peer as TlObject),
          peer.folder_id,
        ])
      ),
      [[[`peerUser:${newcomers[1].id}`, 1], [`peerUser:${newcomers[2].id}`, 1]]],
    );

    const archivePages = await pageThrough(call, 1, 1);
    assertEquals(archivePages.flat(), [
      `peerUser:${newcomers[2].id}`,
      `peerUser:${newcomers[1].id}`,
      "peerChannel:3000002",
    ]);
    const mainAfter = (await pageThrough(call, 0, 2)).flat();
    assertEquals(
      mainAfter,
      mainPeers.filter((peer) => !archivePages.flat().includes(peer)),
      "the main list without what was archived",
    );
    // Unarchiving puts a dialog back where its top message belongs.
    await call({
      _cons: "folders.editPeerFolders",
      folder_peers: [{
        _cons: "inputFolderPeer",
        peer: {
          _cons: "inputPeerUser",
          user_id: newcomers[1].id,
          access_hash: newcomers[1].accessHash,
        },
        folder_id: 0,
      }],
    });
    assertEquals(
      (await pageThrough(call, 0, 3)).flat(),
      mainPeers.filter((peer) => peer !== `peerUser:${newcomers[2].id}`),
    );
    const badFolder = await call({ ...wholeFolderRequest(), folder_id: 5 });
    assertEquals(badFolder.error_message, "FOLDER_ID_INVALID");
  } finally {
    alice.close();
    alice2.close();
    await emulator.close();
  }
});

Deno.test("dialogs whose top messages share both date and id still page one after the other", () => {
  const top = (id: number) => ({ id, date: 100 } as WorldMessage);
  // A private message and a channel post can have the same id and date.
  const all = [
    { peer: { type: "user" as const, id: 5 }, top: top(7) },
    { peer: { type: "channel" as const, id: 9 }, top: top(7) },
    { peer: { type: "chat" as const, id: 3 }, top: top(7) },
  ];
  const order = dialogsAfter(all, { date: 0, id: 0 }).map((dialog) => dialog.peer.type);
  const seen: string[] = [];
  let offset: { date: number; id: number; peer?: (typeof all)[number]["peer"] } = {
    date: 2147483647,
    id: 0,
  };
  for (let page = 0; page < 5; page++) {
    const next = dialogsAfter(all, offset)[0];
    if (!next) break;
    seen.push(next.peer.type);
    offset = { date: next.top.date, id: next.top.id, peer: next.peer };
  }
  assertEquals(seen, order);
  assertEquals(new Set(seen).size, 3);
});
