// The emulator's MTProxy front, seen from raw sockets on 127.0.0.1: what it relays to the DC the
// header names (de-obfuscated, behind the plain marker of the client's framing; a negative id to
// the media-only port, a test DC's +10000 ignored), and how it refuses as a real proxy does — a
// wrong secret closes, a replayed header or hello is refused, a dd secret takes padded framing
// only, a TLS hello it cannot serve gets a fatal alert (a stale time, another domain, an unknown
// secret); and the `emulator --mtproxy` command's link lines.

import { assertEquals, assertStringIncludes } from "../assert.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { systemClock } from "../../lib/io/clock.ts";
import { EMULATOR_HELP, runEmulatorCommand } from "../../lib/cli/emulator_command.ts";
import { type MtproxyFront, startMtproxyFront } from "../../lib/emulator/mtproxy_front.ts";
import { buildClientHello } from "../../lib/transport/fake_tls_hello.ts";
import { FakeTlsRecordReader, FakeTlsRecordWriter } from "../../lib/transport/fake_tls_records.ts";
import { readServerHello, serverHelloVerifies } from "../../lib/transport/fake_tls_server_hello.ts";
import type { TransportKind } from "../../lib/transport/framing.ts";
import { createObfuscationHeader } from "../../lib/transport/obfuscated.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { until } from "../support/until.ts";

const KEY = Uint8Array.fromHex("00112233445566778899aabbccddeeff");
const OTHER = Uint8Array.fromHex("ffeeddccbbaa99887766554433221100");
const DOMAIN = "example.com";
const EE = `ee${KEY.toHex()}${new TextEncoder().encode(DOMAIN).toHex()}`;

