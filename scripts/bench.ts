/**
 * `deno task bench`: prints the figures the project's speed targets are judged by. Figures are
 * printed, not asserted; run on an otherwise idle machine. Synchronous figures are the median of
 * batches of about 20 ms (see `measure`).
 *
 * @module
 */

import { createCipheriv, createDecipheriv, createHash, hash } from "node:crypto";
import { modPow } from "../lib/crypto/bigint.ts";
import { TELEGRAM_DH_PRIME } from "../lib/crypto/dh.ts";
import { factorizePq } from "../lib/crypto/factorize.ts";
import { igeDecrypt, igeEncrypt } from "../lib/crypto/ige.ts";
import { secureRandom } from "../lib/crypto/random.ts";
import { messageAesKeyIv, messageKey } from "../lib/mtproto/message_key.ts";
import { decryptMessage, encryptMessage, makeAuthKey } from "../lib/mtproto/encrypted_message.ts";
import { sha256Of } from "../lib/crypto/sha256.ts";
import { TlCodec } from "../lib/tl/codec.ts";
import { loadSchema } from "../lib/tl/default_schema.ts";
import { parseJsonExact } from "../lib/tl/json.ts";
import { largeMessagesObject } from "./bench_fixtures.ts";
import { fuzzDecode, nestedGzip } from "../tests/support/fuzz_decode.ts";
import { generateRsaKey } from "../lib/crypto/rsa.ts";
import { AuthKeyServer } from "../lib/emulator/auth_key_server.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import {
  finishExchange,
  requestDhParams,
  requestPq,
  setClientDhParams,
} from "../lib/mtproto/auth_key_exchange.ts";
import { Sender } from "../lib/net/sender.ts";
import { benchServe } from "./bench_serve.ts";
import { benchUpdates } from "./bench_updates.ts";
import { benchStore } from "./bench_store.ts";
import { benchProxies } from "./bench_proxies.ts";
import { benchWeb } from "./bench_web.ts";
import { BENCH_PERMISSIONS } from "./loopback_only.ts";
import { benchStartup } from "./bench_startup.ts";

// The subcommands the benches start are `deno run`s, whose update check would look up
// dl.deno.land: the benches reach nothing but 127.0.0.1.
Deno.env.set("DENO_NO_UPDATE_CHECK", "1");

/**
 * Runs `fn` repeatedly for about `milliseconds` after a warm-up, in batches of about 20 ms, and
 * returns the median batch's ms per call: a garbage collection that lands in one batch moves one
 * sample, not the figure.
 */
function measure(fn: () => unknown, milliseconds = 400): number {
  for (const end = performance.now() + 100; performance.now() < end;) fn();
  const perCall: number[] = [];
  for (const end = performance.now() + milliseconds; performance.now() < end;) {
    let calls = 0;
    const start = performance.now();
    let now = start;
    while (now - start < 20) {
      fn();
      calls++;
      now = performance.now();
    }
    perCall.push((now - start) / calls);
  }
  return perCall.sort((a, b) => a - b)[perCall.length >> 1];
}

async function measureAsync(fn: () => Promise<unknown>, milliseconds = 400): Promise<number> {
  for (let i = 0; i < 200; i++) await fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < milliseconds) {
    await fn();
    calls++;
    now = performance.now();
  }
  return (now - start) / calls;
}

const rows: string[][] = [];
function report(name: string, value: string, target = "") {
  rows.push([name, value, target]);
  console.log(`${name.padEnd(58)} ${value.padStart(14)}  ${target}`);
}
const mbPerSecond = (bytes: number, ms: number) => `${(bytes / 1e6 / (ms / 1e3)).toFixed(0)} MB/s`;
const micro = (ms: number) => `${(ms * 1e3).toFixed(2)} µs`;

