/**
 * Runs every fake DC of the hostile-server test in a process of its own, so that the test's
 * timing measures `serve` and not the fakes' own CPU work (key exchanges, bombs). Prints one JSON
 * line `{"rsa": PEM, "targets": {behaviour: port}}`; a line `forget NAME` on stdin makes that
 * emulator forget its keys (the next message gets -404) and is answered `forgot NAME`.
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import { TlCodec } from "../../lib/tl/codec.ts";
import { TlWriter } from "../../lib/tl/writer.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { type EmulatorOptions, startEmulator } from "../../lib/emulator/emulator.ts";
import { generateServerKey } from "../../lib/emulator/server_key.ts";
import { publicKeyToPem } from "../../lib/crypto/rsa.ts";
import { readLines } from "../../lib/io/lines.ts";
import { listenHostile, type RawHostility } from "./hostile_dc.ts";
import { nestedText } from "./fuzz_decode.ts";

/** Behaviours before an auth key exists, served by the raw fake DC. */
export const RAW_BEHAVIOURS: RawHostility[] = [
  "silent",
  "echo",
  "garbage",
  "huge_length",
  "cut_frame",
  "prime_pq",
  "unit_pq",
  "flood_429",
];

/** A gzip_packed that inflates to 100 MiB: over the whole message budget at once. */
function gzipBomb(): Uint8Array {
  const packed = gzipSync(new Uint8Array(100 << 20), { level: 9 });
  const writer = new TlWriter(packed.length + 16);
  writer.int32(0x3072cfa1);
  writer.bytes(packed);
  return writer.finish();
}

/** Behaviours after the key exchange, served by emulators with fault hooks. */
function faultyEmulators(codec: TlCodec): [string, EmulatorOptions][] {
  const answer = (body: Uint8Array): EmulatorOptions => ({
    faults: { answerWith: (method) => method === "help.getNearestDc" ? body : undefined },
  });
  return [
    ["gzip bomb", answer(gzipBomb())],
    ["deep nesting", answer(nestedText(100_000))],
    [
      "wrong type",
      answer(codec.encode({
        _cons: "contacts.resolvedPeer",
        peer: { _cons: "peerUser", user_id: 1 },
        chats: [],
        users: [],
      })),
    ],
    ["replayed messages", { faults: { replay: true } }],
    ["drops every 3rd message", { faults: { dropEvery: 3 } }],
    ["key forgotten (-404)", {}],
  ];
}

if (import.meta.main) {
  const codec = new TlCodec(loadSchema());
  const { key: rsaKey } = await generateServerKey();
  const publicKeyPem = publicKeyToPem(rsaKey);
  const targets: Record<string, number> = {};
  for (const behaviour of RAW_BEHAVIOURS) {
    targets[behaviour] = listenHostile(behaviour, codec, rsaKey).port;
  }
  const emulators = new Map<string, Awaited<ReturnType<typeof startEmulator>>>();
  for (const [name, options] of faultyEmulators(codec)) {
    const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, rsaKey, ...options });
    emulators.set(name, emulator);
    targets[name] = emulator.dcs[0].port;
  }
  console.log(JSON.stringify({ rsa: publicKeyPem, targets }));
  for await (const line of readLines(Deno.stdin.readable)) {
    if (line.kind !== "line" || !line.text.startsWith("forget ")) continue;
    const name = line.text.slice("forget ".length);
    emulators.get(name)?.contexts[0].keys.forgetAll();
    console.log(`forgot ${name}`);
  }
  Deno.exit(0);
}
