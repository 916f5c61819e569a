/**
 * File references that expire (`fileRefTtlSeconds`): a reference handed out with a message works
 * until it is older than the lifetime, then answers FILE_REFERENCE_EXPIRED, and fetching the
 * message again hands out a fresh one; and upload.getFileHashes for any file.
 */

import { assertEquals } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { sha256 } from "../../lib/crypto/hash.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { generatedFileBytes } from "../../lib/emulator/files/generated_bytes.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signInWithCode } from "../support/raw_calls.ts";
import { FakeClock } from "../support/fake_clock.ts";

const MiB = 1 << 20;

Deno.test("an old file reference answers FILE_REFERENCE_EXPIRED; messages fetched again carry fresh ones", async () => {
  const clock = new FakeClock();
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: () => {},
    clock,
    world: {
      homeDc: 1,
      fileRefTtlSeconds: 5,
      files: [{ id: 5001, size: 10_000, dc: 1 }, { id: 5002, size: 10_000, dc: 1 }],
    },
  });
  const sender = emulatedSender(emulator, 1);
  const call = rawCaller(sender, codec);
  try {
    await signInWithCode(call, "+15550000001");
    const message = emulator.world.messages.find((candidate) => candidate.text === "file 5001")!;
    const fetch = async (how: "getMessages" | "getHistory") => {
      const answer = how === "getMessages"
        ? await call({
          _cons: "messages.getMessages",
          id: [{ _cons: "inputMessageID", id: message.id }],
        })
        : await call({
          _cons: "messages.getHistory",
          peer: { _cons: "inputPeerUser", user_id: 1000002, access_hash: bobHash },
          offset_id: message.id + 1,
          offset_date: 0,
          add_offset: 0,
          limit: 1,
          max_id: 0,
          min_id: 0,
          hash: 0n,
        });
      const found = (answer.messages as TlObject[])[0];
      return (found.media as TlObject).document as TlObject;
    };
    const bobHash = emulator.world.users.get(1000002)!.accessHash;
    const get = (document: TlObject, reference = document.file_reference) =>
      call({
        _cons: "upload.getFile",
        location: {
          _cons: "inputDocumentFileLocation",
          id: document.id,
          access_hash: document.access_hash,
          file_reference: reference,
          thumb_size: "",
        },
        offset: 0,
        limit: 4096,
      });
    const document = await fetch("getMessages");
    assertEquals((await get(document)).bytes, generatedFileBytes(5001n, 0, 4096));
    assertEquals((await get(document, new Uint8Array(0))).error_message, "FILE_REFERENCE_EMPTY");
    const other = emulator.world.files.get(5002n)!.reference!();
    assertEquals((await get(document, other)).error_message, "FILE_REFERENCE_INVALID");
    await clock.advance(5_000);
    assertEquals((await get(document))._cons, "upload.file", "5 s old: still valid");
    await clock.advance(1_000);
    assertEquals((await get(document)).error_message, "FILE_REFERENCE_EXPIRED");
    for (const how of ["getMessages", "getHistory"] as const) {
      const fresh = await fetch(how);
      assertEquals((await get(fresh))._cons, "upload.file", `a fresh reference from ${how}`);
    }
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("upload.getFileHashes: SHA-256 of 128 KiB windows, eight from the window holding the offset", async () => {
  const size = MiB + 300_000;
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: () => {},
    world: { homeDc: 1, files: [{ id: 5001, size, dc: 1 }] },
  });
  const sender = emulatedSender(emulator, 1);
  const call = rawCaller(sender, codec);
  try {
    await signInWithCode(call, "+15550000001");
    const file = emulator.world.files.get(5001n)!;
    const hashes = async (offset: number) => {
      const answer = await call({
        _cons: "upload.getFileHashes",
        location: {
          _cons: "inputDocumentFileLocation",
          id: file.id,
          access_hash: file.accessHash,
          file_reference: new Uint8Array(0),
          thumb_size: "",
        },
        offset,
      });
      return (answer.items as TlObject[]).map((
        hash,
      ) => [Number(hash.offset), hash.limit, hash.hash]);
    };
    const window = 131072;
    const expected = (start: number, limit: number) => [
      start,
      limit,
      sha256(generatedFileBytes(5001n, start, limit)),
    ];
    const first = await hashes(0);
    assertEquals(first, Array.from({ length: 8 }, (_, i) => expected(i * window, window)));
    assertEquals(await hashes(MiB + 5), [
      expected(MiB, window),
      expected(MiB + window, window),
      expected(MiB + 2 * window, 300_000 - 2 * window),
    ]);
    assertEquals(await hashes(2 * MiB), [], "past the end");
  } finally {
    sender.close();
    await emulator.close();
  }
});
