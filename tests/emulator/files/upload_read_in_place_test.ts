/**
 * The emulator reads an upload's part straight into the frame it is gathered in (the server
 * transport's readTarget), deobfuscating it where it lies: over every transport, parts several
 * reads long arrive whole and unchanged (a changed byte would fail the message's msg_key, and
 * the part would never be answered), and the file they make downloads as the same bytes.
 */

import { createHash } from "node:crypto";
import { assertEquals } from "../../assert.ts";
import type { TlObject } from "../../../lib/tl/codec.ts";
import { startEmulator } from "../../../lib/emulator/emulator.ts";
import { generatedFileBytes } from "../../../lib/emulator/files/generated_bytes.ts";
import { emulatedSender, testCodec as codec } from "../../support/emulated_sender.ts";
import { rawCaller, signInWithCode } from "../../support/raw_calls.ts";
import { EVERY_TRANSPORT } from "../../support/transports.ts";

const PART = 512 * 1024;
const PARTS = 3;

Deno.test("upload parts read in place arrive whole over every transport, obfuscated or not", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  try {
    for (const [index, transport] of EVERY_TRANSPORT.entries()) {
      const sender = emulatedSender(emulator, 1, { transport });
      const label = `${transport.kind}${transport.obfuscated ? " obfuscated" : ""}`;
      try {
        const call = rawCaller(sender, codec);
        await signInWithCode(call, "+15550000001");
        const seed = 900n + BigInt(index);
        const fileId = 7000n + BigInt(index);
        // The parts in flight together: reads of one part's frame interleave with the next's.
        const saved = await Promise.all(
          Array.from({ length: PARTS }, (_, part) =>
            call({
              _cons: "upload.saveFilePart",
              file_id: fileId,
              file_part: part,
              bytes: generatedFileBytes(seed, part * PART, PART),
            })),
        );
        assertEquals(saved.map((answer) => answer._cons), Array(PARTS).fill("boolTrue"), label);
        const self = await call({
          _cons: "messages.sendMedia",
          peer: { _cons: "inputPeerSelf" },
          media: {
            _cons: "inputMediaUploadedDocument",
            file: { _cons: "inputFile", id: fileId, parts: PARTS, name: "a.bin", md5_checksum: "" },
            mime_type: "application/octet-stream",
            attributes: [],
          },
          message: "",
          random_id: seed,
        });
        const update = (self.updates as TlObject[]).find((u) => u._cons === "updateNewMessage")!;
        const document = ((update.message as TlObject).media as TlObject).document as TlObject;
        const hasher = createHash("sha256");
        for (let offset = 0; offset < PARTS * PART; offset += PART) {
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
            limit: PART,
          });
          hasher.update(part.bytes as Uint8Array);
        }
        const expected = createHash("sha256").update(generatedFileBytes(seed, 0, PARTS * PART));
        assertEquals(hasher.digest("hex"), expected.digest("hex"), label);
      } finally {
        sender.close();
      }
    }
  } finally {
    await emulator.close();
  }
});