/** IGE on node:crypto's AES-256-ECB, one block per call: the reference the pure code is held to. */
function referenceIgeEncrypt(data: Uint8Array, key: Uint8Array, iv: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  let x = iv.subarray(0, 16), y = iv.subarray(16, 32);
  const mixed = new Uint8Array(16);
  for (let i = 0; i < data.length; i += 16) {
    for (let j = 0; j < 16; j++) mixed[j] = data[i + j] ^ x[j];
    const block = createCipheriv("aes-256-ecb", key, null).setAutoPadding(false).update(mixed);
    for (let j = 0; j < 16; j++) out[i + j] = block[j] ^ y[j];
    x = out.subarray(i, i + 16);
    y = data.subarray(i, i + 16);
  }
  return out;
}

console.log(`mtproto2json benchmarks — Deno ${Deno.version.deno}, V8 ${Deno.version.v8}`);
console.log(
  "(timed figures: the median of ~20 ms batches, so one garbage collection moves no figure)\n",
);

console.log("AES-256-IGE (pure TypeScript) against IGE built on node:crypto AES-256-ECB per block");
const key = secureRandom(32), iv = secureRandom(32);
for (const size of [1024, 1024 * 1024]) {
  const data = secureRandom(size);
  const label = size === 1024 ? "1 KiB" : "1 MiB";
  // The cipher itself, writing into the caller's array (messages are encrypted in place), and
  // then the same call with a fresh output array, whose allocation shows at 1 KiB.
  const buffer = data.slice();
  const encrypt = measure(() => igeEncrypt(buffer, key, iv, buffer));
  const decrypt = measure(() => igeDecrypt(buffer, key, iv, buffer));
  const encryptNew = measure(() => igeEncrypt(data, key, iv));
  const decryptNew = measure(() => igeDecrypt(data, key, iv));
  const reference = measure(() => referenceIgeEncrypt(data, key, iv));
  report(`  IGE encrypt ${label}, in place`, mbPerSecond(size, encrypt), "target ≥ 200 MB/s");
  report(`  IGE decrypt ${label}, in place`, mbPerSecond(size, decrypt), "target ≥ 200 MB/s");
  report(`  IGE encrypt ${label}, into a new array`, mbPerSecond(size, encryptNew));
  report(`  IGE decrypt ${label}, into a new array`, mbPerSecond(size, decryptNew));
  report(`  reference (node:crypto ECB per block) ${label}`, mbPerSecond(size, reference));
  report(
    `  pure TS / reference, encrypt ${label}`,
    `${(reference / encrypt).toFixed(1)}×`,
    "target ≥ 8×",
  );
}
const ctrData = secureRandom(1024 * 1024);
const nodeCtr = measure(() =>
  createDecipheriv("aes-256-ctr", key, iv.subarray(0, 16)).update(ctrData)
);
report("  (for scale) node:crypto AES-256-CTR 1 MiB, native", mbPerSecond(ctrData.length, nodeCtr));

console.log("\nHashes on the per-message path: why they are synchronous");
const small = secureRandom(52), kib = secureRandom(1056);
report(
  "  crypto.subtle.digest SHA-256 52 B, awaited",
  micro(await measureAsync(() => crypto.subtle.digest("SHA-256", small as BufferSource))),
);
report(
  "  SHA-256 52 B in TypeScript, one reused state (chosen below 768 B)",
  micro(measure(() => sha256Of(small))),
);
report(
  "  node:crypto hash() SHA-256 52 B, sync",
  micro(measure(() => hash("sha256", small, "buffer"))),
);
report(
  "  node:crypto createHash SHA-256 52 B, sync",
  micro(measure(() => createHash("sha256").update(small).digest())),
);
report(
  "  crypto.subtle.digest SHA-256 1 KiB, awaited",
  micro(await measureAsync(() => crypto.subtle.digest("SHA-256", kib as BufferSource))),
);
report(
  "  node:crypto hash() SHA-256 1 KiB, sync (chosen)",
  micro(measure(() => hash("sha256", kib, "buffer"))),
);

