// The client's MTProxy route against the emulator's MTProxy front, over 127.0.0.1: plain, dd and
// ee (fake TLS) secrets each carry a sign-in with 2FA, calls, and a download of a few MB on a
// media connection (negative DC id); a wrong secret, a wrong domain, a clock too far off, and a
// proxy that accepts and then stalls each end in an error naming the proxy (its secret hidden)
// and the step, never a hang; reconnects never reuse a handshake.

import { createHash } from "node:crypto";
import { assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import {
  acceptObfuscationHeader,
  createObfuscationHeader,
} from "../../lib/transport/obfuscated.ts";
import { AesCtr } from "../../lib/crypto/ctr.ts";
import { replayRandom, secureRandom } from "../../lib/crypto/random.ts";
import { sha256 } from "../../lib/crypto/hash.ts";
import { type Emulator, startEmulator } from "../../lib/emulator/emulator.ts";
import { type MtproxyFront, startMtproxyFront } from "../../lib/emulator/mtproxy_front.ts";
import { generatedFileSha256 } from "../../lib/emulator/files/generated_bytes.ts";
import { skewedClock, systemClock } from "../../lib/io/clock.ts";
import { mtproxyRoute, type MtproxySpec } from "../../lib/net/mtproxy.ts";
import { ProxyConnectionFailedError, ProxyError } from "../../lib/net/proxy_handshake.ts";
import { proxyToUrl } from "../../lib/net/proxy_url.ts";
import { ConnectTimeoutError, Sender, type SenderOptions } from "../../lib/net/sender.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { testCodec } from "../support/emulated_sender.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { rawCaller, signIn } from "../support/raw_calls.ts";
import { Client } from "../../lib/client/client.ts";
import { downloadFile } from "../../lib/client/file_download.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { until } from "../support/until.ts";

const KEY = Uint8Array.fromHex("0123456789abcdef0123456789abcdef");
const DOMAIN = "example.com";
const SECRETS = {
  plain: KEY.toHex(),
  dd: `dd${KEY.toHex()}`,
  ee: `ee${KEY.toHex()}${new TextEncoder().encode(DOMAIN).toHex()}`,
};
const MiB = 1 << 20;
const SIZE = 5 * MiB + 4321;

async function emulatorWithFront(): Promise<Emulator> {
  return await startEmulator({
    port: 0,
    log: Deno.env.get("DEBUG_EMU") ? (line) => console.log("EMU", line) : () => {},
    world: { homeDc: 2, files: [{ id: "7001", size: SIZE, dc: 3 }] },
    mtproxy: { secrets: Object.values(SECRETS) },
  });
}

function specOf(emulator: Emulator, mode: MtproxySpec["mode"], extra: Partial<MtproxySpec> = {}) {
  return {
    host: "127.0.0.1",
    port: emulator.mtproxy!.port,
    secret: KEY,
    mode,
    ...(mode === "ee" ? { domain: DOMAIN } : {}),
    ...extra,
  };
}

/** A sender for DC `dcId` (signed) through the proxy, trusting `emulator`'s key. */
function proxiedSender(
  emulator: Emulator | undefined,
  spec: MtproxySpec,
  dcId: number,
  extra: Partial<SenderOptions> = {},
  clock = extra.clock ?? systemClock,
): Sender {
  const route = mtproxyRoute(spec, dcId, { clock });
  return new Sender({
    // Never dialled: the route connects to the proxy.
    host: "dc.invalid",
    port: 443,
    dcId,
    publicKeys: emulator ? [emulator.rsaKey] : [],
    connect: (_host, _port, attempt) => route.connect(attempt),
    transport: route.transport,
    // As the DC router names a proxied connection in its messages.
    via: proxyToUrl({ kind: "mtproxy", ...spec }, { redact: true }),
    codec: testCodec,
    random: secureRandom,
    log: () => {},
    pingIntervalMs: 0,
    ...extra,
  });
}

async function sha256Hex(parts: Uint8Array[]): Promise<string> {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return await Promise.resolve(hash.digest("hex"));
}

const APP = {
  apiId: 1,
  apiHash: "h",
  deviceModel: "t",
  systemVersion: "t",
  appVersion: "t",
  langCode: "en",
};

for (const mode of ["plain", "dd", "ee"] as const) {
  Deno.test(`MTProxy ${mode}: a client's sign-in with 2FA, calls, and a ${SIZE >> 20} MB download from another DC`, async () => {
    const emulator = await emulatorWithFront();
    const client = new Client({
      schema: loadSchema(),
      server: {
        host: "127.0.0.1",
        port: emulator.dcs[1].port,
        dc: 2,
        publicKeys: [emulator.rsaKey],
        test: false,
        proxy: { kind: "mtproxy", ...specOf(emulator, mode) },
      },
      app: APP,
      log: () => {},
    });
    try {
      const signed = await signIn((request) => client.call(request), "+15550000001", "hunter2");
      assertEquals(signed._cons, "auth.authorization");
      const bob = await client.call({ _cons: "contacts.resolveUsername", username: "bob_example" });
      const user = (bob.users as TlObject[]).find((candidate) => Number(candidate.id) === 1000002)!;
      const history = client.native(
        await client.call({
          _cons: "messages.getHistory",
          peer: { _cons: "inputPeerUser", user_id: user.id, access_hash: user.access_hash },
          offset_id: 0,
          offset_date: 0,
          add_offset: 0,
          limit: 50,
          max_id: 0,
          min_id: 0,
          hash: 0,
        }),
      );
      const message = (history.messages as TlObject[]).find((m) => m.message === "file 7001")!;
      const document = (message.media as TlObject).document as TlObject;
      assertEquals(document.dc_id, 3);
      // On DC 3's file connections: DC -3 in the header, its media-only port behind the front.
      const parts: Uint8Array[] = [];
      for await (
        const chunk of downloadFile(client, {
          location: {
            _cons: "inputDocumentFileLocation",
            id: document.id,
            access_hash: document.access_hash,
            file_reference: document.file_reference,
            thumb_size: "",
          },
          dc: 3,
          size: SIZE,
        })
      ) parts.push(chunk);
      assertEquals(parts.reduce((sum, part) => sum + part.length, 0), SIZE);
      assertEquals(await sha256Hex(parts), generatedFileSha256(7001n, SIZE).toHex());
      // The file connections went to DC 3's media-only port, the rest to DC 2 (and DC 3 for
      // the authorization's import).
      assertEquals(emulator.mtproxy!.routed.get("DC 3 media")! >= 1, true);
      assertEquals(emulator.mtproxy!.routed.get("DC 2")! >= 1, true);
      // Every connection the DCs saw came from the front: plain, in the secret's framing (a
      // direct one would be the client's default, obfuscated intermediate).
      const seen = emulator.listeners.flatMap((listener) => [...listener.connections]);
      assertEquals(seen.length >= 2, true);
      for (const connection of seen) {
        assertEquals(connection.transport.obfuscated, false);
        assertEquals(connection.transport.kind, mode === "plain" ? "intermediate" : "padded");
      }
    } finally {
      client.closeConnections();
      await emulator.close();
    }
  });
}

Deno.test("MTProxy: reconnects never reuse a handshake (the front refuses replays), and calls go on", async () => {
  const emulator = await emulatorWithFront();
  const sender = proxiedSender(emulator, specOf(emulator, "ee"), 2);
  try {
    const call = rawCaller(sender, testCodec);
    assertEquals((await call({ _cons: "help.getNearestDc" }))._cons, "nearestDc");
    for (let drop = 0; drop < 3; drop++) {
      sender.dropConnection();
      assertEquals((await call({ _cons: "help.getNearestDc" }))._cons, "nearestDc");
    }
    assertEquals(sender.reconnects >= 3, true);
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("MTProxy: a front that goes away mid-session and comes back on its port: calls continue, each run once", async () => {
  const emulator = await emulatorWithFront();
  const port = emulator.mtproxy!.port;
  let runs = 0;
  const call2 = emulator.contexts[1].call.bind(emulator.contexts[1]);
  emulator.contexts[1].call = (request, context) => {
    if (request._cons === "help.getNearestDc") runs++;
    return call2(request, context);
  };
  const sender = proxiedSender(emulator, specOf(emulator, "dd"), 2);
  let again: MtproxyFront | undefined;
  try {
    const call = rawCaller(sender, testCodec);
    assertEquals((await call({ _cons: "help.getNearestDc" }))._cons, "nearestDc");
    await emulator.mtproxy!.close();
    const later = [1, 2, 3].map(() => call({ _cons: "help.getNearestDc" }));
    again = startMtproxyFront({
      secrets: Object.values(SECRETS),
      port,
      dcPort: (dc) => emulator.dcs.find((address) => address.id === dc)?.port,
      clock: systemClock,
      random: secureRandom,
      log: () => {},
    });
    for (const answer of await Promise.all(later)) assertEquals(answer._cons, "nearestDc");
    assertEquals(runs, 4);
    assertEquals(sender.reconnects >= 1, true);
  } finally {
    sender.close();
    await again?.close();
    await emulator.close();
  }
});

Deno.test("MTProxy: a wrong secret is a clear error naming the proxy and the step, its secret hidden", async () => {
  const emulator = await emulatorWithFront();
  const wrong = new Uint8Array(16).fill(0x5a);
  try {
    for (const mode of ["plain", "dd"] as const) {
      const sender = proxiedSender(emulator, specOf(emulator, mode, { secret: wrong }), 2);
      try {
        const error = await assertRejects(() => sender.connect(), ProxyConnectionFailedError);
        assertStringIncludes(error.message, `MTProxy proxy tg://proxy?server=127.0.0.1&port=`);
        assertStringIncludes(error.message, "secret=***");
        assertStringIncludes(error.message, "closed the connection before answering");
        assertEquals(error.message.includes(wrong.toHex()), false);
      } finally {
        sender.close();
      }
    }
    const sender = proxiedSender(emulator, specOf(emulator, "ee", { secret: wrong }), 2);
    try {
      const error = await assertRejects(() => sender.connect(), ProxyError);
      assertEquals(error.step, "greeting");
      assertStringIncludes(error.message, "TLS alert, handshake_failure (40)");
      assertStringIncludes(error.message, "secret=***");
    } finally {
      sender.close();
    }
  } finally {
    await emulator.close();
  }
});

Deno.test("MTProxy ee: a wrong domain and a clock an hour off are refused at the hello, by name", async () => {
  const emulator = await emulatorWithFront();
  try {
    const other = proxiedSender(emulator, specOf(emulator, "ee", { domain: "example.org" }), 2);
    try {
      const error = await assertRejects(() => other.connect(), ProxyError);
      assertStringIncludes(error.message, "hello for example.org");
      assertStringIncludes(error.message, "unrecognized_name (112)");
    } finally {
      other.close();
    }
    const late = proxiedSender(
      emulator,
      specOf(emulator, "ee"),
      2,
      {},
      skewedClock(systemClock, 3_600_000),
    );
    try {
      const error = await assertRejects(() => late.connect(), ProxyError);
      assertStringIncludes(error.message, "handshake_failure (40)");
    } finally {
      late.close();
    }
  } finally {
    await emulator.close();
  }
});

Deno.test("MTProxy ee: a server hello that does not verify is refused before any MTProto byte", async () => {
  // A "proxy" that answers with a well-formed server hello made with another secret.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received: number[] = [];
  const serving = (async () => {
    const socket = await listener.accept();
    const { buildServerHello } = await import("../../lib/transport/fake_tls_server_hello.ts");
    const chunks = socket.readable.getReader();
    const first = await chunks.read();
    received.push(...first.value!);
    await socket.write(buildServerHello({
      key: new Uint8Array(16),
      clientDigest: first.value!.slice(11, 43),
      sessionId: new Uint8Array(32),
      random: secureRandom,
    }));
    for (let next; !(next = await chunks.read()).done;) received.push(...next.value!);
  })();
  const spec = { host: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port, secret: KEY };
  const route = mtproxyRoute({ ...spec, mode: "ee", domain: DOMAIN }, 2);
  try {
    const error = await assertRejects(() => route.connect(), ProxyError);
    assertStringIncludes(error.message, "does not verify");
    await serving;
    // Only the ClientHello went out: the connection closed with no record after it.
    assertEquals(received[0], 0x16);
    assertEquals(received.length, 5 + ((received[3] << 8) | received[4]));
  } finally {
    listener.close();
  }
});

Deno.test("MTProxy: a proxy that accepts and then stalls ends at the connect deadline, naming the proxy and the step", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const sockets: Deno.TcpConn[] = [];
  const received = { bytes: 0 };
  const accepting = (async () => {
    for await (const socket of listener) {
      sockets.push(socket);
      (async () => {
        for await (const chunk of socket.readable) received.bytes += chunk.length;
      })().catch(() => {});
    }
  })().catch(() => {});
  try {
    for (const mode of ["ee", "dd"] as const) {
      received.bytes = 0;
      const clock = new FakeClock();
      const spec = { host: "127.0.0.1", port, secret: KEY, mode, domain: DOMAIN };
      const sender = proxiedSender(undefined, spec, 2, { clock, connectTimeoutMs: 5000 });
      try {
        const failed = assertRejects(() => sender.connect(), ConnectTimeoutError);
        // The hello (ee) or the header and req_pq_multi (dd) reached the proxy: now it stalls.
        await until(() => received.bytes > 64, 10_000, "the first bytes at the proxy");
        await clock.advance(5000);
        const error = await failed;
        if (mode === "ee") {
          assertStringIncludes(error.message, "did not answer the fake-TLS hello for example.com");
          assertStringIncludes(error.message, "MTProxy proxy tg://proxy?server=127.0.0.1");
        } else {
          assertStringIncludes(error.message, "did not answer the key exchange (req_pq_multi)");
        }
        assertStringIncludes(error.message, "secret=***");
      } finally {
        sender.close();
      }
    }
  } finally {
    listener.close();
    for (const socket of sockets) {
      try {
        socket.close();
      } catch {
        // closed by the client's going away
      }
    }
    await accepting;
  }
});

Deno.test("obfuscation with a secret: keys are SHA-256(key ‖ secret); without one, unchanged", () => {
  const init = secureRandom(64);
  init[0] = 0x11; // not a reserved first byte or word
  init[4] = 0x22;
  const plain = createObfuscationHeader("padded", -3, replayRandom(init));
  const mixed = createObfuscationHeader("padded", -3, replayRandom(init), KEY);
  // Without a secret, the keystream is the header's own key bytes, as before.
  const own = new AesCtr(plain.header.slice(8, 40), plain.header.slice(40, 56));
  assertEquals([...own.process(plain.header).subarray(56, 62)], [
    0xdd,
    0xdd,
    0xdd,
    0xdd,
    0xfd,
    0xff,
  ]);
  assertEquals(plain.header.subarray(0, 56), mixed.header.subarray(0, 56));
  assertEquals(acceptObfuscationHeader(plain.header).dcId, -3);
  // With one, SHA-256(key ‖ secret) and the same IV; the tag and the signed DC id inside.
  const derived = new AesCtr(sha256(mixed.header.slice(8, 40), KEY), mixed.header.slice(40, 56));
  const opened = derived.process(mixed.header);
  assertEquals([...opened.subarray(56, 60)], [0xdd, 0xdd, 0xdd, 0xdd]);
  assertEquals(new DataView(opened.buffer).getInt16(60, true), -3);
  const accepted = acceptObfuscationHeader(mixed.header, KEY);
  assertEquals([accepted.kind, accepted.dcId], ["padded", -3]);
  // The front's side with the wrong secret reads garbage for a tag.
  let refused = false;
  try {
    acceptObfuscationHeader(mixed.header, new Uint8Array(16));
  } catch {
    refused = true;
  }
  assertEquals(refused, true);
});

Deno.test("MTProxy: the route refuses a key that is not 16 bytes, a DC id out of range, ee without a domain", () => {
  const spec = { host: "127.0.0.1", port: 1, secret: KEY, mode: "plain" as const };
  let errors = 0;
  for (
    const make of [
      () => mtproxyRoute({ ...spec, secret: new Uint8Array(17) }, 2),
      () => mtproxyRoute(spec, 40000),
      () => mtproxyRoute(spec, 0),
      () => mtproxyRoute({ ...spec, mode: "ee" }, 2),
    ]
  ) {
    try {
      make();
    } catch {
      errors++;
    }
  }
  assertEquals(errors, 4);
  // Test DCs are +10000, media negative: both fit the header's 16 bits.
  assertEquals(mtproxyRoute(spec, -10002).transport.dcId, -10002);
});
