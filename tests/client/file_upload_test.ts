// An upload as the client makes it: a file read part by part, saved on the home DC's file
// connections, sent as a document; the document downloads as the same bytes. Small files carry
// their MD5; a stream of unknown size is a big file whose last part tells the count.

import {
  collectBytes as collect,
  emulatorClient,
  recordCalls,
} from "../support/emulated_client.ts";
import { createHash } from "node:crypto";
import { assertEquals, assertRejects } from "../assert.ts";
import { downloadFile } from "../../lib/client/file_download.ts";
import { UploadError, uploadFile } from "../../lib/client/file_upload.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { generatedFileBytes } from "../../lib/emulator/files/generated_bytes.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { signIn } from "../support/raw_calls.ts";

const MiB = 1 << 20;

/** `size` bytes in uneven chunks, as a file or a pipe gives them; counts what was read. */
function source(seed: bigint, size: number, read = { bytes: 0 }) {
  return (async function* () {
    for (let at = 0; at < size;) {
      const length = Math.min(size - at, 100_000 + (at % 77_777));
      read.bytes += length;
      yield generatedFileBytes(seed, at, length);
      at += length;
    }
  })();
}

/**
 * The same bytes in a file, given as its `readable`: a byte stream, which the upload reads
 * straight into its parts' buffers (and uses those again once parts are saved).
 */
async function fileSource(seed: bigint, size: number): Promise<ReadableStream<Uint8Array>> {
  const path = await Deno.makeTempFile({ prefix: "upload-test-" });
  try {
    using file = await Deno.open(path, { write: true });
    for (let at = 0; at < size; at += MiB) {
      await file.write(generatedFileBytes(seed, at, Math.min(MiB, size - at)));
    }
    return (await Deno.open(path)).readable;
  } finally {
    await Deno.remove(path);
  }
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

Deno.test("uploads big, small and of unknown size are sent as documents that download as the same bytes", async () => {
  const emulator = await startEmulator({ port: 0, log: () => {}, world: { homeDc: 2 } });
  const calls = recordCalls(emulator);
  const client = emulatorClient(emulator, 2);
  try {
    assertEquals((await signIn((r) => client.call(r), "+15550000001"))._cons, "auth.authorization");
    const bob = await client.call({ _cons: "contacts.resolveUsername", username: "bob_example" });
    const user = (bob.users as TlObject[]).find((u) => u.id === 1000002)!;
    const peer = {
      _cons: "inputPeerUser",
      user_id: 1000002,
      access_hash: JSON.stringify(user.access_hash),
    };
    const cases = [
      { name: "big.bin", seed: 11n, size: 30 * MiB + 5, known: true, cons: "inputFileBig" },
      { name: "small.bin", seed: 12n, size: 3 * MiB + 7, known: true, cons: "inputFile" },
      { name: "stream.bin", seed: 13n, size: 12 * MiB, known: false, cons: "inputFileBig" },
      // From files: more parts than the window, so that parts are cut into saved parts' buffers.
      { name: "file.bin", seed: 15n, size: 20 * MiB + 5, known: true, cons: "inputFileBig" },
      { name: "file-small.bin", seed: 16n, size: 3 * MiB + 7, known: true, cons: "inputFile" },
      { name: "file-stream.bin", seed: 17n, size: 9 * MiB + 3, known: false, cons: "inputFileBig" },
    ];
    for (const { name, seed, size, known, cons } of cases) {
      calls.length = 0;
      const read = { bytes: 0 };
      let progress = 0;
      const fromFile = name.startsWith("file");
      const file = await uploadFile(
        client,
        fromFile ? await fileSource(seed, size) : source(seed, size, read),
        { name, ...(known ? { size } : {}), onProgress: (saved) => progress = saved },
      );
      // A file is read by the upload itself (its parts and the download below check its bytes);
      // a stream counts what it gave.
      assertEquals([file._cons, progress], [cons, size], name);
      if (!fromFile) assertEquals(read.bytes, size, name);
      const parts = Math.ceil(size / (512 * 1024));
      assertEquals(file.parts, parts, name);
      // Every part saved once, on the home DC.
      const saves = calls.filter((c) => /upload\.save(Big)?FilePart$/.test(c));
      assertEquals([saves.length, saves.every((c) => c.startsWith("dc2 "))], [parts, true], name);
      const sent = await client.call({
        _cons: "messages.sendMedia",
        peer,
        media: {
          _cons: "inputMediaUploadedDocument",
          file: JSON.parse(JSON.stringify(file, (_k, v) => typeof v === "bigint" ? String(v) : v)),
          mime_type: "application/octet-stream",
          attributes: [{ _cons: "documentAttributeFilename", file_name: name }],
        },
        message: "",
        random_id: String(seed),
      });
      const update = (sent.updates as TlObject[] | undefined)
        ?.find((u) => u._cons === "updateNewMessage");
      assertEquals(update !== undefined, true, JSON.stringify(sent).slice(0, 400));
      const document = client.native((update!.message as TlObject).media as TlObject)
        .document as TlObject;
      assertEquals(Number(document.size), size, name);
      const back = await collect(downloadFile(client, {
        location: {
          _cons: "inputDocumentFileLocation",
          id: document.id,
          access_hash: document.access_hash,
          file_reference: document.file_reference,
          thumb_size: "",
        },
        dc: document.dc_id as number,
        size,
      }));
      assertEquals(sha256(back), sha256(generatedFileBytes(seed, 0, size)), name);
    }
    await assertRejects(
      () => uploadFile(client, source(14n, 0), { name: "empty.bin" }),
      UploadError,
      "empty",
    );
  } finally {
    client.closeConnections();
    await emulator.close();
  }
});
