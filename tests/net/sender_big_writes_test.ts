/**
 * The sender makes a big message (an upload's part) in a buffer it uses again once the socket
 * has written it: over a connection whose writes finish late, parts sent one right after the
 * other are each saved as sent (a buffer used again before its write finished would change the
 * bytes under the write, the message would fail its msg_key, and the part would get no answer).
 */

import { assertEquals } from "../assert.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { generatedFileBytes } from "../../lib/emulator/files/generated_bytes.ts";
import { connectTcp } from "../../lib/net/tcp_connection.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signInWithCode } from "../support/raw_calls.ts";

const PART = 512 * 1024;

Deno.test("big messages written late are each sent as made, their buffers used again only after", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  // Every write waits a few milliseconds before it reaches the socket: the next parts are made
  // meanwhile, as when a socket's buffer is full.
  const sender = emulatedSender(emulator, 1, {
    connect: async (host, port) => {
      const inner = await connectTcp(host, port);
      return {
        ...inner,
        readable: inner.readable,
        write: async (bytes: Uint8Array) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          await inner.write(bytes);
        },
        close: () => inner.close(),
      };
    },
  });
  try {
    const call = rawCaller(sender, codec);
    await signInWithCode(call, "+15550000001");
    const timers: ReturnType<typeof setTimeout>[] = [];
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, part) =>
        Promise.race([
          call({
            _cons: "upload.saveBigFilePart",
            file_id: 99n,
            file_part: part,
            file_total_parts: 6,
            bytes: generatedFileBytes(5n, part * PART, PART),
          }).then((answer) => answer._cons),
          new Promise((resolve) => {
            const timer = setTimeout(() => resolve("no answer"), 20_000);
            timers.push(timer);
          }),
        ])),
    );
    for (const timer of timers) clearTimeout(timer);
    assertEquals(answers, Array(6).fill("boolTrue"));
  } finally {
    sender.close();
    await emulator.close();
  }
});