console.log("\nOne encrypted MTProto 2.0 message body, 1 KiB (msg_key + KDF + IGE)");
const authKey = secureRandom(256);
const body = secureRandom(1024);
const perMessage = measure(() => {
  const msgKey = messageKey(authKey, body, "client");
  const { key, iv } = messageAesKeyIv(authKey, msgKey, "client");
  return igeEncrypt(body, key, iv);
});
report("  msg_key + KDF + IGE over 1 KiB, hashes included", micro(perMessage), "target < 15 µs");
const sealingKey = makeAuthKey(authKey);
const header = { salt: 1n, sessionId: 2n, messageId: 3n, seqNo: 1 };
report(
  "  encryptMessage: the whole send path, padding included",
  micro(measure(() => encryptMessage(sealingKey, header, body, "client", secureRandom))),
  "target < 15 µs",
);
const sealedMessage = encryptMessage(sealingKey, header, body, "client", secureRandom);
report(
  "  decryptMessage: the whole receive path, checks included",
  micro(measure(() => decryptMessage(sealingKey, sealedMessage, "client"))),
);

console.log("\nTL ⇄ JSON on messages.messages with 1000 messages, 100 users, 20 channels");
const schema = loadSchema();
const inputCodec = new TlCodec(schema);
const jsonCodec = new TlCodec(schema, { longs: "json", bytes: "base64" });
const tlBytes = inputCodec.encode(largeMessagesObject());
const jsonText = JSON.stringify(jsonCodec.decode(tlBytes));
report("  size of the object as TL", `${(tlBytes.length / 1e6).toFixed(2)} MB`);
report("  size of the object as JSON text", `${(jsonText.length / 1e6).toFixed(2)} MB`);
const decodeToText = measure(() => JSON.stringify(jsonCodec.decode(tlBytes)), 1500);
report("  decode TL → JSON text", `${decodeToText.toFixed(2)} ms`, "target < 8 ms");
report("  decode TL → JSON text, throughput (TL bytes)", mbPerSecond(tlBytes.length, decodeToText));
const encodeFromText = measure(() => inputCodec.encode(parseJsonExact(jsonText)), 1500);
report(
  "  encode JSON text → TL (parse with exact longs + encode)",
  `${encodeFromText.toFixed(2)} ms`,
  "target < 10 ms",
);
report(
  "  encode JSON text → TL, throughput (TL bytes)",
  mbPerSecond(tlBytes.length, encodeFromText),
);
const parsed = parseJsonExact(jsonText);
report(
  "    of which: JSON text → objects (exact longs)",
  `${measure(() => parseJsonExact(jsonText), 800).toFixed(2)} ms`,
);
report(
  "    of which: objects → TL",
  `${measure(() => inputCodec.encode(parsed), 800).toFixed(2)} ms`,
);

console.log("\nThe TL decoder on hostile input (both codec modes, as the fuzzer makes it)");
const hostileCodecs = [["native", inputCodec], ["json", jsonCodec]] as const;
const deepGzip = nestedGzip(1000);
for (const [mode, codec] of hostileCodecs) {
  report(
    `  gzip_packed nested 1000 deep, ${mode}`,
    `${
      measure(() => {
        try {
          codec.decode(deepGzip);
        } catch { /* refused: what is timed is how soon */ }
      }).toFixed(3)
    } ms`,
    "target ≤ 10 ms",
  );
}
for (const [mode, codec] of hostileCodecs) {
  const fuzzed = fuzzDecode(codec, 100_000, 7);
  report(
    `  the slowest of 100000 fuzzed inputs, ${mode} (${fuzzed.slowestKind})`,
    `${fuzzed.slowestMs.toFixed(3)} ms`,
    "target ≤ 10 ms",
  );
  if (fuzzed.uncaught.length > 0) console.log(`    uncaught: ${fuzzed.uncaught[0]}`);
}

