// Files through `mtproto2json pipe` (issue #18): each user runs a pipe process of their own, in a
// directory of their own; paths are taken as given, relative to that directory or absolute. Alice
// uploads a file from disk and sends it to Bob; Bob downloads the media as it reached him, to a
// path of his: the same SHA-256. End of input lets both pipes exit 0.

import { assertEquals } from "../assert.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { generatedFileBytes } from "../../lib/emulator/files/generated_bytes.ts";
import type { JsonClient } from "../support/json_client.ts";
import { signInAlice, signInBob } from "../support/processes.ts";
import {
  answerOf,
  MiB,
  PipeClient,
  pushedMedia,
  recordCalls,
  sendDocument,
  sha256Of,
  writeGeneratedFile,
} from "../support/files.ts";

/** Big enough for saveBigFilePart (> 10 MiB) and many parts in flight; odd on purpose. */
const SIZE = Number(Deno.env.get("MTPROTO2JSON_FILES_PIPE_MB") ?? 40) * MiB + 4321;

Deno.test("pipe: Alice uploads from a path relative to her pipe and sends it; Bob's pipe downloads the media to his own paths: same bytes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "files_pipe_" });
  await Deno.mkdir(`${dir}/alice`);
  await Deno.mkdir(`${dir}/bob`);
  const emulator = await startEmulator({ port: 0, log: () => {}, world: { homeDc: 2 } });
  const calls = recordCalls(emulator);
  const alice = new PipeClient(emulator.serverLine(2), `${dir}/alice`);
  const bob = new PipeClient(emulator.serverLine(2), `${dir}/bob`);
  try {
    const sent = await writeGeneratedFile(`${dir}/alice/holiday.bin`, 41n, SIZE);
    await alice.request({ id: 1, options: { longs_as_strings: true } });
    await bob.request({ id: 1, options: { longs_as_strings: true } });
    // The sign-in helpers only send requests and read answers: a pipe does both like serve.
    await signInAlice(alice as unknown as JsonClient);
    await signInBob(bob as unknown as JsonClient);

    // "holiday.bin" is in Alice's pipe's working directory.
    await alice.send({ id: 11, upload: { path: "holiday.bin" } });
    const uploaded = await answerOf(alice, 11);
    const file = uploaded.upload as Record<string, unknown>;
    const parts = Math.ceil(SIZE / (512 * 1024));
    assertEquals(
      [file?._cons, file?.parts, file?.name],
      ["inputFileBig", parts, "holiday.bin"],
      JSON.stringify(uploaded),
    );
    // Every part reached the home DC, none twice (no faults here).
    const saved = calls.filter((call) => call.method === "upload.saveBigFilePart" && !call.error);
    assertEquals(saved.every((call) => call.dc === 2 && call.fileId === String(file.id)), true);
    assertEquals(new Set(saved.map((call) => call.part)).size, parts);
    assertEquals(saved.length, parts);

    await sendDocument(alice, file, "holiday.bin", "sent through a pipe");
    const media = await pushedMedia(bob, "sent through a pipe");

    // Relative to Bob's pipe's working directory.
    await bob.send({ id: 13, download: { media, to: "from-alice.bin", progress: 0.2 } });
    const done = await answerOf(bob, 13);
    assertEquals(done.download, {
      size: SIZE,
      sha256: sent,
      mime_type: "application/octet-stream",
      file_name: "holiday.bin",
      path: "from-alice.bin",
    });
    assertEquals(await sha256Of(`${dir}/bob/from-alice.bin`), sent);
    // Renamed from its .part once complete: nothing else left in Bob's directory.
    assertEquals([...Deno.readDirSync(`${dir}/bob`)].map((entry) => entry.name), [
      "from-alice.bin",
    ]);

    // An absolute path outside the pipe's directory is the user's to name; a range of the file.
    const offset = 3 * MiB - 5;
    const length = 2 * MiB + 11;
    await bob.send({ id: 14, download: { media, to: `${dir}/range.bin`, offset, length } });
    const range = await answerOf(bob, 14);
    assertEquals((range.download as Record<string, unknown>)?.size, length, JSON.stringify(range));
    assertEquals(await Deno.readFile(`${dir}/range.bin`), generatedFileBytes(41n, offset, length));

    // End of input: each pipe finishes and exits 0.
    assertEquals((await alice.close()).code, 0, alice.stderr());
    assertEquals((await bob.close()).code, 0, bob.stderr());
  } finally {
    await alice.kill();
    await bob.kill();
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pipe: input that ends in the middle of a streamed upload ends the upload with an error line, and pipe exits", async () => {
  const dir = await Deno.makeTempDir({ prefix: "files_pipe_" });
  const emulator = await startEmulator({ port: 0, log: () => {}, world: { homeDc: 2 } });
  const alice = new PipeClient(emulator.serverLine(2), dir);
  try {
    await alice.request({ id: 1, options: { longs_as_strings: true } });
    await signInAlice(alice as unknown as JsonClient);
    await alice.send({ id: 20, upload: { stream: true } });
    await alice.send({ id: 20, chunk: { bytes: generatedFileBytes(42n, 0, 100_000).toBase64() } });
    const status = await alice.close();
    assertEquals(status.code, 0, alice.stderr());
    const ended = await answerOf(alice, 20, 1000);
    assertEquals(ended.upload, undefined, JSON.stringify(ended));
    assertEquals(typeof ended.error, "string", JSON.stringify(ended));
  } finally {
    await alice.kill();
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});
