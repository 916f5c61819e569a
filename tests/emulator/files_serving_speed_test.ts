/**
 * How fast the emulator serves upload.getFile, printed, not asserted (speed is never a timed
 * assertion here): the handler alone, the handler and the TL encoding of its answer, and the
 * whole server path of an answer on a connection (the request decrypted, the answer encoded,
 * wrapped, AES-IGE encrypted and framed), next to AES-IGE alone on the same machine for scale.
 * What it asserts is that the bytes served are the file's.
 */

import { createHash } from "node:crypto";
import { assertEquals } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { igeEncrypt } from "../../lib/crypto/ige.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { ServerConnection } from "../../lib/emulator/server_connection.ts";
import type { CallContext } from "../../lib/emulator/server_connection.ts";
import { generatedFileSha256 } from "../../lib/emulator/files/generated_bytes.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signInWithCode } from "../support/raw_calls.ts";

const MiB = 1 << 20;
const SIZE = 48 * MiB;

/** MB/s of `bytes` in `ms`. */
const rate = (bytes: number, ms: number) => `${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;

Deno.test("upload.getFile serving speed, printed: handler, handler + encoding, the whole server path", async () => {
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: () => {},
    world: { homeDc: 1, files: [{ id: 5001, size: SIZE, dc: 1 }] },
  });
  const sender = emulatedSender(emulator, 1);
  const call = rawCaller(sender, codec);
  // The server's share of each answer: the time spent in ServerConnection.receiveBytes, which
  // handles a request to the encrypted, framed answer synchronously.
  const receive = ServerConnection.prototype.receiveBytes;
  let serverMs = 0;
  ServerConnection.prototype.receiveBytes = function (chunk: Uint8Array) {
    const start = performance.now();
    try {
      receive.call(this, chunk);
    } finally {
      serverMs += performance.now() - start;
    }
  };
  try {
    await signInWithCode(call, "+15550000001");
    const file = emulator.world.files.get(5001n)!;
    const request = (offset: number): TlObject => ({
      _cons: "upload.getFile",
      location: {
        _cons: "inputDocumentFileLocation",
        id: file.id,
        access_hash: file.accessHash,
        file_reference: new Uint8Array(0),
        thumb_size: "",
      },
      offset,
      limit: MiB,
    });

    // The whole server path, over a connection, eight parts in flight.
    const hasher = createHash("sha256");
    const started = performance.now();
    serverMs = 0;
    for (let offset = 0; offset < SIZE; offset += 8 * MiB) {
      const parts = await Promise.all(
        Array.from({ length: 8 }, (_, i) => call(request(offset + i * MiB))),
      );
      for (const part of parts) hasher.update(part.bytes as Uint8Array);
    }
    const wallMs = performance.now() - started;
    assertEquals(new Uint8Array(hasher.digest()), generatedFileSha256(5001n, SIZE));

    // The handler alone, and with the encoding of its answer, called as a DC calls it.
    const dc = emulator.contexts[0];
    const session = [...dc.sessions.values()].find((candidate) => candidate.key.userId)!;
    const context: CallContext = {
      key: session.key,
      messageKey: session.key,
      messageId: 0n,
      session,
      dc,
      answer: {},
    };
    const time = (run: (offset: number) => void) => {
      const start = performance.now();
      for (let offset = 0; offset < SIZE; offset += MiB) {
        context.answer = {};
        run(offset);
        context.answer.onSent?.();
      }
      return performance.now() - start;
    };
    const handlerMs = time((offset) => dc.call(request(offset), context));
    const encodedMs = time((offset) =>
      dc.codec.encodeType("upload.File", dc.call(request(offset), context))
    );
    const block = new Uint8Array(MiB), key = new Uint8Array(32), iv = new Uint8Array(32);
    const igeStart = performance.now();
    for (let i = 0; i < SIZE / MiB; i++) igeEncrypt(block, key, iv, block);
    const igeMs = performance.now() - igeStart;
    console.log(
      `upload.getFile, ${SIZE / MiB} parts of 1 MiB: handler ${rate(SIZE, handlerMs)}, ` +
        `handler + TL encoding ${rate(SIZE, encodedMs)}, whole server path ` +
        `${rate(SIZE, serverMs)} (client and server in one process: ${rate(SIZE, wallMs)}); ` +
        `AES-IGE alone here: ${rate(SIZE, igeMs)}`,
    );
  } finally {
    ServerConnection.prototype.receiveBytes = receive;
    sender.close();
    await emulator.close();
  }
});
