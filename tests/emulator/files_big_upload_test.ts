/**
 * A big upload goes to a temporary file, not memory: Alice uploads it with
 * upload.saveBigFilePart (several parts in flight), sends it to Bob, and Bob downloads exactly
 * those bytes; the temporary file goes when the emulator stops.
 *
 * 48 MB by default (past the 10 MiB of small uploads, with a short last part): the path does not
 * depend on the size, and every megabyte costs the suite four AES-IGE passes in one process.
 * MTPROTO2JSON_UPLOAD_TEST_MB=300 runs it at 300 MB (about a minute on a busy 2-core machine).
 */

import { createHash } from "node:crypto";
import { assertEquals } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import {
  generatedFileBytes,
  generatedFileSha256,
} from "../../lib/emulator/files/generated_bytes.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signIn, signInWithCode } from "../support/raw_calls.ts";

const SIZE = Number(Deno.env.get("MTPROTO2JSON_UPLOAD_TEST_MB") ?? 48) * 1_000_000;
const PART = 512 * 1024;
const IN_FLIGHT = 8;
/** The uploaded bytes: a generated file's, so that nothing here holds them either. */
const SEED = 424242n;

/** Runs `task(i)` for i in 0..count-1, `width` at a time. */
async function inParallel(count: number, width: number, task: (index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await task(next++);
  }));
}

/** Temporary files the emulator made for uploads, with their sizes. */
function uploadFiles(): Map<string, number> {
  const directory = Deno.env.get("TMPDIR") ?? "/tmp";
  const found = new Map<string, number>();
  for (const entry of Deno.readDirSync(directory)) {
    if (!entry.name.startsWith("mtproto2json-upload-")) continue;
    try {
      found.set(`${directory}/${entry.name}`, Deno.statSync(`${directory}/${entry.name}`).size);
    } catch {
      // removed meanwhile by another test's emulator
    }
  }
  return found;
}

Deno.test(`Alice uploads ${SIZE / 1e6} MB, sends it to Bob, and Bob downloads exactly those bytes; the upload lived in a temporary file`, async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const alice = emulatedSender(emulator, 1), bob = emulatedSender(emulator, 1);
  const asAlice = rawCaller(alice, codec), asBob = rawCaller(bob, codec);
  let uploadPath: string | undefined;
  try {
    await signInWithCode(asAlice, "+15550000001");
    await signIn(asBob, "+15550000002", "hunter2");
    const parts = Math.ceil(SIZE / PART);
    await inParallel(parts, IN_FLIGHT, async (part) => {
      const saved = await asAlice({
        _cons: "upload.saveBigFilePart",
        file_id: 99n,
        file_part: part,
        file_total_parts: parts,
        bytes: generatedFileBytes(SEED, part * PART, Math.min(PART, SIZE - part * PART)),
      });
      assertEquals(saved._cons, "boolTrue", JSON.stringify(saved));
    });
    const bobUser = emulator.world.users.get(1000002)!;
    const sent = await asAlice({
      _cons: "messages.sendMedia",
      peer: { _cons: "inputPeerUser", user_id: bobUser.id, access_hash: bobUser.accessHash },
      media: {
        _cons: "inputMediaUploadedDocument",
        file: { _cons: "inputFileBig", id: 99n, parts, name: "big.bin" },
        mime_type: "application/octet-stream",
        attributes: [{ _cons: "documentAttributeFilename", file_name: "big.bin" }],
      },
      message: "a big file",
      random_id: 1n,
    });
    uploadPath = [...uploadFiles()].find(([, size]) => size === SIZE)?.[0];
    assertEquals(uploadPath !== undefined, true, "a temporary file of the upload's size holds it");
    const update = (sent.updates as TlObject[]).find((u) => u._cons === "updateNewMessage")!;
    const document = ((update.message as TlObject).media as TlObject).document as TlObject;
    assertEquals(Number(document.size), SIZE);
    const location = {
      _cons: "inputDocumentFileLocation",
      id: document.id,
      access_hash: document.access_hash,
      file_reference: document.file_reference,
      thumb_size: "",
    };
    // Parts arrive out of order; each is hashed once those before it are, then let go.
    const window = 1 << 20;
    const hasher = createHash("sha256");
    const waiting = new Map<number, Uint8Array>();
    let hashed = 0;
    await inParallel(Math.ceil(SIZE / window), IN_FLIGHT, async (index) => {
      const part = await asBob({
        _cons: "upload.getFile",
        location,
        offset: index * window,
        limit: window,
      });
      waiting.set(index, part.bytes as Uint8Array);
      for (let next; (next = waiting.get(hashed)); waiting.delete(hashed++)) hasher.update(next);
    });
    assertEquals(hashed, Math.ceil(SIZE / window));
    assertEquals(new Uint8Array(hasher.digest()), generatedFileSha256(SEED, SIZE));
  } finally {
    alice.close();
    bob.close();
    await emulator.close();
  }
  assertEquals(uploadFiles().has(uploadPath!), false, "the emulator removed it when it stopped");
});
