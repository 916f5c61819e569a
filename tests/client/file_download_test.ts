// A download as the client makes it: a generated file on another DC, in parts on that DC's file
// connections, handed over in order; a range; a reader that stops pulling; flood waits; an
// expired reference refreshed from its message.

import {
  collectBytes as collect,
  emulatorClient,
  recordCalls,
} from "../support/emulated_client.ts";
import { createHash } from "node:crypto";
import { assertEquals, assertRejects } from "../assert.ts";
import type { Client } from "../../lib/client/client.ts";
import { DownloadError, downloadFile } from "../../lib/client/file_download.ts";
import { type Emulator, startEmulator } from "../../lib/emulator/emulator.ts";
import type { WorldOptions } from "../../lib/emulator/world_types.ts";
import {
  generatedFileBytes,
  generatedFileSha256,
} from "../../lib/emulator/files/generated_bytes.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { systemClock } from "../../lib/io/clock.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { signIn } from "../support/raw_calls.ts";

const MiB = 1 << 20;
const SIZE = 5 * MiB + 12_345;

/** Alice signed in on DC 2, the file 7001 of SIZE bytes on DC 3; calls on each DC counted. */
async function setup(world: WorldOptions = {}, fake?: FakeClock) {
  // The emulator's wall time can be moved ahead (file references age by it).
  const ahead = { ms: 0 };
  const clock = fake ?? { ...systemClock, wall: () => systemClock.wall() + ahead.ms };
  const emulator = await startEmulator({
    port: 0,
    log: Deno.env.get("DEBUG_EMU") ? (line) => console.log("EMU", line) : () => {},
    clock,
    world: { homeDc: 2, files: [{ id: "7001", size: SIZE, dc: 3 }], ...world },
  });
  const calls = recordCalls(emulator);
  const client = emulatorClient(emulator, 2, fake ? { clock: fake } : {});
  const signed = await signIn((request) => client.call(request), "+15550000001");
  assertEquals(signed._cons, "auth.authorization");
  return { emulator, client, calls, ahead };
}

/** The file's message in Alice's history with Bob, native. */
async function fileMessage(client: Client): Promise<TlObject> {
  const bob = await client.call({ _cons: "contacts.resolveUsername", username: "bob_example" });
  const user = (bob.users as TlObject[]).find((candidate) => candidate.id === 1000002)!;
  const history = await client.call({
    _cons: "messages.getHistory",
    peer: {
      _cons: "inputPeerUser",
      user_id: 1000002,
      access_hash: JSON.stringify(user.access_hash),
    },
    offset_id: 0,
    offset_date: 0,
    add_offset: 0,
    limit: 50,
    max_id: 0,
    min_id: 0,
    hash: 0,
  });
  const message = (history.messages as TlObject[]).find((m) => m.message === "file 7001");
  if (!message) throw new Error(`no file message in ${JSON.stringify(history).slice(0, 300)}`);
  return client.native(message);
}

function sourceOf(message: TlObject) {
  const document = (message.media as TlObject).document as TlObject;
  return {
    location: {
      _cons: "inputDocumentFileLocation",
      id: document.id,
      access_hash: document.access_hash,
      file_reference: document.file_reference,
      thumb_size: "",
    },
    dc: document.dc_id as number,
    size: Number(document.size),
  };
}

async function close(emulator: Emulator, client: Client) {
  client.closeConnections();
  await emulator.close();
}

Deno.test("a file on another DC downloads whole, in parts on that DC, and a range is exactly its bytes", async () => {
  const { emulator, client, calls } = await setup();
  try {
    const source = sourceOf(await fileMessage(client));
    assertEquals(source.dc, 3);
    calls.length = 0;
    const whole = await collect(downloadFile(client, source));
    assertEquals(whole.length, SIZE);
    assertEquals(
      new Uint8Array(createHash("sha256").update(whole).digest()),
      generatedFileSha256(7001n, SIZE),
    );
    // Six parts of up to 1 MiB, all on DC 3: none asked twice, none on the home DC.
    assertEquals(calls.filter((c) => c === "dc3 upload.getFile").length, 6);
    assertEquals(calls.filter((c) => c.startsWith("dc2 upload.")), []);

    const range = await collect(
      downloadFile(client, source, { offset: MiB - 7, length: 2 * MiB + 9 }),
    );
    assertEquals(range, generatedFileBytes(7001n, MiB - 7, 2 * MiB + 9));
    const tail = await collect(downloadFile(client, source, { offset: SIZE - 10, length: 1000 }));
    assertEquals(tail, generatedFileBytes(7001n, SIZE - 10, 10));
  } finally {
    await close(emulator, client);
  }
});

