/**
 * By hand (issue #19): the emulator's MTProxy front (`emulator --mtproxy`) with an MTProxy client
 * this project did not write, mtcute 0.30's `MtProxyTcpTransport`, for plain, dd and ee (fake
 * TLS) secrets: Bob signs in with 2FA, calls, reads his history, downloads a 3 MB file (on
 * mtcute's media connection: a negative DC id the front sends to the DC's media-only port) and
 * checks its SHA-256; then a wrong secret and a wrong domain must fail, not hang. One line per
 * step. Run by `bash scripts/check_mtproxy.sh` (which caches mtcute first and isolates the run).
 *
 * JavaScript, as check_with_mtcute.js, so that `deno check` never fetches mtcute.
 *
 * @module
 */

// deno-lint-ignore-file no-import-prefix

import { MemoryStorage, MtProxyTcpTransport, TelegramClient } from "npm:@mtcute/node@0.30.3";
import { addPublicKey } from "npm:@mtcute/core@0.30.3/utils.js";
import api from "npm:@mtcute/core@0.30.3/tl/api-schema.json" with { type: "json" };
import mtproto from "npm:@mtcute/core@0.30.3/tl/mtp-schema.json" with { type: "json" };
import { createHash } from "node:crypto";
import { publicKeyToPem } from "../lib/crypto/rsa.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { generatedFileSha256 } from "../lib/emulator/files/generated_bytes.ts";
import { loadSchema } from "../lib/tl/default_schema.ts";
import { schemaTexts } from "./update_scheme.ts";
import { finish, step } from "./check_steps.js";

const texts = schemaTexts({ api, mtproto });
// mtcute reads only its own layer's objects: the emulator serves that layer, as `--scheme` would.
const schema = loadSchema([{ name: `mtcute-${texts.layer}.tl`, text: texts.apiText }]);
const KEY = crypto.getRandomValues(new Uint8Array(16)).toHex();
const DOMAIN = "example.com";
const hexOf = (text) => new TextEncoder().encode(text).toHex();
const SECRETS = { plain: KEY, dd: `dd${KEY}`, ee: `ee${KEY}${hexOf(DOMAIN)}` };
const FILE_ID = "7501";
const SIZE = 3 * 1024 * 1024 + 4321;

const logs = [];
const emulator = await startEmulator({
  port: 0,
  schema,
  world: { homeDc: 2, files: [{ id: FILE_ID, size: SIZE, dc: 2 }] },
  mtproxy: { secrets: Object.values(SECRETS) },
  log: (line) => {
    logs.push(line);
    if (Deno.env.get("VERBOSE")) console.error(`[emulator] ${line}`);
  },
});
const front = emulator.mtproxy;
const pem = publicKeyToPem(emulator.rsaKey);

/** A client of DC 2 through the front with `secret` (its DC addresses are never dialled). */
function client(secret) {
  const home = emulator.dcs[1], media = emulator.mediaDcs[1];
  const tg = new TelegramClient({
    apiId: 12345,
    apiHash: "0123456789abcdef0123456789abcdef",
    storage: new MemoryStorage(),
    defaultDcs: {
      main: { id: 2, ipAddress: "127.0.0.1", port: home.port },
      media: { id: 2, ipAddress: "127.0.0.1", port: media.port, mediaOnly: true },
    },
    transport: new MtProxyTcpTransport({ host: "127.0.0.1", port: front.port, secret }),
    logLevel: Number(Deno.env.get("MTCUTE_LOG") ?? 0),
  });
  addPublicKey(tg.crypto ?? tg._client?.crypto ?? tg.mt?.crypto, pem);
  return tg;
}

/** `promise`, or an error after `ms`: a refused connection must not hang. */
function within(ms, promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

try {
  for (const [mode, secret] of Object.entries(SECRETS)) {
    console.log(`\nmtcute 0.30 through the emulator's MTProxy front, ${mode} secret`);
    const bob = client(secret);
    try {
      await step("key exchange through the front", () => within(30_000, bob.connect(), "connect"));
      await step("2FA sign-in (SRP, password hunter2)", async () => {
        const me = await bob.start({ phone: "+15550000002", code: "12345", password: "hunter2" });
        return me.displayName;
      });
      await step("help.getConfig", async () => {
        const config = await bob.call({ _: "help.getConfig" });
        return `this_dc ${config.thisDc}`;
      });
      await step(`download ${FILE_ID} (${SIZE} bytes) on the media connection`, async () => {
        const before = front.routed.get("DC 2 media") ?? 0;
        const [message] = (await bob.getHistory("alice", { limit: 50 }))
          .filter((candidate) => candidate.text === `file ${FILE_ID}`);
        if (!message) throw new Error(`no "file ${FILE_ID}" message`);
        const bytes = await bob.downloadAsBuffer(message.media);
        const sha = createHash("sha256").update(bytes).digest("hex");
        if (bytes.length !== SIZE || sha !== generatedFileSha256(BigInt(FILE_ID), SIZE).toHex()) {
          throw new Error(`${bytes.length} bytes, sha256 ${sha}`);
        }
        const media = (front.routed.get("DC 2 media") ?? 0) - before;
        return `sha256 ok, ${media} new connection(s) routed to DC 2's media-only port`;
      });
      await step("sendText", async () => (await bob.sendText("alice", `hello via ${mode}`)).id);
    } finally {
      await bob.destroy().catch(() => {});
    }
  }

  console.log("\nrefusals");
  const wrongKey = crypto.getRandomValues(new Uint8Array(16)).toHex();
  for (
    const [what, secret] of [
      ["ee with a wrong secret", `ee${wrongKey}${hexOf(DOMAIN)}`],
      ["ee with a wrong domain", `ee${KEY}${hexOf("example.org")}`],
      ["dd with a wrong secret", `dd${wrongKey}`],
    ]
  ) {
    const tg = client(secret);
    await step(`${what}: refused by the front, no call answered`, async () => {
      const from = logs.length;
      let outcome = "no error";
      try {
        await within(10_000, tg.call({ _: "help.getNearestDc" }), what);
      } catch (error) {
        outcome = error?.message ?? String(error);
      }
      if (outcome === "no error") throw new Error("the call succeeded");
      const refused = logs.slice(from).find((line) => line.includes("refused a client"));
      if (!refused) throw new Error(`the front did not refuse it (mtcute: ${outcome})`);
      return `${refused.replace(/^.*refused a client: /, "front: ")}; mtcute: ${outcome}`;
    });
    await tg.destroy().catch(() => {});
  }
} finally {
  await emulator.close();
}
finish();
