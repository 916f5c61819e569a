import { assertEquals, assertStringIncludes } from "../assert.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { packPlainMessage, unpackPlainMessage } from "../../lib/mtproto/plain_message.ts";
import { MessageIdGenerator } from "../../lib/mtproto/message_id.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";

const quiet = () => {};

Deno.test("a plain handshake message padded with 16 random bytes still gets its resPQ", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: quiet });
  const socket = await Deno.connect({ hostname: "127.0.0.1", port: emulator.dcs[0].port });
  try {
    const nonce = secureRandom(16);
    const body = codec.encode({ _cons: "req_pq_multi", nonce });
    // The padding follows the object and is counted in the message's length, as TDLib sends it.
    const padded = new Uint8Array(body.length + 16);
    padded.set(body);
    padded.set(secureRandom(16), body.length);
    const message = packPlainMessage(new MessageIdGenerator(Date.now, "client").next(), padded);
    const frame = new Uint8Array(8 + message.length);
    const view = new DataView(frame.buffer);
    view.setUint32(0, 0xeeeeeeee, true); // intermediate
    view.setUint32(4, message.length, true);
    frame.set(message, 8);
    await socket.write(frame);
    const reply = new Uint8Array(4096);
    let received = 0;
    while (received < 4 || received < 4 + new DataView(reply.buffer).getUint32(0, true)) {
      const count = await socket.read(reply.subarray(received));
      if (count === null) throw new Error("the emulator closed the connection");
      received += count;
    }
    const length = new DataView(reply.buffer).getUint32(0, true);
    const resPq = codec.decode(unpackPlainMessage(reply.subarray(4, 4 + length)).body);
    assertEquals(resPq._cons, "resPQ");
    assertEquals(resPq.nonce, nonce);
  } finally {
    socket.close();
    await emulator.close();
  }
});

Deno.test("a new key's first message, under the salt it was created with, needs no bad_server_salt", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: quiet });
  const sender = emulatedSender(emulator, 1);
  try {
    for (let i = 0; i < 3; i++) await sender.invoke(codec.encode({ _cons: "help.getNearestDc" }));
    assertEquals(emulator.contexts[0].stats.badServerSalts, 0);
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("an unexpected error on a connection is logged with the connection, which is closed", async () => {
  const log: string[] = [];
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: (line) => log.push(line),
    faults: {
      answerWith: (method) => {
        if (method === "help.getNearestDc") throw new Error("boom");
        return undefined;
      },
    },
  });
  const sender = emulatedSender(emulator, 1);
  try {
    await sender.invoke(codec.encode({ _cons: "help.getConfig" }));
    const reconnectsBefore = sender.reconnects;
    const failed = sender.invoke(codec.encode({ _cons: "help.getNearestDc" }), 500).catch((e) => e);
    await failed;
    const line = log.find((entry) => entry.includes("unexpected error"));
    assertStringIncludes(line ?? "", "closing after an unexpected error: Error: boom");
    assertEquals(/dc1 connection \d+:/.test(line!), true, line);
    // The client notices the closed connection and comes back.
    await sender.invoke(codec.encode({ _cons: "help.getConfig" }));
    assertEquals(sender.reconnects > reconnectsBefore, true);
  } finally {
    sender.close();
    await emulator.close();
  }
});
