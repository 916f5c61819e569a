/**
 * Telegram's part rules, by Telegram's error names: the ranges upload.getFile accepts (with and
 * without `precise`), and the parts upload.saveFilePart / upload.saveBigFilePart accept, in any
 * order, and what sending an incomplete or corrupt upload answers.
 */

import { createHash } from "node:crypto";
import { assertEquals } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { generatedFileBytes } from "../../lib/emulator/files/generated_bytes.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signInWithCode } from "../support/raw_calls.ts";

const KiB = 1024, MiB = 1 << 20;
type Call = (request: TlObject) => Promise<TlObject>;

/** An emulator with one generated 3 MiB document on DC 1, and Alice signed in there. */
async function withAlice(test: (call: Call, location: TlObject) => Promise<void>) {
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: () => {},
    world: { homeDc: 1, files: [{ id: 5001, size: 3 * MiB, dc: 1 }] },
  });
  const sender = emulatedSender(emulator, 1);
  const call = rawCaller(sender, codec);
  try {
    await signInWithCode(call, "+15550000001");
    const file = emulator.world.files.get(5001n)!;
    await test(call, {
      _cons: "inputDocumentFileLocation",
      id: file.id,
      access_hash: file.accessHash,
      file_reference: new Uint8Array(0),
      thumb_size: "",
    });
  } finally {
    sender.close();
    await emulator.close();
  }
}

Deno.test("upload.getFile takes Telegram's ranges only: 4 KiB steps, limits dividing 1 MiB, one 1 MiB window; precise relaxes them", async () => {
  await withAlice(async (call, location) => {
    const get = async (offset: number, limit: number, precise = false) => {
      const answer = await call({
        _cons: "upload.getFile",
        ...(precise ? { precise: true } : {}),
        location,
        offset,
        limit,
      });
      return answer.error_message ?? (answer.bytes as Uint8Array).length;
    };
    assertEquals(await get(0, MiB), MiB);
    assertEquals(await get(MiB - 4 * KiB, 4 * KiB), 4 * KiB);
    assertEquals(await get(2 * KiB, 4 * KiB), "OFFSET_INVALID");
    assertEquals(await get(0, 12 * KiB), "LIMIT_INVALID", "12 KiB does not divide 1 MiB");
    assertEquals(await get(0, 2 * MiB), "LIMIT_INVALID");
    assertEquals(await get(0, 0), "LIMIT_INVALID");
    assertEquals(await get(MiB - 4 * KiB, 8 * KiB), "LIMIT_INVALID", "crosses a 1 MiB boundary");
    assertEquals(await get(512 * KiB, MiB), "LIMIT_INVALID");
    // precise: 1 KiB steps and any limit up to 1 MiB, still inside one window.
    assertEquals(await get(3 * KiB, 5 * KiB, true), 5 * KiB);
    assertEquals(await get(MiB + KiB, MiB - KiB, true), MiB - KiB);
    assertEquals(await get(512, KiB, true), "OFFSET_INVALID");
    assertEquals(await get(MiB - KiB, 2 * KiB, true), "LIMIT_INVALID");
    // The bytes of a precise part are the file's.
    const part = await call({
      _cons: "upload.getFile",
      precise: true,
      location,
      offset: 3 * KiB,
      limit: 5 * KiB,
    });
    assertEquals(part.bytes, generatedFileBytes(5001n, 3 * KiB, 5 * KiB));
    // At the end: nothing past it.
    assertEquals(await get(3 * MiB, MiB), 0);
  });
});

Deno.test("upload parts: Telegram's sizes and counts, refused by name", async () => {
  await withAlice(async (call) => {
    const small = (file_part: number, bytes: number, file_id = 1n) =>
      call({ _cons: "upload.saveFilePart", file_id, file_part, bytes: new Uint8Array(bytes) });
    const big = (file_part: number, total: number, bytes: number, file_id = 2n) =>
      call({
        _cons: "upload.saveBigFilePart",
        file_id,
        file_part,
        file_total_parts: total,
        bytes: new Uint8Array(bytes),
      });
    const refusal = async (answer: Promise<TlObject>) => (await answer).error_message;
    assertEquals(await refusal(small(0, 512 * KiB + 1)), "FILE_PART_TOO_BIG");
    assertEquals(await refusal(small(0, 0)), "FILE_PART_EMPTY");
    assertEquals(await refusal(small(4000, KiB)), "FILE_PART_INVALID");
    assertEquals(await refusal(big(0, 4001, KiB)), "FILE_PARTS_INVALID");
    assertEquals(await refusal(big(3, 3, KiB)), "FILE_PART_INVALID");
    // A part followed by another must be a 1 KiB multiple dividing 512 KiB...
    assertEquals((await small(0, 3 * KiB, 3n))._cons, "boolTrue");
    assertEquals(await refusal(small(1, 3 * KiB, 3n)), "FILE_PART_SIZE_INVALID");
    // ...and every part but the last has the same size.
    assertEquals((await small(0, 64 * KiB, 4n))._cons, "boolTrue");
    assertEquals(await refusal(small(1, 128 * KiB, 4n)), "FILE_PART_SIZE_CHANGED");
    assertEquals((await small(1, 64 * KiB, 4n))._cons, "boolTrue");
    assertEquals((await small(2, 10, 4n))._cons, "boolTrue", "the last part may be shorter");
    // A total that changes.
    assertEquals((await big(0, 3, 64 * KiB, 5n))._cons, "boolTrue");
    assertEquals(await refusal(big(1, 4, 64 * KiB, 5n)), "FILE_PARTS_INVALID");
  });
});

