// File requests through the JSON protocol, in process: a ProxyConnection fed lines, against the
// emulator. Upload progress lines (paced on the injected clock, without a total for a stream),
// a download with "verify" (answered "verified", or refused by the offset of a byte the server
// stored wrong), and a photo whose largest size is progressive.

import { createHash } from "node:crypto";
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { ProxyConnection } from "../../lib/proxy/proxy_connection.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInAlice } from "../support/processes.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import type { WorldOptions } from "../../lib/emulator/world_types.ts";
import {
  generatedFileBytes,
  generatedFileSha256,
  photoSizeSeed,
} from "../../lib/emulator/files/generated_bytes.ts";
import { framePool } from "../../lib/io/frame_pool.ts";
import type { ChunkSink, ChunkSource } from "../../lib/proxy/file_requests.ts";
import { type Clock, systemClock } from "../../lib/io/clock.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { settledCount, within } from "../support/until.ts";

type Line = Record<string, unknown>;
const MiB = 1 << 20;

/** A connection of the protocol in process: lines in by `send`, lines out kept with their time. */
class Lines {
  readonly proxy: ProxyConnection;
  /** Every line written, with the clock's time when it was. */
  readonly out: { line: Line; at: number }[] = [];
  readonly #waiting: { test: (line: Line) => boolean; resolve: (line: Line) => void }[] = [];

  constructor(clock: Clock, cwd: string, sendBytes?: ChunkSink, takeBytes?: ChunkSource) {
    this.proxy = new ProxyConnection(
      {
        schema: loadSchema(),
        app: appIdentity(undefined, undefined, "test"),
        clock,
        files: { kind: "as_given", cwd },
        log: () => {},
      },
      (text) => {
        const line = JSON.parse(text);
        this.out.push({ line, at: clock.now() });
        const index = this.#waiting.findIndex((waiter) => waiter.test(line));
        if (index >= 0) this.#waiting.splice(index, 1)[0].resolve(line);
      },
      undefined,
      undefined,
      sendBytes,
      takeBytes,
    );
  }

  send(value: Line): void {
    this.proxy.handleLine(JSON.stringify(value));
  }