console.log("\nBig-number steps of the key exchange");
const exponent = BigInt("0x" + secureRandom(256).toHex()) % TELEGRAM_DH_PRIME;
report(
  "  2048-bit modexp, any base (bigint, 5-bit window)",
  `${measure(() => modPow(exponent, exponent, TELEGRAM_DH_PRIME), 1500).toFixed(2)} ms`,
  "target < 5 ms",
);
report(
  "  2048-bit g^x, g = 3 (Yao over a cached table)",
  `${measure(() => modPow(3n, exponent, TELEGRAM_DH_PRIME), 1500).toFixed(2)} ms`,
);
const products = [
  0x17ed48941a08f981n,
  2147483647n * 4294967291n,
  3037000493n * 2654435761n,
  1073741827n * 4294967279n,
];
let which = 0;
report(
  "  pq factorization (SQUFOF, then Pollard–Brent; 63-bit pq, mean of 4)",
  `${measure(() => factorizePq(products[which++ % products.length]), 1500).toFixed(2)} ms`,
  "target < 3 ms",
);

console.log("\nMTProto against the emulator");
const serverKey = await generateRsaKey();
const handshakeContext = {
  codec: inputCodec,
  random: secureRandom,
  publicKeys: [serverKey],
  dcId: 2,
};
const handshakeMs = measure(() => {
  const server = new AuthKeyServer(
    inputCodec,
    serverKey,
    secureRandom,
    () => Date.now() / 1000,
    () => true,
  );
  const step1 = requestPq(handshakeContext);
  const step2 = requestDhParams(handshakeContext, step1.state, server.receive(step1.request));
  const step3 = setClientDhParams(
    handshakeContext,
    step2.state,
    server.receive(step2.request),
    Date.now() / 1000,
  );
  finishExchange(handshakeContext, step3.state, server.receive(step3.request));
}, 3000);
report("  auth key creation, client + emulator in process", `${handshakeMs.toFixed(1)} ms`);

const emulator = await startEmulator({ port: 0, dcs: 1, rsaKey: serverKey, log: () => {} });
const sender = new Sender({
  host: "127.0.0.1",
  port: emulator.dcs[0].port,
  dcId: 1,
  publicKeys: [serverKey],
  transport: { kind: "intermediate" },
  codec: inputCodec,
  random: secureRandom,
  pingIntervalMs: 0,
});
const getConfig = inputCodec.encode({ _cons: "help.getConfig" });
await sender.invoke(getConfig);
for (const inFlight of [1, 100]) {
  let done = 0;
  const start = performance.now();
  const worker = async () => {
    while (performance.now() - start < 2000) {
      await sender.invoke(getConfig);
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - start) / 1000;
  report(
    `  help.getConfig round trips over 127.0.0.1, ${inFlight} in flight`,
    `${(done / seconds).toFixed(0)} /s`,
  );
}
sender.close();

await benchServe(schema, report);
await benchStartup(report);
await emulator.close();
await benchProxies(report);
await benchUpdates(schema, report);
await benchWeb(schema, report);
await benchStore(schema, report);
// A process of its own: with mtcute, it runs in a network namespace with loopback only
// (scripts/loopback_only.ts), which this process is not in.
const files = await new Deno.Command(Deno.execPath(), {
  args: ["run", ...BENCH_PERMISSIONS, new URL("./bench_files.ts", import.meta.url).pathname],
}).spawn().status;
if (!files.success) report("  files", "failed", `(exit ${files.code})`);

// mtcute beside us on the per-message, key-exchange and serve figures (#22): a process of its own
// (scripts/bench_mtcute_peers.js, JavaScript so that deno check skips mtcute), its lines printed
// here. MTPROTO2JSON_BENCH_MTCUTE=0 leaves it out (it needs the npm registry once).
if (Deno.env.get("MTPROTO2JSON_BENCH_MTCUTE") !== "0") {
  console.log("\nmtcute 0.30 beside us: whole messages, auth key, calls through serve");
  const peers = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-lock", "-A", new URL("./bench_mtcute_peers.js", import.meta.url).pathname],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const lines = new TextDecoder().decode(peers.stdout).split("\n").filter((text) => text);
  for (const text of lines) {
    const { label, value, target } = JSON.parse(text);
    report(label, value, target);
  }
  if (!peers.success) report("  mtcute", "unavailable", "(its npm package could not be loaded?)");
}
