/**
 * Where files are served: each DC's media-only address (listed in help.getConfig) is the same DC
 * on a port of its own, so a client keeps file traffic off its main connections; and the
 * emulator command's file flags (and their environment twins) make the files and switches.
 */

import { assertEquals, assertStringIncludes } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { systemClock } from "../../lib/io/clock.ts";
import { parsePublicKeyPem } from "../../lib/crypto/rsa.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { Sender } from "../../lib/net/sender.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { generatedFileBytes, photoSizeSeed } from "../../lib/emulator/files/generated_bytes.ts";
import { sha256 } from "../../lib/crypto/hash.ts";
import { EMULATOR_HELP, runEmulatorCommand } from "../../lib/cli/emulator_command.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signInWithCode } from "../support/raw_calls.ts";

/** A sender to 127.0.0.1:`port` as DC `dcId`, trusting the PEM key `rsa`, resuming `authKey`. */
function senderTo(port: number, dcId: number, rsa: string, authKey?: Uint8Array) {
  return new Sender({
    host: "127.0.0.1",
    port,
    dcId,
    publicKeys: [parsePublicKeyPem(rsa)],
    transport: { kind: "intermediate" },
    codec,
    random: secureRandom,
    log: () => {},
    pingIntervalMs: 0,
    ...(authKey ? { authKey } : {}),
  });
}

Deno.test("help.getConfig lists each DC's media-only address: the same DC, the same keys, serving files", async () => {
  const emulator = await startEmulator({
    port: 0,
    dcs: 2,
    log: () => {},
    world: { homeDc: 1, files: [{ id: 5001, size: 100_000, dc: 1 }] },
  });
  const main = emulatedSender(emulator, 1);
  const call = rawCaller(main, codec);
  let media: Sender | undefined;
  try {
    await signInWithCode(call, "+15550000001");
    const config = await call({ _cons: "help.getConfig" });
    const options = config.dc_options as TlObject[];
    const plain = options.filter((option) => !option.media_only && !option.cdn);
    const mediaOnly = options.filter((option) => option.media_only);
    assertEquals(plain.map((option) => [option.id, option.port]), [
      [1, emulator.dcs[0].port],
      [2, emulator.dcs[1].port],
    ]);
    assertEquals(mediaOnly.map((option) => [option.id, option.port]), [
      [1, emulator.mediaDcs[0].port],
      [2, emulator.mediaDcs[1].port],
    ]);
    assertEquals(options.some((option) => option.cdn), false, "no CDN DC without CDN files");
    // The signed-in key works on the media port: it is the same DC.
    media = senderTo(
      mediaOnly[0].port as number,
      1,
      emulator.publicKeyPem,
      main.session!.authKey.key,
    );
    const file = emulator.world.files.get(5001n)!;
    const part = await rawCaller(media, codec)({
      _cons: "upload.getFile",
      location: {
        _cons: "inputDocumentFileLocation",
        id: file.id,
        access_hash: file.accessHash,
        file_reference: new Uint8Array(0),
        thumb_size: "",
      },
      offset: 0,
      limit: 4096,
    });
    assertEquals(part.bytes, generatedFileBytes(5001n, 0, 4096));
  } finally {
    main.close();
    media?.close();
    await emulator.close();
  }
});

