import { assertEquals } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import type { WorldOptions } from "../../lib/emulator/world.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInAlice } from "../support/processes.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signIn } from "../support/raw_calls.ts";
import { until } from "../support/until.ts";

type Emulator = Awaited<ReturnType<typeof startEmulator>>;
type Line = Record<string, unknown>;

/** One DC, serve in front of it, and Bob signed in on a raw connection of his own. */
async function withWorld(
  world: WorldOptions,
  run: (
    port: number,
    bob: (call: TlObject) => Promise<TlObject>,
    emulator: Emulator,
  ) => Promise<void>,
) {
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: () => {},
    world: { homeDc: 1, ...world },
  });
  const proxy = serve({
    schema: loadSchema(),
    server: serverFlag(JSON.stringify(emulator.serverLine(1)))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds: 5 },
    transport: { kind: "intermediate" },
  }, { host: "127.0.0.1", port: 0, maxLine: 1 << 20 });
  const sender = emulatedSender(emulator, 1);
  try {
    const bob = rawCaller(sender, codec);
    await signIn(bob, "+15550000002", "hunter2");
    await run(proxy.port, bob, emulator);
  } finally {
    sender.close();
    await proxy.close();
    await emulator.close();
  }
}

const eventOf = (line: Line) => line.event as { type: string; box?: string } | undefined;
const isEvent = (type: string) => (line: Line) => line.id === 0 && eventOf(line)?.type === type;
/** The single update of a managed line, or undefined for an event line. */
const updateOf = (line: Line) =>
  ((line.message as TlObject | undefined)?.updates as TlObject[])?.[0];

/** Alice's peer, the group and the channel, as Bob addresses them. */
function peers(emulator: Emulator) {
  const alice = emulator.world.users.get(1000001)!;
  return {
    alice: { _cons: "inputPeerUser", user_id: alice.id, access_hash: alice.accessHash },
    group: { _cons: "inputPeerChat", chat_id: 2000001 },
    channel: { _cons: "inputPeerChannel", channel_id: 3000001, access_hash: 7000000000000000001n },
  };
}

let randomId = 1n;
const send = (bob: (call: TlObject) => Promise<TlObject>, peer: TlObject, text: string) =>
  bob({ _cons: "messages.sendMessage", peer, message: text, random_id: randomId++ });

Deno.test("a cursor resumes exactly after it: 3 messages, an edit and a deletion, in order, then synced", async () => {
  await withWorld({}, async (port, bob, emulator) => {
    const first = await JsonClient.connect(port);
    const session = await signInAlice(first) as Line;
    await first.next(isEvent("synced"));
    const cursor = ((await first.request({ id: 904, session: {} })).session as Line).updates_cursor;
    first.close();

    const { alice } = peers(emulator);
    const ids: number[] = [];
    for (const text of ["one", "two", "three"]) {
      ids.push((await send(bob, alice, text)).id as number);
    }
    await bob({ _cons: "messages.editMessage", peer: alice, id: ids[0], message: "one, edited" });
    await bob({ _cons: "messages.deleteMessages", revoke: true, id: [ids[1]] });

    const again = await JsonClient.connect(port);
    try {
      await again.request({ id: 1, session: { ...session, updates_cursor: cursor } });
      const synced = await again.next(isEvent("synced"));
      // Nothing may follow: a call to the DC after synced is answered after anything the DC had
      // sent or was answering before it, so every line due is in again.updates by its answer.
      await again.request({ id: 99, message: { _cons: "help.getConfig" } });
      const delivered = again.updates.filter((line) => updateOf(line)).map((line) => {
        const update = updateOf(line);
        const message = update.message as TlObject | undefined;
        return `${update._cons} ${message?.message ?? JSON.stringify(update.messages)}`;
      });
      // As from Telegram, a difference carries messages as they are now: the first, edited.
      assertEquals(delivered, [
        "updateNewMessage one, edited",
        "updateNewMessage two",
        "updateNewMessage three",
        "updateEditMessage one, edited",
        `updateDeleteMessages [${ids[1]}]`,
      ]);
      assertEquals((synced.event as Line).recovered, 5);
      // The last line's cursor is the synced one: resuming from it brings nothing again.
      assertEquals(
        again.updates.filter((line) => updateOf(line)).at(-1)!.cursor,
        (synced.event as Line).cursor,
      );
    } finally {
      again.close();
    }
  });
});

