/**
 * Generated files (world option `files`): a document or photo of any size, found as a message
 * from Bob in Alice's history, downloads as exactly the bytes `generatedFileBytes` computes, part
 * by part, on the DC that holds it.
 */

import { createHash } from "node:crypto";
import { assertEquals } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import {
  generatedFileBytes,
  generatedFileSha256,
  photoSizeSeed,
} from "../../lib/emulator/files/generated_bytes.ts";
import { generatedPhotoSizes } from "../../lib/emulator/files/generated_files.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signInWithCode } from "../support/raw_calls.ts";

const MiB = 1 << 20;
const DOCUMENT_SIZE = 3 * MiB + 1000;

/** Alice's history with Bob, newest first, as messages.getHistory gives it. */
async function historyWithBob(call: (request: TlObject) => Promise<TlObject>) {
  const bob = await call({
    _cons: "contacts.resolveUsername",
    username: "bob_example",
  });
  const user = (bob.users as TlObject[]).find((candidate) => Number(candidate.id) === 1000002)!;
  const history = await call({
    _cons: "messages.getHistory",
    peer: { _cons: "inputPeerUser", user_id: user.id, access_hash: user.access_hash },
    offset_id: 0,
    offset_date: 0,
    add_offset: 0,
    limit: 20,
    max_id: 0,
    min_id: 0,
    hash: 0n,
  });
  return history.messages as TlObject[];
}

Deno.test("a generated document is a message from Bob with a real document, and downloads whole, part by part", async () => {
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: () => {},
    world: { homeDc: 1, files: [{ id: "5001", size: DOCUMENT_SIZE, dc: 1 }] },
  });
  const sender = emulatedSender(emulator, 1);
  const call = rawCaller(sender, codec);
  try {
    await signInWithCode(call, "+15550000001");
    const message = (await historyWithBob(call)).find((m) => m.message === "file 5001")!;
    assertEquals(Number((message.from_id as TlObject).user_id), 1000002);
    const document = (message.media as TlObject).document as TlObject;
    assertEquals(
      [document.id, Number(document.size), document.dc_id, document.mime_type],
      [5001n, DOCUMENT_SIZE, 1, "application/octet-stream"],
    );
    assertEquals(document.attributes, [{
      _cons: "documentAttributeFilename",
      file_name: "file-5001.bin",
    }]);
    assertEquals((document.file_reference as Uint8Array).length > 0, true);
    const location = {
      _cons: "inputDocumentFileLocation",
      id: document.id,
      access_hash: document.access_hash,
      file_reference: document.file_reference,
      thumb_size: "",
    };
    const hasher = createHash("sha256");
    const lengths: number[] = [];
    for (let offset = 0; offset < DOCUMENT_SIZE + MiB; offset += MiB) {
      const part = await call({ _cons: "upload.getFile", location, offset, limit: MiB });
      const bytes = part.bytes as Uint8Array;
      lengths.push(bytes.length);
      hasher.update(bytes);
    }
    // Whole megabytes, the 1000 bytes left, then nothing past the end.
    assertEquals(lengths, [MiB, MiB, MiB, 1000, 0]);
    assertEquals(new Uint8Array(hasher.digest()), generatedFileSha256(5001n, DOCUMENT_SIZE));
    // A part from the middle is the same bytes.
    const middle = await call({
      _cons: "upload.getFile",
      location,
      offset: MiB + 4096,
      limit: 8192,
    });
    assertEquals(middle.bytes, generatedFileBytes(5001n, MiB + 4096, 8192));
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("a generated photo has four sizes, each its own bytes: the largest is not a thumbnail", async () => {
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: () => {},
    world: { homeDc: 1, files: [{ id: 6001, size: 200_000, dc: 1, kind: "photo" }] },
  });
  const sender = emulatedSender(emulator, 1);
  const call = rawCaller(sender, codec);
  try {
    await signInWithCode(call, "+15550000001");
    const message = (await historyWithBob(call)).find((m) => m.message === "file 6001")!;
    const photo = (message.media as TlObject).photo as TlObject;
    const sizes = photo.sizes as TlObject[];
    const expected = generatedPhotoSizes(200_000);
    assertEquals(
      sizes.map((size) => [size.type, size.w, size.h, size.size]),
      expected.map((size) => [size.type, size.w, size.h, size.size]),
    );
    const download = async (type: string, size: number) => {
      const location = {
        _cons: "inputPhotoFileLocation",
        id: photo.id,
        access_hash: photo.access_hash,
        file_reference: photo.file_reference,
        thumb_size: type,
      };
      const part = await call({ _cons: "upload.getFile", location, offset: 0, limit: 256 * 1024 });
      assertEquals(part.bytes, generatedFileBytes(photoSizeSeed(6001n, type), 0, size));
      return part.bytes as Uint8Array;
    };
    const largest = await download("y", 200_000);
    const thumb = await download("s", expected[0].size);
    assertEquals(largest.subarray(0, thumb.length).toHex() === thumb.toHex(), false);
    // A size the photo does not have, and a document location for a photo, are refused.
    const missing = await call({
      _cons: "upload.getFile",
      location: {
        _cons: "inputPhotoFileLocation",
        id: photo.id,
        access_hash: photo.access_hash,
        file_reference: photo.file_reference,
        thumb_size: "w",
      },
      offset: 0,
      limit: 4096,
    });
    assertEquals(missing.error_message, "LOCATION_INVALID");
    const asDocument = await call({
      _cons: "upload.getFile",
      location: {
        _cons: "inputDocumentFileLocation",
        id: photo.id,
        access_hash: photo.access_hash,
        file_reference: photo.file_reference,
        thumb_size: "",
      },
      offset: 0,
      limit: 4096,
    });
    assertEquals(asDocument.error_message, "LOCATION_INVALID");
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("generated bytes: the same from any offset, different from chunk to chunk and file to file", () => {
  const whole = generatedFileBytes(77n, 0, 2 * MiB + 10);
  for (const [offset, length] of [[0, 1], [3, 5], [MiB - 3, 7], [MiB + 1, 4097], [2 * MiB, 10]]) {
    assertEquals(generatedFileBytes(77n, offset, length), whole.subarray(offset, offset + length));
  }
  const into = new Uint8Array(MiB);
  assertEquals(generatedFileBytes(77n, 4096, 1024, into), whole.subarray(4096, 5120));
  const first = whole.subarray(0, 1024).toHex(), second = whole.subarray(MiB, MiB + 1024).toHex();
  assertEquals(first === second, false);
  assertEquals(generatedFileBytes(78n, 0, 1024).toHex() === first, false);
});