Deno.test("a reader that stops pulling holds the download to its window", async () => {
  const { emulator, client, calls } = await setup();
  try {
    const source = sourceOf(await fileMessage(client));
    calls.length = 0;
    const download = downloadFile(client, source, { parts: 2, partSize: 256 * 1024 });
    const first = await download.next();
    assertEquals(first.value, generatedFileBytes(7001n, 0, 256 * 1024));
    // The reader pauses: whatever was in flight lands, and nothing more is asked.
    const ping = await client.call({ _cons: "ping", ping_id: 1 });
    assertEquals(ping._cons, "pong");
    const asked = calls.filter((c) => c.endsWith("upload.getFile")).length;
    assertEquals(asked <= 3, true, `asked ${asked} parts of 256 KiB while the reader paused`);
    await download.return(undefined);
  } finally {
    await close(emulator, client);
  }
});

Deno.test("flood waits on file requests are waited out and every byte still arrives", async () => {
  // Client and emulator on one fake clock: the flood waits and the answers' latency pass in
  // fake milliseconds, moved on until the download ends.
  const clock = new FakeClock();
  const { emulator, client } = await setup(
    { fileFlood: 1, fileFloodSeconds: 3, fileLatencyMs: 20 },
    clock,
  );
  try {
    const source = sourceOf(await fileMessage(client));
    let whole: Uint8Array | undefined;
    const done = collect(downloadFile(client, source, { parts: 4 })).then((bytes) => whole = bytes);
    const started = clock.now();
    while (!whole) {
      await clock.advance(100);
      if (clock.now() - started > 600_000) throw new Error("no end after 10 fake minutes");
    }
    await done;
    // Four parts asked at once against a limit of one: the others were told to wait 3 s, and
    // waited (the DC's whole queue, not part by part).
    assertEquals(clock.now() - started >= 3000, true, `ended after ${clock.now() - started} ms`);
    assertEquals(
      new Uint8Array(createHash("sha256").update(whole).digest()),
      generatedFileSha256(7001n, SIZE),
    );
  } finally {
    await close(emulator, client);
  }
});

Deno.test("an expired reference is refreshed from the message once, and without a way to refresh it the error says what to send", async () => {
  const { emulator, client, calls, ahead } = await setup({ fileRefTtlSeconds: 1 });
  try {
    const message = await fileMessage(client);
    const stale = sourceOf(message);
    // The reference was issued at the emulator's now; 5 s later by its clock it is stale (the
    // fresh one, issued then, is not).
    ahead.ms = 5_000;
    await assertRejects(
      () => collect(downloadFile(client, stale)),
      DownloadError,
      'download by "message"',
    );
    let refreshed = 0;
    const whole = await collect(downloadFile(client, {
      ...stale,
      refresh: async () => {
        refreshed++;
        return sourceOf(await fileMessage(client)).location;
      },
    }));
    assertEquals(refreshed, 1);
    assertEquals(whole, generatedFileBytes(7001n, 0, SIZE));
    assertEquals(calls.includes("dc3 upload.getFile"), true);
  } finally {
    await close(emulator, client);
  }
});

Deno.test("a file served by the CDN: redirected, pushed to the CDN, decrypted, checked against the master's hashes, and a new token when the old one expires", async () => {
  const { emulator, client, calls, ahead } = await setup({
    files: [{ id: "7001", size: SIZE, dc: 3, cdn: true }],
    cdnTokenTtlSeconds: 10,
  });
  try {
    const source = sourceOf(await fileMessage(client));
    calls.length = 0;
    // The first parts learn the redirect; then the emulator's clock moves past the token's
    // lifetime halfway through, so the CDN refuses it and a new redirect is needed.
    const download = downloadFile(client, source, { parts: 2 });
    const chunks: Uint8Array[] = [];
    let expired = -1;
    for await (const chunk of download) {
      chunks.push(chunk);
      // (20 s: past the token's 10, within the 30 s a client allows a server's clock to differ.)
      if (chunks.length === 2) {
        ahead.ms = 20_000;
        expired = calls.length;
      }
    }
    const whole = new Uint8Array(SIZE);
    let at = 0;
    for (const chunk of chunks) whole.set(chunk, (at += chunk.length) - chunk.length);
    assertEquals(at, SIZE);
    assertEquals(
      new Uint8Array(createHash("sha256").update(whole).digest()),
      generatedFileSha256(7001n, SIZE),
    );
    const count = (name: string) => calls.filter((c) => c === name).length;
    // The master only redirected, pushed the file and hashed: no part came from it.
    assertEquals(count("dc3 upload.getCdnFileHashes") >= 1, true, calls.join("\n"));
    // Pushed once per request token: parts asked before the push completed may each need one.
    const pushes = count("dc3 upload.reuploadCdnFile");
    assertEquals(pushes >= 1 && pushes <= 2, true, `${pushes} pushes`);
    // After the token expired, the master was asked again for a redirect.
    assertEquals(calls.slice(expired).includes("dc3 upload.getFile"), true, calls.join("\n"));
  } finally {
    await close(emulator, client);
  }
});

