import { assertEquals } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signIn, signInWithCode } from "../support/raw_calls.ts";
import { untilFound } from "../support/until.ts";

/** Waits (bounded) for a pushed updateShort carrying an update named `cons`. */
async function pushedShort(pushed: TlObject[], cons: string): Promise<TlObject> {
  const found = await untilFound(
    () =>
      pushed.find((item) =>
        item._cons === "updateShort" && (item.update as TlObject)._cons === cons
      ),
    15_000,
    `a pushed updateShort with ${cons}`,
  );
  return found.update as TlObject;
}

Deno.test("typing and online status are pushed live to the other side and never come back from getDifference", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const alicePushed: TlObject[] = [];
  const alice = emulatedSender(emulator, 1, {
    onUpdate: (body) => alicePushed.push(codec.decode(body)),
  });
  const bob = emulatedSender(emulator, 1);
  const asAlice = rawCaller(alice, codec), asBob = rawCaller(bob, codec);
  try {
    await signInWithCode(asAlice, "+15550000001");
    await signIn(asBob, "+15550000002", "hunter2");
    const before = await asAlice({ _cons: "updates.getState" });
    const alicePeer = {
      _cons: "inputPeerUser",
      user_id: 1000001,
      access_hash: emulator.world.users.get(1000001)!.accessHash,
    };
    const typing = { _cons: "sendMessageTypingAction" };
    assertEquals(
      (await asBob({ _cons: "messages.setTyping", peer: alicePeer, action: typing }))._cons,
      "boolTrue",
    );
    const userTyping = await pushedShort(alicePushed, "updateUserTyping");
    assertEquals([userTyping?.user_id, (userTyping?.action as TlObject)?._cons], [
      1000002n,
      "sendMessageTypingAction",
    ]);
    await asBob({
      _cons: "messages.setTyping",
      peer: { _cons: "inputPeerChat", chat_id: 2000001 },
      action: typing,
    });
    const chatTyping = await pushedShort(alicePushed, "updateChatUserTyping");
    assertEquals([chatTyping?.chat_id, (chatTyping?.from_id as TlObject)?.user_id], [
      2000001n,
      1000002n,
    ]);

    // Bob comes online: Alice is told at once, and contacts.getStatuses says so too.
    await asBob({ _cons: "account.updateStatus", offline: { _cons: "boolFalse" } });
    const online = await pushedShort(alicePushed, "updateUserStatus");
    assertEquals([online?.user_id, (online?.status as TlObject)?._cons], [
      1000002n,
      "userStatusOnline",
    ]);
    const statuses = async () =>
      ((await asAlice({ _cons: "contacts.getStatuses" })).items as TlObject[]).map((item) => [
        item.user_id,
        (item.status as TlObject)._cons,
      ]);
    assertEquals(await statuses(), [[1000002n, "userStatusOnline"]]);
    alicePushed.length = 0;
    await asBob({ _cons: "account.updateStatus", offline: { _cons: "boolTrue" } });
    const offline = await pushedShort(alicePushed, "updateUserStatus");
    assertEquals((offline?.status as TlObject)?._cons, "userStatusOffline");
    assertEquals(await statuses(), [[1000002n, "userStatusOffline"]]);

    // None of it is in Alice's box: a session that missed the pushes gets nothing back.
    const difference = await asAlice({
      _cons: "updates.getDifference",
      pts: before.pts,
      date: before.date,
      qts: 0,
    });
    assertEquals(difference._cons, "updates.differenceEmpty");
    assertEquals((await asAlice({ _cons: "updates.getState" })).pts, before.pts);
  } finally {
    alice.close();
    bob.close();
    await emulator.close();
  }
});
