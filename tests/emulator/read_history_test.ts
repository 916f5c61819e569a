import { assertEquals } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signIn, signInWithCode } from "../support/raw_calls.ts";
import { untilFound } from "../support/until.ts";

/** Waits (bounded) for an update named `cons` among those pushed. */
function pushedUpdate(pushed: TlObject[], cons: string): Promise<TlObject> {
  return untilFound(
    () =>
      pushed.flatMap((item) => (item.updates as TlObject[] | undefined) ?? [])
        .find((update) => update._cons === cons),
    15_000,
    `a pushed ${cons}`,
  );
}

Deno.test("reading a chat moves the read marks, tells the author and the reader's other sessions, and getDifference has it", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const aliceElsewhere: TlObject[] = [], bobPushed: TlObject[] = [];
  const alice = emulatedSender(emulator, 1);
  const alice2 = emulatedSender(emulator, 1, {
    onUpdate: (body) => aliceElsewhere.push(codec.decode(body)),
  });
  const bob = emulatedSender(emulator, 1, {
    onUpdate: (body) => bobPushed.push(codec.decode(body)),
  });
  const asAlice = rawCaller(alice, codec), asAlice2 = rawCaller(alice2, codec);
  const asBob = rawCaller(bob, codec);
  try {
    await signInWithCode(asAlice, "+15550000001");
    await signInWithCode(asAlice2, "+15550000001");
    await signIn(asBob, "+15550000002", "hunter2");
    await asAlice2({ _cons: "updates.getState" });
    const bobBefore = await asBob({ _cons: "updates.getState" });
    const bobUser = emulator.world.users.get(1000002)!;
    const withBob = {
      _cons: "inputPeerUser",
      user_id: bobUser.id,
      access_hash: bobUser.accessHash,
    };
    const dialogWithBob = async () => {
      const dialogs = await asAlice({
        _cons: "messages.getPeerDialogs",
        peers: [{ _cons: "inputDialogPeer", peer: withBob }],
      });
      return (dialogs.dialogs as TlObject[])[0];
    };
    // Bob's "Hi Alice, how are you?" (id 2) is unread.
    assertEquals(
      [(await dialogWithBob()).unread_count, (await dialogWithBob()).read_inbox_max_id],
      [
        1,
        0,
      ],
    );
    const aliceBefore = await asAlice({ _cons: "updates.getState" });
    const affected = await asAlice({ _cons: "messages.readHistory", peer: withBob, max_id: 0 });
    assertEquals(affected, {
      _cons: "messages.affectedMessages",
      pts: (aliceBefore.pts as number) + 1,
      pts_count: 1,
    });
    assertEquals(
      [(await dialogWithBob()).unread_count, (await dialogWithBob()).read_inbox_max_id],
      [
        0,
        2,
      ],
    );
    // Alice's other session learns what she read; Bob learns his message was read.
    const inbox = await pushedUpdate(aliceElsewhere, "updateReadHistoryInbox");
    assertEquals([inbox?.max_id, inbox?.still_unread_count, inbox?.pts], [2, 0, affected.pts]);
    const outbox = await pushedUpdate(bobPushed, "updateReadHistoryOutbox");
    assertEquals([(outbox?.peer as TlObject)?.user_id, outbox?.max_id], [1000001n, 2]);
    assertEquals(outbox?.pts, (bobBefore.pts as number) + 1);
    // A session that missed the push gets the receipt from getDifference.
    const difference = await asBob({
      _cons: "updates.getDifference",
      pts: bobBefore.pts,
      date: bobBefore.date,
      qts: 0,
    });
    assertEquals(
      (difference.other_updates as TlObject[]).map((update) => [update._cons, update.max_id]),
      [["updateReadHistoryOutbox", 2]],
    );
    // Reading again reads nothing and moves nothing.
    const again = await asAlice({ _cons: "messages.readHistory", peer: withBob, max_id: 0 });
    assertEquals([again.pts, again.pts_count], [affected.pts, 0]);
    // A channel is read with channels.readHistory (the other method refuses it).
    const channel = {
      _cons: "inputChannel",
      channel_id: 3000001,
      access_hash: 7000000000000000001n,
    };
    const wrongMethod = await asAlice({
      _cons: "messages.readHistory",
      peer: { _cons: "inputPeerChannel", channel_id: 3000001, access_hash: 7000000000000000001n },
      max_id: 0,
    });
    assertEquals(wrongMethod.error_message, "PEER_ID_INVALID");
    // Bob reads the channel in another session; this one is told, with the channel's pts.
    const bob2 = emulatedSender(emulator, 1);
    try {
      const asBob2 = rawCaller(bob2, codec);
      await signIn(asBob2, "+15550000002", "hunter2");
      assertEquals(
        (await asBob2({ _cons: "channels.readHistory", channel, max_id: 1 }))._cons,
        "boolTrue",
      );
      const channelRead = await pushedUpdate(bobPushed, "updateReadChannelInbox");
      assertEquals(
        [channelRead?.channel_id, channelRead?.max_id, channelRead?.still_unread_count],
        [3000001n, 1, 1],
      );
    } finally {
      bob2.close();
    }
  } finally {
    for (const sender of [alice, alice2, bob]) sender.close();
    await emulator.close();
  }
});