Deno.test("CDN bytes that do not match the master's hashes are refused, not handed on", async () => {
  const { emulator, client } = await setup({
    files: [{ id: "7001", size: SIZE, dc: 3, cdn: true }],
  });
  try {
    const source = sourceOf(await fileMessage(client));
    // The CDN flips a byte in every part it sends.
    const cdn = emulator.cdn!.context;
    const serveCdn = cdn.call.bind(cdn);
    cdn.call = (request, callContext) => {
      const answer = serveCdn(request, callContext) as TlObject;
      if (answer?._cons === "upload.cdnFile") {
        answer.bytes = (answer.bytes as Uint8Array).slice();
        (answer.bytes as Uint8Array)[100] ^= 1;
      }
      return answer;
    };
    const handed: number[] = [];
    await assertRejects(
      async () => {
        for await (const chunk of downloadFile(client, source)) handed.push(chunk.length);
      },
      DownloadError,
      "not the file's",
    );
    assertEquals(handed, [], "no byte of a refused part reaches the caller");
  } finally {
    await close(emulator, client);
  }
});

Deno.test("verify: parts are checked against upload.getFileHashes, one request per MiB, and a byte the server stored wrong is refused by its offset", async () => {
  const { emulator, client, calls } = await setup();
  try {
    const source = sourceOf(await fileMessage(client));
    calls.length = 0;
    let verified: boolean | undefined;
    const whole = await collect(
      downloadFile(client, source, { verify: true, onVerified: (all) => verified = all }),
    );
    assertEquals(whole, generatedFileBytes(7001n, 0, SIZE));
    assertEquals(verified, true);
    // Six parts of up to 1 MiB, six hash requests (eight 128 KiB windows each), all on DC 3.
    assertEquals(calls.filter((c) => c === "dc3 upload.getFile").length, 6);
    assertEquals(calls.filter((c) => c === "dc3 upload.getFileHashes").length, 6);
    // A range ending mid-window: its last part asks the whole window, so it is checked too.
    verified = undefined;
    const range = await collect(downloadFile(client, source, {
      offset: MiB - 7,
      length: 9,
      verify: true,
      onVerified: (all) => verified = all,
    }));
    assertEquals([range, verified], [generatedFileBytes(7001n, MiB - 7, 9), true]);

    // The server now serves one byte other than the one it hashed.
    const corrupt = 3 * MiB + 130_000;
    emulator.world.options.fileCorruptOffset = corrupt;
    const handed: Uint8Array[] = [];
    await assertRejects(
      async () => {
        for await (const chunk of downloadFile(client, source, { verify: true })) {
          handed.push(chunk);
        }
      },
      DownloadError,
      `FILE_HASH_MISMATCH: the bytes at offset ${3 * MiB} (131072 of them) do not match`,
    );
    // What was handed on is the file's own bytes, and none of the bad window.
    const got = await collect((async function* () {
      yield* handed;
    })());
    assertEquals(got.length <= 3 * MiB, true, `${got.length} bytes handed on`);
    assertEquals(got, generatedFileBytes(7001n, 0, got.length));
    // Unverified, the same download ends "well" with the wrong byte in it.
    const unchecked = await collect(downloadFile(client, source));
    assertEquals(unchecked[corrupt] !== generatedFileBytes(7001n, corrupt, 1)[0], true);
  } finally {
    await close(emulator, client);
  }
});

Deno.test("verify: a server that gives no hashes is asked once, and the download ends unverified", async () => {
  const { emulator, client } = await setup();
  try {
    const source = sourceOf(await fileMessage(client));
    let asked = 0;
    for (const context of emulator.contexts) {
      const call = context.call.bind(context);
      context.call = (request, callContext) =>
        request._cons === "upload.getFileHashes" ? (asked++, []) : call(request, callContext);
    }
    let verified: boolean | undefined;
    const whole = await collect(
      downloadFile(client, source, { verify: true, onVerified: (all) => verified = all }),
    );
    assertEquals([whole.length, verified], [SIZE, false]);
    assertEquals(whole, generatedFileBytes(7001n, 0, SIZE));
    // The first parts' requests go out together; once one answered empty, no more are made.
    assertEquals(asked >= 1 && asked < 6, true, `${asked} hash requests`);
  } finally {
    await close(emulator, client);
  }
});