Deno.test("with every third push dropped, 900 messages to a chat, a group and a channel arrive once each", async () => {
  await withWorld({ dropUpdatesEvery: 3 }, async (port, bob, emulator) => {
    const alice = await JsonClient.connect(port);
    try {
      await signInAlice(alice);
      await alice.next(isEvent("synced"));
      const targets = peers(emulator);
      for (const [name, peer] of Object.entries(targets)) {
        for (let i = 0; i < 300; i++) await send(bob, peer, `${name} ${i}`);
        // Two more: a dropped last push leaves a hole only a later update reveals.
        for (const tail of ["tail 1", "tail 2"]) await send(bob, peer, `${name} ${tail}`);
      }
      const texts = () =>
        alice.updates.flatMap((line) => {
          const update = updateOf(line);
          return update && /^updateNew(Channel)?Message$/.test(update._cons)
            ? [String((update.message as TlObject).message)]
            : [];
        });
      await until(() => texts().length >= 906, 30_000, "906 messages");
      // And nothing after them: a call to the DC is answered after what it sent before.
      await alice.request({ id: 99, message: { _cons: "help.getConfig" } });
      const received = texts();
      assertEquals(received.length, 906);
      assertEquals(new Set(received).size, 906);
      for (const name of ["alice", "group", "channel"]) {
        assertEquals(received.filter((text) => text.startsWith(`${name} `)).length, 302);
      }
      const events = alice.updates.map(eventOf).filter((event) => event);
      assertEquals(events.some((event) => event!.type === "gap"), true);
      assertEquals(events.some((event) => event!.type === "recovered"), true);
      assertEquals(
        events.some((event) => event!.type === "gap" && event!.box === "channel:3000001"),
        true,
      );
    } finally {
      alice.close();
    }
  });
});

Deno.test("updatesTooLong and differenceTooLong reach the client as too_long, and the state goes on", async () => {
  await withWorld({ differenceTooLongAfter: 5, tooLongEvery: 4 }, async (port, bob, emulator) => {
    const { alice } = peers(emulator);
    const first = await JsonClient.connect(port);
    const session = await signInAlice(first) as Line;
    await first.next(isEvent("synced"));
    const cursor = ((await first.request({ id: 904, session: {} })).session as Line).updates_cursor;
    first.close();
    for (let i = 0; i < 10; i++) await send(bob, alice, `missed ${i}`);

    const again = await JsonClient.connect(port);
    try {
      await again.request({ id: 1, session: { ...session, updates_cursor: cursor } });
      await again.next(isEvent("synced"));
      assertEquals(again.updates.map(eventOf).filter((e) => e?.type === "too_long"), [
        { type: "too_long", box: "common" },
      ]);
      // Live again; a push replaced by updatesTooLong is a too_long event and then delivered.
      for (let i = 0; i < 4; i++) await send(bob, alice, `live ${i}`);
      const live = () =>
        again.updates.flatMap((line) => {
          const text = (updateOf(line)?.message as TlObject | undefined)?.message;
          return typeof text === "string" && text.startsWith("live") ? [text] : [];
        });
      await until(() => live().length >= 4, 15_000, "4 live messages");
      await again.request({ id: 99, message: { _cons: "help.getConfig" } });
      assertEquals(live(), ["live 0", "live 1", "live 2", "live 3"]);
      assertEquals(
        again.updates.map(eventOf).filter((e) => e?.type === "too_long").length >= 2,
        true,
      );
    } finally {
      again.close();
    }
  });
});
