import { deflateSync } from "node:zlib";
import { assertEquals } from "../assert.ts";
import { TlCodec } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { emulatedSender } from "../support/emulated_sender.ts";
import { rawCaller, signInWithCode } from "../support/raw_calls.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { until } from "../support/until.ts";

const codec = new TlCodec(loadSchema());
const quiet = () => {};
type Emulator = Awaited<ReturnType<typeof startEmulator>>;

function senderFor(emulator: Emulator, dcId: number) {
  return emulatedSender(emulator, dcId, { transport: { kind: "abridged" } });
}

Deno.test("fault switches apply per DC: one DC's clock an hour ahead, the others on time", async () => {
  const emulator = await startEmulator({
    port: 0,
    log: quiet,
    perDc: { 3: { clockSkewSeconds: 3600 } },
  });
  const onTime = senderFor(emulator, 2);
  const ahead = senderFor(emulator, 3);
  try {
    await onTime.invoke(codec.encode({ _cons: "help.getNearestDc" }));
    await ahead.invoke(codec.encode({ _cons: "help.getNearestDc" }));
    assertEquals(Math.abs(onTime.session!.ids.offsetMs) < 2000, true);
    assertEquals(Math.abs(ahead.session!.ids.offsetMs - 3600_000) < 2000, true);
  } finally {
    onTime.close();
    ahead.close();
    await emulator.close();
  }
});

Deno.test("ping_delay_disconnect: a client silent past the delay is disconnected, and its sender reconnects", async () => {
  // The DC's silence deadline runs on a fake clock; the sender's reconnect on the real one.
  const clock = new FakeClock();
  const emulator = await startEmulator({ port: 0, dcs: 1, log: quiet, clock });
  const connections = emulator.listeners[0].connections;
  const sender = senderFor(emulator, 1);
  try {
    const pong = codec.decode(
      await sender.invoke(
        codec.encode({ _cons: "ping_delay_disconnect", ping_id: 1n, disconnect_delay: 1 }),
      ),
    );
    assertEquals(pong.ping_id, 1n);
    assertEquals(connections.size, 1);
    await clock.advance(999);
    assertEquals(connections.size, 1, "still connected just before the delay ends");
    await clock.advance(1);
    assertEquals(connections.size, 0, "disconnected once the delay is over");
    await until(() => sender.reconnects > 0, 15_000, "the sender to reconnect");
    await sender.invoke(codec.encode({ _cons: "ping", ping_id: 2n }));
    assertEquals(sender.reconnects, 1);
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("large results arrive gzip_packed and are unpacked transparently; a file's part never is", async () => {
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: quiet,
    world: { homeDc: 1, filesDc: 1 },
  });
  const sender = senderFor(emulator, 1);
  const call = rawCaller(sender, codec);
  try {
    await signInWithCode(call, "+15550000001");
    // Two long messages (under the 4096 characters a message may have): a history over 4 KiB.
    const text = "a long note to Bob ".repeat(150);
    const bob = emulator.world.users.get(1000002)!;
    const toBob = { _cons: "inputPeerUser", user_id: bob.id, access_hash: bob.accessHash };
    for (const random_id of [1n, 2n]) {
      const sent = await call({
        _cons: "messages.sendMessage",
        peer: toBob,
        message: text,
        random_id,
      });
      assertEquals(sent._cons === "rpc_error" ? sent.error_message : "sent", "sent");
    }
    const history = await call({
      _cons: "messages.getHistory",
      peer: toBob,
      offset_id: 0,
      offset_date: 0,
      add_offset: 0,
      limit: 10,
      max_id: 0,
      min_id: 0,
      hash: 0n,
    });
    const messages = history.messages as Record<string, unknown>[];
    assertEquals(messages.slice(0, 2).map((message) => message.message), [text, text]);
    assertEquals(emulator.contexts[0].stats.gzippedResults, 1);
    // A file's bytes are sent as they are, however well they would compress.
    const part = await call({
      _cons: "upload.getFile",
      location: {
        _cons: "inputDocumentFileLocation",
        id: 9000001n,
        access_hash: 9100000000000000001n,
        file_reference: new Uint8Array(0),
        thumb_size: "",
      },
      offset: 0n,
      limit: 8192,
    });
    const bytes = part.bytes as Uint8Array;
    assertEquals(bytes.length, 8192);
    assertEquals(bytes.every((byte, i) => byte === ((i * 7) & 0xff)), true);
    assertEquals(emulator.contexts[0].stats.gzippedResults, 1);
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("a request packed with zlib instead of gzip is answered, as Telegram does", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: quiet });
  const sender = senderFor(emulator, 1);
  try {
    const request = codec.encode({ _cons: "help.getNearestDc" });
    const packed = codec.encode({ _cons: "gzip_packed", packed_data: deflateSync(request) });
    const nearest = codec.decode(await sender.invoke(packed, 5000));
    assertEquals(nearest._cons, "nearestDc");
  } finally {
    sender.close();
    await emulator.close();
  }
});
