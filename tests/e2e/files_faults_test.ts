// Downloads through `serve --files DIR` when Telegram makes them hard (issue #18): a file on
// another DC goes over that DC's media-only address; flood waits with slow answers; connections
// dropped mid-file; a file reference that expires mid-download; a download resumed from the .part
// file an interrupted one left. Every byte is checked against the generated file's SHA-256, and
// the emulator's upload.getFile calls are counted: nothing is asked much more than it needs.

import { assertEquals, assertStringIncludes } from "../assert.ts";
import {
  generatedFileBytes,
  generatedFileSha256,
} from "../../lib/emulator/files/generated_bytes.ts";
import {
  answerOf,
  fileMessage,
  type FilesWorld,
  type FilesWorldOptions,
  getFiles,
  hex,
  MiB,
  type RecordedCall,
  type Relay,
  sha256Of,
  startFilesWorld,
  startRelay,
} from "../support/files.ts";

type Line = Record<string, unknown>;
const FILE_ID = "7101";
const SEED = 7101n;

/** A world whose file FILE_ID of `size` bytes is on DC 3 (Alice's home is DC 2). */
function withFile(size: number, options: FilesWorldOptions = {}): Promise<FilesWorld> {
  return startFilesWorld({
    files: true,
    ...options,
    world: { files: [{ id: FILE_ID, size, dc: 3 }], ...options.world },
  });
}

/** Downloads the file's message to `to` in the world's directory; returns the final line. */
async function download(world: FilesWorld, id: number, spec: Line): Promise<Line> {
  await world.alice.send({ id, download: { progress: 0, ...spec } });
  return await answerOf(world.alice, id, 180_000);
}

/** Checks the downloaded file against the generated one, byte for byte (by SHA-256). */
async function assertWhole(world: FilesWorld, done: Line, to: string, size: number) {
  const expected = hex(generatedFileSha256(SEED, size));
  assertEquals(done.download, {
    size,
    sha256: expected,
    mime_type: "application/octet-stream",
    file_name: `file-${FILE_ID}.bin`,
    path: to,
  }, JSON.stringify(done));
  assertEquals(await sha256Of(`${world.dir}/${to}`), expected);
}

/** How many times each offset was answered by upload.getFile on DC 3. */
function answeredByOffset(calls: RecordedCall[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const call of getFiles(calls, 3)) {
    counts.set(call.offset!, (counts.get(call.offset!) ?? 0) + 1);
  }
  return counts;
}

/** Every 1 MiB part of a file of `size` bytes answered, each exactly once. */
function assertEachPartOnce(calls: RecordedCall[], size: number) {
  const counts = answeredByOffset(calls);
  const parts = Math.ceil(size / MiB);
  assertEquals(
    [...counts.keys()].sort((a, b) => a - b),
    Array.from({ length: parts }, (_, index) => index * MiB),
  );
  assertEquals([...counts.values()].every((count) => count === 1), true, `${[...counts]}`);
}

Deno.test("a file on another DC is downloaded over that DC's media-only address", async () => {
  const size = 8 * MiB + 3;
  const relays: Relay[] = [];
  const world = await withFile(size, {
    // Relays in front of DC 3's two addresses, as the config lists them, count what goes where.
    beforeServe: (emulator) => {
      const media = startRelay(emulator.mediaDcs[2].port);
      const main = startRelay(emulator.dcs[2].port);
      relays.push(media, main);
      emulator.world.fileService.mediaPorts.set(3, media.port);
      // help.getConfig lists the DCs' addresses from this very list.
      emulator.dcs[2].port = main.port;
    },
  });
  const [media, main] = relays;
  try {
    const { peer, id } = await fileMessage(world.alice, FILE_ID);
    const done = await download(world, 20, { message: { peer, id }, to: "media.bin" });
    await assertWhole(world, done, "media.bin", size);
    assertEachPartOnce(world.calls, size);
    assertEquals(getFiles(world.calls, 2).length, 0);
    // The file's bytes came through the media-only address; DC 3's main address carried the
    // authorization and no more than a sliver of the file.
    console.log(
      `  media-only: ${media.accepted} connections, ${media.toClients} bytes; main: ` +
        `${main.accepted} connections, ${main.toClients} bytes`,
    );
    assertEquals(media.accepted >= 1 && media.toClients >= size, true, JSON.stringify(media));
    assertEquals(main.toClients < MiB, true, JSON.stringify(main));
  } finally {
    await world.close();
    for (const relay of relays) await relay.close();
  }
});

Deno.test("flood waits on file requests, with slow answers: every byte arrives, each part answered once", async () => {
  const size = 6 * MiB + 11;
  const world = await withFile(size, {
    // One request in flight per key: the download window starts at two parts, so the second
    // of the first two (sent together, each answer held 100 ms) is told to wait.
    world: { fileFlood: 1, fileFloodSeconds: 1, fileLatencyMs: 100 },
  });
  try {
    const { peer, id } = await fileMessage(world.alice, FILE_ID);
    const done = await download(world, 21, { message: { peer, id }, to: "flood.bin" });
    await assertWhole(world, done, "flood.bin", size);
    const floods = world.calls.filter((call) =>
      call.method === "upload.getFile" && call.error?.startsWith("FLOOD_WAIT_")
    );
    console.log(`  ${floods.length} FLOOD_WAIT answers`);
    // The limit was hit, and waited out.
    assertEquals(floods.length >= 1, true, "no flood wait was answered");
    assertEachPartOnce(world.calls, size);
  } finally {
    await world.close();
  }
});