  /** The final line of request `id` (past its progress and chunk lines), once written. */
  answer(id: number): Promise<Line> {
    const final = (line: Line) => line.id === id && !line.progress && !line.chunk;
    const found = this.out.find(({ line }) => final(line));
    if (found) return Promise.resolve(found.line);
    return new Promise((resolve) => this.#waiting.push({ test: final, resolve }));
  }

  async request(value: Line): Promise<Line> {
    const answer = this.answer(value.id as number);
    this.send(value);
    return await answer;
  }

  /** The progress lines of request `id`, with their times. */
  progress(id: number): { bytes: number; total?: number; at: number }[] {
    return this.out.filter(({ line }) => line.id === id && line.progress)
      .map(({ line, at }) => ({ ...(line.progress as { bytes: number; total?: number }), at }));
  }
}

/** The emulator (on `clock`), and Alice signed in on a connection of the protocol. */
async function signedIn(
  world: WorldOptions,
  clock: Clock = systemClock,
  sendBytes?: ChunkSink,
  takeBytes?: ChunkSource,
) {
  const emulator = await startEmulator({
    port: 0,
    log: () => {},
    clock,
    world: { homeDc: 2, ...world },
  });
  const dir = await Deno.makeTempDir({ prefix: "file_requests_" });
  const lines = new Lines(clock, dir, sendBytes, takeBytes);
  const close = async () => {
    lines.proxy.close();
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  };
  try {
    await lines.request({ id: 1, ...emulator.serverLine(2), options: { longs_as_strings: true } });
    const sent = await lines.request({
      id: 2,
      message: {
        _cons: "auth.sendCode",
        phone_number: "+15550000001",
        api_id: 1,
        api_hash: "h",
        settings: { _cons: "codeSettings" },
      },
    });
    const signed = await lines.request({
      id: 3,
      message: {
        _cons: "auth.signIn",
        phone_number: "+15550000001",
        phone_code_hash: (sent.message as Line).phone_code_hash,
        phone_code: "12345",
      },
    });
    assertEquals((signed.message as Line)._cons, "auth.authorization", JSON.stringify(signed));
    return { emulator, lines, dir, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The emulator (each file part answered `fileLatencyMs` late) behind serve's TCP port, as a user's
 * script meets them, with a session line for Alice signed in; `dir` given, serve's `--files`.
 */
async function servedOverTcp(fileLatencyMs: number, dir?: string) {
  const emulator = await startEmulator({
    port: 0,
    log: () => {},
    world: { homeDc: 2, fileLatencyMs },
  });
  const server = serve({
    schema: loadSchema(),
    server: serverFlag(JSON.stringify(emulator.serverLine(2)))!,
    app: appIdentity("12345", "hash", "test"),
    transport: { kind: "intermediate" },
    ...(dir ? { files: { kind: "inside" as const, dir } } : {}),
    log: () => {},
  }, { host: "127.0.0.1", port: 0, maxLine: 16 * MiB });
  const close = async () => {
    await server.close();
    await emulator.close();
  };
  try {
    const signing = await JsonClient.connect(server.port);
    const session = await signInAlice(signing);
    signing.close();
    return { emulator, port: server.port, session, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The media of the message `file <id>` in Alice's history with Bob. */
async function mediaOf(lines: Lines, fileId: string): Promise<Line> {
  const resolved = await lines.request({
    id: 4,
    message: { _cons: "contacts.resolveUsername", username: "bob_example" },
  });
  const bob = ((resolved.message as Line).users as Line[])
    .find((user) => String(user.id) === "1000002")!;
  const history = await lines.request({
    id: 5,
    message: {
      _cons: "messages.getHistory",
      peer: { _cons: "inputPeerUser", user_id: 1000002, access_hash: bob.access_hash },
      offset_id: 0,
      offset_date: 0,
      add_offset: 0,
      limit: 50,
      max_id: 0,
      min_id: 0,
      hash: 0,
    },
  });
  const message = ((history.message as Line).messages as Line[])
    .find((candidate) => candidate.message === `file ${fileId}`);
  if (!message) throw new Error(`no "file ${fileId}": ${JSON.stringify(history).slice(0, 300)}`);
  return message.media as Line;
}

/** Runs `until` to its end, moving the fake clock on 50 ms at a time. */
async function onFakeTime<T>(clock: FakeClock, until: Promise<T>): Promise<T> {
  let done = false;
  const result = until.finally(() => done = true);
  const started = clock.now();
  while (!done) {
    await clock.advance(50);
    if (clock.now() - started > 600_000) throw new Error("no end within 10 fake minutes");
  }
  return await result;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

Deno.test('an upload sends progress lines of the bytes Telegram saved, every "progress" seconds, with the total when it is known', async () => {
  // Client, proxy and emulator on one fake clock; each part is answered 300 fake ms late, one at
  // a time, so parts are saved every 300 ms and lines may come at most every 500.
  const clock = new FakeClock();
  const { lines, dir, close } = await signedIn({ fileLatencyMs: 300 }, clock);
  try {
    const size = 3 * MiB + 1000;
    const bytes = generatedFileBytes(11n, 0, size);
    await Deno.writeFile(`${dir}/a.bin`, bytes);
    const answer = await onFakeTime(
      clock,
      lines.request({ id: 8, upload: { path: "a.bin", parts: 1, progress: 0.5 } }),
    );
    assertEquals((answer.upload as Line)?._cons, "inputFile", JSON.stringify(answer));
    const lines8 = lines.progress(8);
    assertEquals(lines8.length >= 3, true, JSON.stringify(lines8));
    for (const [i, line] of lines8.entries()) {
      assertEquals(line.total, size);
      // Whole parts of 512 KiB saved (or the whole file), rising.
      assertEquals(line.bytes % (512 * 1024) === 0 || line.bytes === size, true);
      if (i === 0) continue;
      assertEquals(line.bytes > lines8[i - 1].bytes, true);
      assertEquals(line.at - lines8[i - 1].at >= 500, true, JSON.stringify(lines8));
    }
    // Lines come after the answer of their request, never after it.
    const final = lines.out.findIndex(({ line }) => line.id === 8 && line.upload);
    assertEquals(
      lines.out.findLastIndex(({ line }) => line.id === 8 && line.progress) < final,
      true,
    );

    // "progress": 0: none.
    await onFakeTime(clock, lines.request({ id: 9, upload: { path: "a.bin", progress: 0 } }));
    assertEquals(lines.progress(9), []);

    // A stream of unknown size: the bytes saved, no total.
    const streamed = lines.answer(10);
    lines.send({ id: 10, upload: { stream: true, name: "s.bin", parts: 1 } });
    for (let at = 0; at < size; at += MiB) {
      lines.send({ id: 10, chunk: { bytes: bytes.subarray(at, at + MiB).toBase64() } });
    }
    lines.send({ id: 10, chunk: { end: true } });
    const big = await onFakeTime(clock, streamed);
    assertEquals((big.upload as Line)?._cons, "inputFileBig", JSON.stringify(big));
    const lines10 = lines.progress(10);
    assertEquals(lines10.length >= 3, true, JSON.stringify(lines10));
    assertEquals(lines10.every((line) => !("total" in line) && line.bytes > 0), true);
  } finally {
    await close();
  }
});

Deno.test('a download with "verify" is answered "verified"; a byte the server stored wrong ends it with an error naming its offset', async () => {
  const size = 3 * MiB + 5;
  const { emulator, lines, close } = await signedIn({ files: [{ id: 7001, size, dc: 2 }] });
  try {
    const media = await mediaOf(lines, "7001");
    const answer = await lines.request({ id: 7, download: { media, verify: true, progress: 0 } });
    assertEquals(answer.download, {
      size,
      sha256: sha256Hex(generatedFileBytes(7001n, 0, size)),
      mime_type: "application/octet-stream",
      file_name: "file-7001.bin",
      verified: true,
    });
    // Without "verify", the answer does not claim it.
    const plain = await lines.request({ id: 8, download: { media, progress: 0 } });
    assertEquals((plain.download as Line).verified, undefined);

    emulator.world.options.fileCorruptOffset = 2 * MiB + 200_000;
    const refused = await lines.request({ id: 9, download: { media, verify: true, progress: 0 } });
    assertStringIncludes(String(refused.msg), "FILE_HASH_MISMATCH");
    assertStringIncludes(String(refused.msg), `offset ${2 * MiB + 131072}`);
    assertEquals(refused.download, undefined);
  } finally {
    await close();
  }
});

Deno.test('a photo whose largest size is photoSizeProgressive downloads that size whole by "media"', async () => {
  const size = 300_000;
  const { lines, close } = await signedIn({
    files: [{ id: 6002, size, kind: "photo", progressive: true }],
  });
  try {
    const media = await mediaOf(lines, "6002");
    const sizes = (media.photo as Line).sizes as Line[];
    assertEquals(sizes.map((s) => s._cons).at(-1), "photoSizeProgressive");
    const answer = await lines.request({ id: 7, download: { media, progress: 0 } });
    assertEquals(answer.download, {
      size,
      sha256: sha256Hex(generatedFileBytes(photoSizeSeed(6002n, "y"), 0, size)),
      mime_type: "image/jpeg",
    });
    // A thumb by name is that size, not the progressive one.
    const thumb = await lines.request({ id: 8, download: { media, thumb: "m", progress: 0 } });
    assertEquals((thumb.download as Line).size, size / 4);
  } finally {
    await close();
  }
});

Deno.test("a download's parts come in buffers the frame pool lends again once each part is written or sent: a few buffers for 48 parts, every byte right", async () => {
  const size = 24 * MiB;
  const { lines, dir, close } = await signedIn({ files: [{ id: 7003, size, dc: 2 }] });
  try {
    const media = await mediaOf(lines, "7003");
    const expected = generatedFileSha256(7003n, size).toHex();
    const before = framePool.allocated;
    const toFile = await lines.request({
      id: 7,
      download: { media, to: "pooled.bin", progress: 0 },
    });
    assertEquals((toFile.download as Line).sha256, expected);
    assertEquals(sha256Hex(await Deno.readFile(`${dir}/pooled.bin`)), expected);
    // As chunk lines too: each part's buffer is given back once its line is made.
    const asLines = await lines.request({ id: 8, download: { media, progress: 0 } });
    assertEquals((asLines.download as Line).sha256, expected);
    const hash = createHash("sha256");
    for (const { line } of lines.out) {
      if (line.id === 8 && line.chunk) {
        hash.update(Uint8Array.fromBase64((line.chunk as Line).bytes as string));
      }
    }
    assertEquals(hash.digest("hex"), expected);
    // 48 parts of 1 MiB went through; without the pool each would have had a buffer of its own.
    // With it: about the parts in flight at once (2 connections × 4) and the few held out of order.
    const made = framePool.allocated - before;
    assertEquals(made <= 16, true, `the pool made ${made} buffers for 48 parts`);
  } finally {
    await close();
  }
});

Deno.test("a client that goes away mid-upload stops it: no more parts are saved than were in flight", async () => {
  // Over serve's TCP port, as a user's script that dies mid-upload: each part answered 20 ms
  // late, one in flight, so the 64 parts of the file take over a second.
  const dir = await Deno.makeTempDir({ prefix: "upload_gone_" });
  await Deno.writeFile(`${dir}/big.bin`, generatedFileBytes(5n, 0, 32 * MiB));
  const { emulator, port, session, close } = await servedOverTcp(20, dir);
  try {
    const socket = await Deno.connect({ hostname: "127.0.0.1", port });
    const request = [
      { id: 1, session },
      { id: 2, upload: { path: "big.bin", parts: 1, progress: 0.05 } },
    ].map((line) => JSON.stringify(line) + "\n").join("");
    await socket.write(new TextEncoder().encode(request));
    // Until the first progress line: the upload is under way.
    const buffer = new Uint8Array(64 * 1024);
    let text = "";
    while (!text.includes('"progress"')) {
      const n = await socket.read(buffer);
      if (n === null) throw new Error(`the connection ended: ${text}`);
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    const traffic = emulator.world.fileService.traffic;
    const before = traffic.admitted;
    socket.close();
    const after = await settledCount(() => traffic.admitted) - before;
    // The part in flight at the close, and those saved before a progress line's write failed.
    assertEquals(before < 40 && after <= 10, true, `${before} parts, then ${after} more`);
  } finally {
    await close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a client that takes bytes gets a download's bytes in order, with back-pressure, and no chunk lines", async () => {
  // The web front's file body takes bytes: the parts must come as they are, never as base64.
  const size = 5 * MiB + 77;
  const got: { offset: number; bytes: Uint8Array }[] = [];
  let release: (() => void) | undefined;
  const sink: ChunkSink = async (_id, offset, bytes) => {
    got.push({ offset, bytes: bytes.slice() });
    // A slow reader: the next part waits until this one is taken.
    await new Promise<void>((resolve) => release = resolve);
  };
  const { lines, close } = await signedIn(
    { files: [{ id: 7004, size, dc: 2 }] },
    systemClock,
    sink,
  );
  try {
    const media = await mediaOf(lines, "7004");
    const answer = lines.request({ id: 7, download: { media, progress: 0 } });
    let taken = 0;
    for (let waited = 0; got.length < 6; waited++) {
      if (waited === 500) {
        throw new Error(`${got.length} parts in 10 s: ${JSON.stringify(lines.out)}`.slice(0, 300));
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      // Held back: one part handed over at a time while the reader is behind.
      assertEquals(got.length <= taken + 1, true);
      if (got.length > taken && release) {
        taken = got.length;
        release();
      }
    }
    const end = await answer;
    assertEquals((end.download as Line).size, size);
    assertEquals(got.map((part) => part.offset), [0, 1, 2, 3, 4, 5].map((n) => n * MiB));
    const whole = new Uint8Array(size);
    for (const part of got) whole.set(part.bytes, part.offset);
    assertEquals(sha256Hex(whole), sha256Hex(generatedFileBytes(7004n, 0, size)));
    assertEquals(lines.out.filter(({ line }) => line.chunk !== undefined).length, 0);
  } finally {
    await close();
  }
});

Deno.test("a client that gives a streamed upload's bytes sends no chunk lines: the file is read from them, whole and in order", async () => {
  // The web front's POST /v1/upload gives its body so, never as base64 chunk lines.
  const size = 3 * MiB + 1000;
  const bytes = generatedFileBytes(12n, 0, size);
  const asked: number[] = [];
  const takeBytes: ChunkSource = (id) => {
    asked.push(id);
    return id === 8 ? new Blob([bytes as Uint8Array<ArrayBuffer>]).stream() : undefined;
  };
  const { lines, close } = await signedIn({}, systemClock, undefined, takeBytes);
  try {
    const answer = lines.request({
      id: 8,
      upload: { stream: true, name: "given.bin", size, progress: 0 },
    });
    const file = (await within(answer, 10_000, "the upload's answer (not chunk lines)"))
      .upload as Line;
    assertEquals(asked, [8]);
    // Its MD5 is the client's, over every byte it read: the whole file, in order.
    assertEquals([file._cons, file.parts, file.name], ["inputFile", 7, "given.bin"]);
    assertEquals(file.md5_checksum, createHash("md5").update(bytes).digest("hex"));
    // A stream without bytes given still takes chunk lines.
    const lined = lines.answer(9);
    lines.send({ id: 9, upload: { stream: true, name: "lined.bin", parts: 1 } });
    lines.send({ id: 9, chunk: { bytes: bytes.subarray(0, 1000).toBase64() } });
    lines.send({ id: 9, chunk: { end: true } });
    assertEquals(((await lined).upload as Line).parts, 1);
  } finally {
    await close();
  }
});

Deno.test("a streamed upload that fails while its client is ahead lets the connection go on: the next request is answered", async () => {
  // The client says 10 MiB + 1 byte and streams 40 MiB: the 21st part cannot be the last one of
  // that size, so the upload fails about 10 MiB in, while the chunk lines beyond it wait in the
  // socket (serve stops reading a stream more than 4 MiB ahead of its upload).
  const { port, session, close } = await servedOverTcp(5);
  let client: JsonClient | undefined;
  try {
    client = await JsonClient.connect(port);
    await client.request({ id: 1, session });
    const failed = client.next((line) => line.id === 2 && !line.progress, 20_000);
    const streaming = [
      client.send({ id: 2, upload: { stream: true, name: "s.bin", size: 10 * MiB + 1 } }),
    ];
    const chunk = generatedFileBytes(6n, 0, MiB).toBase64();
    for (let i = 0; i < 40; i++) streaming.push(client.send({ id: 2, chunk: { bytes: chunk } }));
    streaming.push(client.send({ id: 2, chunk: { end: true } }));
    // Not awaited: the writes end only as serve reads on.
    for (const sent of streaming) sent.catch(() => {});
    const answer = await failed;
    assertEquals(answer.error, "UploadPartError", JSON.stringify(answer));
    // Sent after the 40 MiB: answered only if serve read past them.
    const nearest = await client.request(
      { id: 3, message: { _cons: "help.getNearestDc" } },
      20_000,
    );
    assertEquals((nearest.message as Line)?._cons, "nearestDc", JSON.stringify(nearest));
  } finally {
    client?.close();
    await close();
  }
});