Deno.test("uploads in any order, with totals unknown until the last part, send as the bytes uploaded; missing parts and bad checksums are named", async () => {
  await withAlice(async (call) => {
    const content = generatedFileBytes(9n, 0, 5 * 32 * KiB + 100);
    const partSize = 32 * KiB;
    const part = (index: number) => content.subarray(index * partSize, (index + 1) * partSize);
    const self = { _cons: "inputPeerSelf" };
    const send = (file: TlObject, random_id: bigint) =>
      call({
        _cons: "messages.sendMedia",
        peer: self,
        media: {
          _cons: "inputMediaUploadedDocument",
          file,
          mime_type: "application/octet-stream",
          attributes: [{ _cons: "documentAttributeFilename", file_name: "x.bin" }],
        },
        message: "",
        random_id,
      });
    // Small file, parts out of order: the short last one first.
    for (const index of [5, 2, 0, 4, 1]) {
      await call({
        _cons: "upload.saveFilePart",
        file_id: 10n,
        file_part: index,
        bytes: part(index),
      });
    }
    const md5 = createHash("md5").update(content).digest("hex");
    const input = { _cons: "inputFile", id: 10n, parts: 6, name: "x.bin", md5_checksum: md5 };
    assertEquals((await send(input, 1n)).error_message, "FILE_PART_3_MISSING");
    await call({ _cons: "upload.saveFilePart", file_id: 10n, file_part: 3, bytes: part(3) });
    const wrong = await send({ ...input, md5_checksum: "0".repeat(32) }, 2n);
    assertEquals(wrong.error_message, "MD5_CHECKSUM_INVALID");
    const sent = await send(input, 3n);
    const document = await downloadSent(call, sent, content.length);
    assertEquals(document, content);
    // Big file: total -1 until the last part says it; inputFileBig has no checksum.
    for (const index of [1, 0, 3, 2]) {
      await call({
        _cons: "upload.saveBigFilePart",
        file_id: 11n,
        file_part: index,
        file_total_parts: index === 5 ? 6 : -1,
        bytes: part(index),
      });
    }
    const bigInput = { _cons: "inputFileBig", id: 11n, parts: 6, name: "x.bin" };
    assertEquals((await send(bigInput, 4n)).error_message, "FILE_PART_4_MISSING");
    for (const index of [5, 4]) {
      await call({
        _cons: "upload.saveBigFilePart",
        file_id: 11n,
        file_part: index,
        file_total_parts: index === 5 ? 6 : -1,
        bytes: part(index),
      });
    }
    assertEquals((await send({ ...bigInput, parts: 7 }, 5n)).error_message, "FILE_PART_6_MISSING");
    assertEquals(await downloadSent(call, await send(bigInput, 6n), content.length), content);
  });
});

/** The document of a sent message, downloaded whole. */
async function downloadSent(call: Call, sent: TlObject, size: number): Promise<Uint8Array> {
  const update = (sent.updates as TlObject[]).find((u) => u._cons === "updateNewMessage")!;
  const document = ((update.message as TlObject).media as TlObject).document as TlObject;
  assertEquals(Number(document.size), size);
  const bytes = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += MiB) {
    const part = await call({
      _cons: "upload.getFile",
      location: {
        _cons: "inputDocumentFileLocation",
        id: document.id,
        access_hash: document.access_hash,
        file_reference: document.file_reference,
        thumb_size: "",
      },
      offset,
      limit: MiB,
    });
    bytes.set(part.bytes as Uint8Array, offset);
  }
  return bytes;
}