/** A listener standing in for the DCs: records what each connection brings, answers "pong". */
function fakeDcs() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const received: number[][] = [];
  const sockets: Deno.TcpConn[] = [];
  const serving = (async () => {
    for await (const socket of listener) {
      sockets.push(socket);
      const bytes: number[] = [];
      received.push(bytes);
      (async () => {
        let answered = false;
        for await (const chunk of socket.readable) {
          bytes.push(...chunk);
          if (!answered) {
            answered = true;
            await socket.write(new TextEncoder().encode("pong"));
          }
        }
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    port,
    received,
    async close() {
      listener.close();
      for (const socket of sockets) {
        try {
          socket.close();
        } catch {
          // closed by the front
        }
      }
      await serving;
    },
  };
}

/** A front over `dcs`, recording each DC it was asked for. */
function frontOver(
  dcs: { port: number },
  secrets: string[],
  clock = systemClock,
): { front: MtproxyFront; asked: string[]; logs: string[] } {
  const asked: string[] = [];
  const logs: string[] = [];
  const front = startMtproxyFront({
    secrets,
    dcPort: (dc, media) => {
      asked.push(`${dc}${media ? " media" : ""}`);
      return dc === 2 ? dcs.port : undefined;
    },
    clock,
    random: secureRandom,
    log: (line) => logs.push(line),
  });
  return { front, asked, logs };
}

/**
 * Connects to the front, writes `bytes`, and reads until it closes, or until `enough` (a byte
 * count, or a test of what came) is met.
 */
async function exchange(
  port: number,
  bytes: Uint8Array,
  enough: number | ((got: Uint8Array) => boolean) = Infinity,
): Promise<Uint8Array> {
  const socket = await Deno.connect({ hostname: "127.0.0.1", port });
  const got: number[] = [];
  const done = typeof enough === "number"
    ? () => got.length >= enough
    : () => enough(new Uint8Array(got));
  try {
    await socket.write(bytes);
    for await (const chunk of socket.readable) {
      got.push(...chunk);
      if (done()) break;
    }
  } finally {
    try {
      socket.close();
    } catch {
      // closed by the front
    }
  }
  return new Uint8Array(got);
}

/** An obfuscated opening: the header with `key`, then `payload` encrypted after it. */
function opening(kind: Exclude<TransportKind, "full">, dcId: number, key: Uint8Array) {
  const { header, send, receive } = createObfuscationHeader(kind, dcId, secureRandom, key);
  const payload = new TextEncoder().encode("ping");
  return { bytes: new Uint8Array([...header, ...send.process(payload)]), receive };
}

Deno.test("front: plain and dd clients reach the DC their header names, de-obfuscated behind the plain marker", async () => {
  const dcs = fakeDcs();
  const { front, asked } = frontOver(dcs, [OTHER.toHex(), `dd${KEY.toHex()}`]);
  try {
    const cases = [
      { kind: "intermediate" as const, key: OTHER, dc: 2, marker: [0xee, 0xee, 0xee, 0xee] },
      { kind: "abridged" as const, key: OTHER, dc: -2, marker: [0xef] },
      { kind: "padded" as const, key: KEY, dc: 10002, marker: [0xdd, 0xdd, 0xdd, 0xdd] },
    ];
    for (const [index, { kind, key, dc, marker }] of cases.entries()) {
      const { bytes, receive } = opening(kind, dc, key);
      const answer = await exchange(front.port, bytes, 4);
      // The DC's answer comes back encrypted with the client's receiving keystream.
      assertEquals(new TextDecoder().decode(receive.process(answer)), "pong");
      assertEquals(dcs.received[index], [...marker, ...new TextEncoder().encode("ping")]);
    }
    assertEquals(asked, ["2", "2 media", "2"]);
  } finally {
    await front.close();
    await dcs.close();
  }
});

Deno.test("front: a wrong secret, a replayed header, a dd secret without padding, an unknown DC: closed, nothing relayed", async () => {
  const dcs = fakeDcs();
  const { front, logs } = frontOver(dcs, [`dd${KEY.toHex()}`]);
  try {
    assertEquals((await exchange(front.port, opening("padded", 2, OTHER).bytes)).length, 0);
    assertEquals((await exchange(front.port, opening("intermediate", 2, KEY).bytes)).length, 0);
    assertEquals((await exchange(front.port, opening("padded", 5, KEY).bytes)).length, 0);
    const once = opening("padded", 2, KEY).bytes;
    assertEquals((await exchange(front.port, once, 4)).length, 4);
    assertEquals((await exchange(front.port, once)).length, 0);
    assertEquals(dcs.received.length, 1, "only the first of the replayed pair reached a DC");
    const said = logs.join("\n");
    assertStringIncludes(said, "an obfuscation header none of its secrets opens");
    assertStringIncludes(said, "no DC 5 to route to");
    assertStringIncludes(said, "a replayed obfuscation header");
    assertEquals(said.includes(KEY.toHex()), false, "no secret in the log");
  } finally {
    await front.close();
    await dcs.close();
  }
});

Deno.test("front ee: a signed hello gets a verifiable server hello, then records carry the stream both ways", async () => {
  const dcs = fakeDcs();
  const { front } = frontOver(dcs, [EE]);
  try {
    const hello = buildClientHello({
      key: KEY,
      domain: DOMAIN,
      unixTime: Math.floor(Date.now() / 1000),
      random: secureRandom,
    });
    const { bytes, receive } = opening("padded", 2, KEY);
    const records = new FakeTlsRecordWriter(2878, true).pack(bytes);
    // The server hello, then the DC's "pong" in a record.
    const payloadOf = (got: Uint8Array) => {
      const progress = readServerHello(got);
      return progress.status === "complete"
        ? new FakeTlsRecordReader().unpack(progress.rest)
        : new Uint8Array(0);
    };
    const answer = await exchange(
      front.port,
      new Uint8Array([...hello, ...records]),
      (got) => payloadOf(got).length >= 4,
    );
    const progress = readServerHello(answer);
    if (progress.status !== "complete") throw new Error(`server hello: ${progress.status}`);
    assertEquals(serverHelloVerifies(progress.answer, hello.slice(11, 43), KEY), true);
    assertEquals(new TextDecoder().decode(receive.process(payloadOf(answer))), "pong");
    assertEquals(dcs.received[0], [0xdd, 0xdd, 0xdd, 0xdd, ...new TextEncoder().encode("ping")]);
  } finally {
    await front.close();
    await dcs.close();
  }
});

Deno.test("front ee: an unknown secret, another domain, a stale time and a replayed hello get a fatal TLS alert", async () => {
  const dcs = fakeDcs();
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const now = Math.floor(clock.wall() / 1000);
  const { front, logs } = frontOver(dcs, [EE], clock);
  const hello = (options: { key?: Uint8Array; domain?: string; unixTime?: number } = {}) =>
    buildClientHello({
      key: options.key ?? KEY,
      domain: options.domain ?? DOMAIN,
      unixTime: options.unixTime ?? now,
      random: secureRandom,
    });
  const alert = (description: number) => [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, description];
  try {
    assertEquals([...await exchange(front.port, hello({ key: OTHER }))], alert(40));
    assertEquals([...await exchange(front.port, hello({ domain: "example.org" }))], alert(112));
    assertEquals([...await exchange(front.port, hello({ unixTime: now - 601 }))], alert(40));
    assertEquals([...await exchange(front.port, hello({ unixTime: now + 601 }))], alert(40));
    // Within the window: a server hello (its first record a handshake one).
    assertEquals((await exchange(front.port, hello({ unixTime: now - 599 }), 1))[0], 0x16);
    const once = hello();
    assertEquals((await exchange(front.port, once, 1))[0], 0x16);
    assertEquals([...await exchange(front.port, once)], alert(40));
    // A client of plain obfuscation, at a front of ee secrets only: closed.
    assertEquals((await exchange(front.port, opening("padded", 2, KEY).bytes)).length, 0);
    assertEquals(dcs.received.length, 0, "nothing reached a DC");
    const said = logs.join("\n");
    assertStringIncludes(said, "a TLS hello none of its ee secrets signed");
    assertStringIncludes(said, 'a TLS hello for domain "example.org"');
    assertStringIncludes(said, "whose time is -601 s off");
    assertStringIncludes(said, "a replayed TLS hello");
  } finally {
    await front.close();
    await dcs.close();
  }
});

Deno.test("emulator --mtproxy prints one tg://proxy link per secret after the server line", async () => {
  let stop = () => {};
  const lines: string[] = [];
  const env: Record<string, string> = { MTPROTO2JSON_EMULATOR_MTPROXY: `dd${KEY.toHex()}` };
  const status = runEmulatorCommand(
    ["--port", "0", "--dcs", "1", "--mtproxy", `${OTHER.toHex()},${EE}`],
    {
      write: (text) => void lines.push(...text.trimEnd().split("\n")),
      log: () => {},
      readTextFile: () => Promise.reject(new Error("no files")),
      writeSecretFile: () => Promise.reject(new Error("no writes")),
      stopped: new Promise((resolve) => (stop = resolve)),
      env: (name) => env[name],
      clock: systemClock,
    },
  );
  try {
    await until(() => lines.length >= 3, 30_000, "the server line and the link lines");
    assertEquals(Object.keys(JSON.parse(lines[0])), ["server"]);
    const links = lines.slice(1).map((line) => JSON.parse(line).mtproxy.link as string);
    const port = new URL(links[0]).searchParams.get("port");
    assertEquals(links, [
      `tg://proxy?server=127.0.0.1&port=${port}&secret=${OTHER.toHex()}`,
      `tg://proxy?server=127.0.0.1&port=${port}&secret=${EE}`,
    ]);
    assertStringIncludes(EMULATOR_HELP, "--mtproxy SECRET[,SECRET...]");
  } finally {
    stop();
    assertEquals(await status, 0);
  }
});
