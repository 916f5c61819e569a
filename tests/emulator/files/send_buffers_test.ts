/**
 * The emulator's big messages are made in buffers used again once the socket wrote them: a
 * buffer is never lent twice at once, comes back only through the bytes written from it, and
 * parts downloaded many at a time over several connections are each the file's own bytes.
 */

import assert from "node:assert/strict";
import { assertEquals } from "../../assert.ts";
import type { TlObject } from "../../../lib/tl/codec.ts";
import { startEmulator } from "../../../lib/emulator/emulator.ts";
import { generatedFileBytes } from "../../../lib/emulator/files/generated_bytes.ts";
import { releaseSendBuffer, takeSendBuffer } from "../../../lib/emulator/files/send_buffers.ts";
import { emulatedSender, testCodec as codec } from "../../support/emulated_sender.ts";
import { rawCaller, signInWithCode } from "../../support/raw_calls.ts";

const MiB = 1 << 20;

Deno.test("a send buffer is lent to one message at a time and comes back once written", () => {
  const first = takeSendBuffer(MiB + 100);
  const second = takeSendBuffer(MiB + 100);
  assert.notEqual(first.buffer, second.buffer);
  // Bytes that are no lent buffer's, and a buffer given back twice, change nothing.
  releaseSendBuffer(new Uint8Array(MiB + 100));
  releaseSendBuffer(first.subarray(4));
  releaseSendBuffer(first);
  const third = takeSendBuffer(MiB);
  assertEquals(third.buffer, first.buffer);
  assertEquals(third.length, MiB);
  // Lent again: not handed out while the third message holds it.
  assert.notEqual(takeSendBuffer(MiB).buffer, first.buffer);
  // A thumbnail's message is not made in a megabyte.
  releaseSendBuffer(third);
  assert.notEqual(takeSendBuffer(100_000).buffer, first.buffer);
});

Deno.test("parts downloaded many at a time on several connections are each the file's bytes", async () => {
  const size = 24 * MiB + 4096;
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: () => {},
    world: { homeDc: 1, files: [{ id: 5001, size, dc: 1 }] },
  });
  // Three connections (each signed in on a key of its own), each with its parts in flight.
  const senders = [1, 2, 3].map(() => emulatedSender(emulator, 1));
  try {
    const calls = senders.map((sender) => rawCaller(sender, codec));
    for (const call of calls) await signInWithCode(call, "+15550000001");
    const file = emulator.world.files.get(5001n)!;
    const location = {
      _cons: "inputDocumentFileLocation",
      id: file.id,
      access_hash: file.accessHash,
      file_reference: new Uint8Array(0),
      thumb_size: "",
    };
    const parts: Promise<void>[] = [];
    for (let offset = 0, n = 0; offset < size; offset += MiB, n++) {
      const call = calls[n % calls.length];
      parts.push((async () => {
        const part: TlObject = await call({
          _cons: "upload.getFile",
          location,
          offset,
          limit: MiB,
        });
        const expected = generatedFileBytes(5001n, offset, Math.min(MiB, size - offset));
        assertEquals((part.bytes as Uint8Array).toHex() === expected.toHex(), true, `at ${offset}`);
      })());
    }
    await Promise.all(parts);
  } finally {
    for (const sender of senders) sender.close();
    await emulator.close();
  }
});
