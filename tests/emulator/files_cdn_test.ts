/**
 * CDN downloads as https://core.telegram.org/cdn describes them: a redirect from the master DC,
 * a CDN DC with a key of its own that asks for a reupload first, parts AES-256-CTR encrypted with
 * the redirect's key and an IV per offset, hashes from the master DC, and tokens that expire.
 */

import { assertEquals } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { parsePublicKeyPem } from "../../lib/crypto/rsa.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { sha256 } from "../../lib/crypto/hash.ts";
import { AesCtr } from "../../lib/crypto/ctr.ts";
import { Sender } from "../../lib/net/sender.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { generatedFileBytes } from "../../lib/emulator/files/generated_bytes.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signInWithCode } from "../support/raw_calls.ts";
import { FakeClock } from "../support/fake_clock.ts";

const MiB = 1 << 20;
const SIZE = 2 * MiB + 300_000;

Deno.test("a CDN file: redirect, reupload on the CDN's request, encrypted parts that decrypt to the file, hashes, expiring tokens", async () => {
  const clock = new FakeClock();
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: () => {},
    clock,
    world: {
      homeDc: 1,
      files: [{ id: 7001, size: SIZE, dc: 1, cdn: true }],
      cdnTokenTtlSeconds: 5,
    },
  });
  const master = emulatedSender(emulator, 1);
  const call = rawCaller(master, codec);
  let cdnSender: Sender | undefined;
  try {
    await signInWithCode(call, "+15550000001");
    const config = await call({ _cons: "help.getConfig" });
    const cdnOption = (config.dc_options as TlObject[]).find((option) => option.cdn)!;
    const cdnConfig = await call({ _cons: "help.getCdnConfig" });
    const [cdnKey] = cdnConfig.public_keys as TlObject[];
    assertEquals([cdnOption.id, cdnKey.dc_id], [203, 203]);
    assertEquals(
      cdnKey.public_key === emulator.publicKeyPem,
      false,
      "the CDN has a key of its own",
    );

    const file = emulator.world.files.get(7001n)!;
    const getFile = (offset: number, cdn: boolean) =>
      call({
        _cons: "upload.getFile",
        ...(cdn ? { cdn_supported: true } : {}),
        location: {
          _cons: "inputDocumentFileLocation",
          id: file.id,
          access_hash: file.accessHash,
          file_reference: new Uint8Array(0),
          thumb_size: "",
        },
        offset,
        limit: MiB,
      });
    // A client that cannot use CDNs gets the bytes from the master DC.
    assertEquals((await getFile(0, false)).bytes, generatedFileBytes(7001n, 0, MiB));
    const redirect = await getFile(0, true);
    assertEquals(redirect._cons, "upload.fileCdnRedirect");
    assertEquals(redirect.dc_id, 203);
    const key = redirect.encryption_key as Uint8Array, iv = redirect.encryption_iv as Uint8Array;
    assertEquals([key.length, iv.length], [32, 16]);
    const hashes = redirect.file_hashes as TlObject[];
    assertEquals(
      hashes.map((hash) => Number(hash.offset)),
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => i * 131072),
    );

    // The CDN DC: a key made with the CDN's RSA key, no sign-in.
    cdnSender = new Sender({
      host: "127.0.0.1",
      port: cdnOption.port as number,
      dcId: 203,
      publicKeys: [parsePublicKeyPem(cdnKey.public_key as string)],
      transport: { kind: "intermediate" },
      codec,
      random: secureRandom,
      log: () => {},
      pingIntervalMs: 0,
    });
    const cdn = rawCaller(cdnSender, codec);
    assertEquals((await cdn({ _cons: "help.getConfig" })).error_message, "CDN_METHOD_INVALID");
    const getCdnFile = (token: unknown, offset: number, limit = MiB) =>
      cdn({ _cons: "upload.getCdnFile", file_token: token, offset, limit });
    const token = redirect.file_token;
    const first = await getCdnFile(token, 0);
    assertEquals(first._cons, "upload.cdnFileReuploadNeeded");
    const wrongRequest = await call({
      _cons: "upload.reuploadCdnFile",
      file_token: token,
      request_token: new Uint8Array(16),
    });
    assertEquals(wrongRequest.error_message, "REQUEST_TOKEN_INVALID");
    const reuploaded = await call({
      _cons: "upload.reuploadCdnFile",
      file_token: token,
      request_token: first.request_token,
    });
    assertEquals((reuploaded.items as TlObject[]).length, 8);

    // Each part decrypts alone: CTR from the IV with its last 4 bytes offset / 16, big-endian.
    for (const offset of [0, MiB, 2 * MiB]) {
      const part = await getCdnFile(token, offset);
      assertEquals(part._cons, "upload.cdnFile");
      const partIv = iv.slice();
      new DataView(partIv.buffer).setUint32(12, offset / 16);
      const plain = new AesCtr(key, partIv).process(part.bytes as Uint8Array);
      const expected = generatedFileBytes(7001n, offset, Math.min(MiB, SIZE - offset));
      assertEquals(
        plain.length === expected.length && plain.every((b, i) => b === expected[i]),
        true,
      );
      if (offset === 0) assertEquals(sha256(plain.subarray(0, 131072)), hashes[0].hash);
    }
    assertEquals((await getCdnFile(token, 2048)).error_message, "OFFSET_INVALID");
    const more = await call({
      _cons: "upload.getCdnFileHashes",
      file_token: token,
      offset: 2 * MiB,
    });
    assertEquals(
      (more.items as TlObject[]).map((hash) => [Number(hash.offset), hash.limit]),
      [[2 * MiB, 131072], [2 * MiB + 131072, 131072], [2 * MiB + 262144, 300_000 - 262144]],
    );

    // Past its lifetime the token is refused; a new redirect gives one that works (the CDN still
    // holds the file). The DCs' clock moves only a few seconds: the client drops messages whose
    // ids are far from its own time.
    await clock.advance(6_000);
    assertEquals((await getCdnFile(token, 0)).error_message, "FILE_TOKEN_INVALID");
    const again = await getFile(0, true);
    assertEquals((await getCdnFile(again.file_token, 0, 4096))._cons, "upload.cdnFile");
  } finally {
    master.close();
    cdnSender?.close();
    await emulator.close();
  }
});
