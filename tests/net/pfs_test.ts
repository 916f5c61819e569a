import { assertEquals, assertRejects } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { AuthKeyUnknownError } from "../../lib/net/sender.ts";
import { EVERY_TRANSPORT } from "../support/transports.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signIn, signInWithCode } from "../support/raw_calls.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { untilFound } from "../support/until.ts";

/** A one-DC emulator whose log lines are kept (on `clock` when given). */
async function emulatorWithLog(clock?: FakeClock) {
  const log: string[] = [];
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: (line) => log.push(line),
    world: { homeDc: 1 },
    ...(clock ? { clock } : {}),
  });
  return { emulator, log };
}

Deno.test("with PFS every transport signs in and calls under a bound temporary key, never the permanent one", async () => {
  const { emulator, log } = await emulatorWithLog();
  try {
    for (const transport of EVERY_TRANSPORT) {
      const sender = emulatedSender(emulator, 1, { transport, tempKeySeconds: 3600 });
      try {
        const call = rawCaller(sender, codec);
        const signed = await signInWithCode(call, "+15550000001");
        assertEquals(signed._cons, "auth.authorization");
        const dialogs = await call({
          _cons: "messages.getDialogs",
          offset_date: 0,
          offset_id: 0,
          offset_peer: { _cons: "inputPeerEmpty" },
          limit: 10,
          hash: 0n,
        });
        assertEquals(dialogs._cons, "messages.dialogs");
        // The session runs under the temporary key; the account's key is the permanent one.
        assertEquals(sender.session!.authKey.key.toHex() === sender.authKey!.toHex(), false);
        // A new connection with only the permanent key binds a new temporary key to it and is
        // the same account, signed in.
        const again = emulatedSender(emulator, 1, {
          transport,
          tempKeySeconds: 3600,
          authKey: sender.authKey,
        });
        try {
          const me = await rawCaller(again, codec)({
            _cons: "users.getUsers",
            id: [{ _cons: "inputUserSelf" }],
          });
          assertEquals((me.items as TlObject[])[0].id, 1000001n);
        } finally {
          again.close();
        }
      } finally {
        sender.close();
      }
    }
    const bound = log.filter((line) => line.includes("bound to permanent key"));
    assertEquals(bound.length, EVERY_TRANSPORT.length * 2);
    assertEquals(log.filter((line) => line.includes("a message under permanent key")), []);
  } finally {
    await emulator.close();
  }
});

Deno.test("with PFS an unknown permanent key fails the binding as AUTH_KEY_UNKNOWN, and a forgotten temporary key is replaced", async () => {
  const { emulator, log } = await emulatorWithLog();
  try {
    const stranger = emulatedSender(emulator, 1, {
      tempKeySeconds: 3600,
      authKey: secureRandom(256),
    });
    await assertRejects(
      () => stranger.invoke(codec.encode({ _cons: "help.getNearestDc" })),
      AuthKeyUnknownError,
      "ENCRYPTED_MESSAGE_INVALID",
    );
    assertEquals(stranger.closed, true);
    assertEquals(log.some((line) => line.includes("refused: no such permanent key")), true);

    const sender = emulatedSender(emulator, 1, { tempKeySeconds: 3600 });
    try {
      const call = rawCaller(sender, codec);
      await signInWithCode(call, "+15550000001");
      const firstTemp = sender.session!.authKey.key;
      // The DC forgets its temporary keys (as on a restart or when they expire): the next call
      // binds a new one and is still the signed-in account.
      emulator.contexts[0].keys.forgetTemporary();
      const me = await call({ _cons: "users.getUsers", id: [{ _cons: "inputUserSelf" }] });
      assertEquals((me.items as TlObject[])[0].id, 1000001n);
      assertEquals(sender.session!.authKey.key.toHex() === firstTemp.toHex(), false);
    } finally {
      sender.close();
    }
  } finally {
    await emulator.close();
  }
});

Deno.test("with PFS the account's updates are pushed to the session under the temporary key", async () => {
  const { emulator } = await emulatorWithLog();
  const pushed: TlObject[] = [];
  const alice = emulatedSender(emulator, 1, { tempKeySeconds: 3600 });
  const bob = emulatedSender(emulator, 1, {
    tempKeySeconds: 3600,
    onUpdate: (body) => pushed.push(codec.decode(body)),
  });
  try {
    const asAlice = rawCaller(alice, codec), asBob = rawCaller(bob, codec);
    await signInWithCode(asAlice, "+15550000001");
    await signIn(asBob, "+15550000002", "hunter2");
    await asBob({ _cons: "updates.getState" });
    const bobUser = emulator.world.users.get(1000002)!;
    await asAlice({
      _cons: "messages.sendMessage",
      peer: { _cons: "inputPeerUser", user_id: bobUser.id, access_hash: bobUser.accessHash },
      message: "under a temporary key",
      random_id: 1n,
    });
    const first = await untilFound(() => pushed[0], 15_000, "the message pushed to Bob");
    assertEquals(first.message, "under a temporary key");
  } finally {
    alice.close();
    bob.close();
    await emulator.close();
  }
});

Deno.test("with PFS a temporary key is renewed before it expires, and calls go on across the renewal", async () => {
  // The DC (which lets temporary keys expire) and the sender (which renews them) share a fake
  // clock: time moves when the test says so.
  const clock = new FakeClock();
  const { emulator, log } = await emulatorWithLog(clock);
  // A 2-second key is renewed after one second.
  const said: string[] = [];
  const sender = emulatedSender(emulator, 1, {
    tempKeySeconds: 2,
    log: (line) => said.push(line),
    clock,
  });
  try {
    const call = rawCaller(sender, codec);
    await signInWithCode(call, "+15550000001");
    const first = sender.session!.authKey.key.toHex();
    const answers: string[] = [];
    // A call every 100 ms for 1.5 s, the renewal (due at 1 s) among them.
    for (let i = 0; i < 15; i++) {
      const me = await call({ _cons: "users.getUsers", id: [{ _cons: "inputUserSelf" }] });
      answers.push(String((me.items as TlObject[])[0].id));
      await clock.advance(100);
    }
    assertEquals(answers.every((id) => id === "1000001"), true);
    assertEquals(sender.session!.authKey.key.toHex() === first, false);
    // Renewed ahead of time, not replaced after the server forgot it.
    assertEquals(said.includes("renewing the temporary key"), true);
    assertEquals(said.some((line) => line.includes("(-404)")), false);
    assertEquals(log.filter((line) => line.includes("bound to permanent key")).length >= 2, true);
    assertEquals(log.filter((line) => line.includes("a message under permanent key")), []);
  } finally {
    sender.close();
    await emulator.close();
  }
});