Deno.test("mtproto2json emulator: --file, --photo, --cdn-file and the file switches (flags or environment) make the files", async () => {
  let stop = () => {};
  let ready: (line: string) => void = () => {};
  const serverLine = new Promise<string>((resolve) => (ready = resolve));
  const env: Record<string, string> = {
    MTPROTO2JSON_EMULATOR_PHOTO: "6001:40000:1,6002:40000:progressive",
  };
  const logs: string[] = [];
  const status = runEmulatorCommand(
    [
      ...["--port", "0", "--dcs", "1", "--home-dc", "1", "--files-dc", "1"],
      ...["--file", "5001:70000:1", "--cdn-file", "5001", "--file-corrupt", "100"],
    ],
    {
      write: (text) => ready(text),
      log: (line) => logs.push(line),
      readTextFile: () => Promise.reject(new Error("no files")),
      writeSecretFile: () => Promise.reject(new Error("no writes")),
      stopped: new Promise((resolve) => (stop = resolve)),
      env: (name) => env[name],
      clock: systemClock,
    },
  );
  const line = JSON.parse(await serverLine).server;
  const sender = senderTo(line.port, 1, line.rsa);
  const call = rawCaller(sender, codec);
  try {
    await signInWithCode(call, "+15550000001");
    const config = await call({ _cons: "help.getConfig" });
    const cdn = (config.dc_options as TlObject[]).find((option) => option.cdn)!;
    assertEquals(cdn.id, 203);
    assertStringIncludes(logs.join("\n"), `CDN DC 203 on 127.0.0.1:${cdn.port}`);
    const resolved = await call({ _cons: "contacts.resolveUsername", username: "bob_example" });
    const bob = (resolved.users as TlObject[]).find((user) => Number(user.id) === 1000002)!;
    const history = await call({
      _cons: "messages.getHistory",
      peer: { _cons: "inputPeerUser", user_id: bob.id, access_hash: bob.access_hash },
      offset_id: 0,
      offset_date: 0,
      add_offset: 0,
      limit: 10,
      max_id: 0,
      min_id: 0,
      hash: 0n,
    });
    const texts = (history.messages as TlObject[]).map((message) => [
      message.message,
      (message.media as TlObject | undefined)?._cons,
    ]);
    assertEquals(texts.slice(0, 3), [
      ["file 6002", "messageMediaPhoto"],
      ["file 6001", "messageMediaPhoto"],
      ["file 5001", "messageMediaDocument"],
    ]);
    const photos = (history.messages as TlObject[]).slice(0, 2)
      .map((message) => (message.media as TlObject).photo as TlObject);
    // ":progressive": the largest size is a progressive JPEG, its scans ending at its size.
    assertEquals((photos[0].sizes as TlObject[]).map((size) => size._cons), [
      ...Array(3).fill("photoSize"),
      "photoSizeProgressive",
    ]);
    assertEquals((photos[0].sizes as TlObject[])[3].sizes, [5000, 12500, 20000, 30000, 40000]);
    assertEquals((photos[1].sizes as TlObject[])[3]._cons, "photoSize");
    // --file-corrupt 100: the served byte 100 is not the file's, while its hash is the true one.
    const location = {
      _cons: "inputPhotoFileLocation",
      id: photos[1].id,
      access_hash: photos[1].access_hash,
      file_reference: photos[1].file_reference,
      thumb_size: "y",
    };
    const served = await call({ _cons: "upload.getFile", location, offset: 0n, limit: 65536 });
    const truth = generatedFileBytes(photoSizeSeed(6001n, "y"), 0, 40000);
    const bytes = served.bytes as Uint8Array;
    assertEquals([bytes.length, bytes[100] ^ truth[100]], [40000, 1]);
    assertEquals(bytes.subarray(101), truth.subarray(101));
    const hashes = await call({ _cons: "upload.getFileHashes", location, offset: 0n });
    const first = (hashes.items as TlObject[])[0];
    assertEquals(first.hash, sha256(truth));
  } finally {
    sender.close();
    stop();
  }
  assertEquals(await status, 0);
  for (
    const flag of [
      "--file ID:SIZE[:DC]",
      "--photo ID:SIZE[:DC][:progressive]",
      "--file-corrupt OFFSET",
      "--cdn-file ID",
      "--cdn ",
      "--cdn-token-ttl S",
      "--file-ref-ttl S",
      "--file-flood N[:S]",
      "--file-latency MS",
    ]
  ) {
    assertStringIncludes(EMULATOR_HELP, flag);
  }
});