Deno.test("connections dropped mid-file: every byte arrives, and parts are asked again only for the drops", async () => {
  const size = 16 * MiB + 7;
  // Answers held a little, so that a drop loses the parts in flight on the connection.
  const world = await withFile(size, { world: { fileLatencyMs: 20 } });
  try {
    const { peer, id } = await fileMessage(world.alice, FILE_ID);
    // From now on DC 3 (main and media-only address alike) drops each connection after every
    // fifth message it receives.
    world.emulator.contexts[2].faults.dropEvery = 5;
    const done = await download(world, 22, { message: { peer, id }, to: "dropped.bin" });
    await assertWhole(world, done, "dropped.bin", size);
    const drops = world.log.filter((line) => line.startsWith("dc3: dropping the connection"));
    const counts = answeredByOffset(world.calls);
    const parts = Math.ceil(size / MiB);
    const asked = getFiles(world.calls, 3).length;
    console.log(
      `  ${drops.length} drops, ${asked} parts answered for ${parts}, at most ${
        Math.max(...counts.values())
      } times one part`,
    );
    assertEquals(drops.length >= 1, true, "no connection was dropped");
    assertEquals(counts.size, parts);
    // A drop loses at most the parts in flight on it (six at most in the download window).
    assertEquals(asked <= parts + drops.length * 6, true, `${asked} answers for ${parts} parts`);
  } finally {
    await world.close();
  }
});

/**
 * Moves the emulator's clock 25 s ahead once DC 3 has answered `after` parts (of the world put in
 * `holder.world` once it started).
 */
function expireAfter(after: number, holder: { world?: FilesWorld }) {
  let moved = false;
  return (call: RecordedCall, calls: RecordedCall[]) => {
    if (moved || !holder.world || call.method !== "upload.getFile") return;
    if (getFiles(calls, 3).length < after) return;
    moved = true;
    // Past the references' 20 s lifetime, and within MTProto's own time window (30 s ahead).
    holder.world.ahead.ms += 25_000;
  };
}

Deno.test("a file reference that expires mid-download is fetched afresh from the message", async () => {
  const size = 12 * MiB + 5;
  const holder: { world?: FilesWorld } = {};
  const world = holder.world = await withFile(size, {
    world: { fileRefTtlSeconds: 20 },
    onCall: expireAfter(3, holder),
  });
  try {
    const { peer, id } = await fileMessage(world.alice, FILE_ID);
    const fetched = () =>
      world.calls.filter((call) => call.method === "messages.getMessages").length;
    const before = fetched();
    const done = await download(world, 23, { message: { peer, id }, to: "fresh.bin" });
    await assertWhole(world, done, "fresh.bin", size);
    const expired = world.calls.filter((call) => call.error === "FILE_REFERENCE_EXPIRED");
    assertEquals(expired.length >= 1, true, "no reference expired");
    // The message was fetched for the download, and again for a fresh reference.
    assertEquals(fetched() - before >= 2, true, `getMessages ${fetched() - before} times`);
    assertEquals(answeredByOffset(world.calls).size, Math.ceil(size / MiB));
  } finally {
    await world.close();
  }
});

Deno.test("a file reference that expires mid-download by location alone ends it with an error naming FILE_REFERENCE_EXPIRED and what to send", async () => {
  const size = 12 * MiB + 5;
  const holder: { world?: FilesWorld } = {};
  const world = holder.world = await withFile(size, {
    world: { fileRefTtlSeconds: 20 },
    onCall: expireAfter(3, holder),
  });
  try {
    const { media } = await fileMessage(world.alice, FILE_ID);
    const document = media.document as Line;
    const location = {
      _cons: "inputDocumentFileLocation",
      id: document.id,
      access_hash: document.access_hash,
      file_reference: document.file_reference,
      thumb_size: "",
    };
    const failed = await download(world, 24, { location, to: "stale.bin" });
    assertEquals(failed.download, undefined, JSON.stringify(failed));
    assertStringIncludes(JSON.stringify(failed), "FILE_REFERENCE_EXPIRED");
    assertStringIncludes(String(failed.msg), 'download by "message"');
    // Some parts came before the reference expired.
    assertEquals(getFiles(world.calls, 3).length >= 3, true);
  } finally {
    await world.close();
  }
});

Deno.test("resume: a download continues the .part file an interrupted one left, asking only for the rest", async () => {
  const size = 6 * MiB + 5;
  const world = await withFile(size);
  try {
    const { peer, id } = await fileMessage(world.alice, FILE_ID);
    // An interrupted download left 2.5 MiB: two whole parts and half of the third.
    await Deno.writeFile(
      `${world.dir}/resumed.bin.part`,
      generatedFileBytes(SEED, 0, 2.5 * MiB),
    );
    const done = await download(world, 25, {
      message: { peer, id },
      to: "resumed.bin",
      resume: true,
    });
    await assertWhole(world, done, "resumed.bin", size);
    assertEquals(
      [...Deno.readDirSync(world.dir)].map((entry) => entry.name),
      ["resumed.bin"],
    );
    // It went on from the last whole part: the first two were not asked for again.
    const offsets = getFiles(world.calls, 3).map((call) => call.offset!).sort((a, b) => a - b);
    assertEquals(offsets, [2, 3, 4, 5, 6].map((part) => part * MiB));
  } finally {
    await world.close();
  }
});
