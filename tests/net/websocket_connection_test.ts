// The WebSocket byte connection (#19) against servers on 127.0.0.1: a Deno.serve echo that splits
// what it sends into frames of its own (the bytes come back as one stream), closes normal and
// abnormal, refusals, a silent server given up, and a server that stops reading (writes wait).
// Through SOCKS5 and HTTP CONNECT proxies, the project's own RFC 6455 client against a raw
// server that checks every frame (masked, binary), sends long, fragmented, ping and close frames,
// and a wrong Sec-WebSocket-Accept; `wss://` through a proxy with a certificate made here.
// Telegram's URLs are asserted as strings; nothing here leaves 127.0.0.1.
import { assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { sha1 } from "../../lib/crypto/hash.ts";
import { ProxyError } from "../../lib/net/proxy_handshake.ts";
import { ConnectionFailedError } from "../../lib/net/sender_errors.ts";
import type { ByteConnection } from "../../lib/net/tcp_connection.ts";
import {
  connectWebSocket,
  parseWebSocketUrl,
  telegramWebSocketUrl,
} from "../../lib/net/websocket_connection.ts";
import { startFakeHttpProxy, startFakeSocks5 } from "../support/fake_proxies.ts";

/** Reads `connection` until `count` bytes came (or it ended): them, joined. */
async function readBytes(connection: ByteConnection, count: number): Promise<Uint8Array> {
  const out = new Uint8Array(count);
  let filled = 0;
  const reader = connection.readable[Symbol.asyncIterator]();
  while (filled < count) {
    const next = await reader.next();
    if (next.done) break;
    out.set(next.value.subarray(0, count - filled), filled);
    filled += next.value.length;
  }
  return out.subarray(0, filled);
}

function pattern(length: number, seed = 7): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index++) bytes[index] = (index * 31 + seed) & 0xff;
  return bytes;
}

/** Whether `a` and `b` hold the same bytes (fast for many MB, unlike a deep comparison). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

/**
 * A Deno.serve WebSocket server on 127.0.0.1 at /apiws: echoes in frames of `frame` bytes, or
 * on the text "close CODE" closes with that code. Records the subprotocols asked for.
 */
function startEchoServer(frame = 4096, tls?: { cert: string; key: string }) {
  const asked: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {}, ...tls },
    (request) => {
      if (new URL(request.url).pathname !== "/apiws") return new Response("no", { status: 404 });
      asked.push(request.headers.get("sec-websocket-protocol") ?? "");
      const { socket, response } = Deno.upgradeWebSocket(request, { protocol: "binary" });
      socket.binaryType = "arraybuffer";
      socket.onmessage = (event) => {
        const bytes = new Uint8Array(event.data as ArrayBuffer);
        const text = new TextDecoder().decode(bytes);
        if (text.startsWith("close ")) return socket.close(Number(text.slice(6)), "bye");
        for (let at = 0; at < bytes.length; at += frame) socket.send(bytes.slice(at, at + frame));
      };
      return response;
    },
  );
  const scheme = tls ? "wss" : "ws";
  return { url: `${scheme}://127.0.0.1:${server.addr.port}/apiws`, asked, server };
}

Deno.test("Telegram's WebSocket URLs by DC: names, apiws_test, -1 for media; none for other DCs", () => {
  const names = ["pluto", "venus", "aurora", "vesta", "flora"];
  for (const [index, name] of names.entries()) {
    assertEquals(
      telegramWebSocketUrl(index + 1, { test: false }),
      `wss://${name}.web.telegram.org/apiws`,
    );
    assertEquals(
      telegramWebSocketUrl(index + 1, { test: true }),
      `wss://${name}.web.telegram.org/apiws_test`,
    );
    assertEquals(
      telegramWebSocketUrl(index + 1, { test: false, media: true }),
      `wss://${name}-1.web.telegram.org/apiws`,
    );
  }
  assertEquals(telegramWebSocketUrl(6, { test: false }), undefined);
  assertEquals(telegramWebSocketUrl(203, { test: false }), undefined);
  assertEquals(telegramWebSocketUrl(0, { test: false }), undefined);
});

Deno.test("WebSocket URLs: ws:// and wss:// only, without credentials", () => {
  assertEquals(parseWebSocketUrl("ws://127.0.0.1:80/apiws"), "ws://127.0.0.1/apiws");
  assertEquals(parseWebSocketUrl("wss://example.test/apiws"), "wss://example.test/apiws");
  for (
    const [text, says] of [
      ["http://127.0.0.1/apiws", "ws:// or wss://"],
      ["ws://a:b@127.0.0.1/apiws", "no user name"],
      ["not a url", "not a URL"],
    ]
  ) {
    let error: Error | undefined;
    try {
      parseWebSocketUrl(text);
    } catch (caught) {
      error = caught as Error;
    }
    assertStringIncludes(String(error?.message), says);
  }
});

Deno.test("direct WebSocket: subprotocol binary, and the bytes come back as one stream whatever the frames", async () => {
  const echo = startEchoServer(7);
  try {
    const connection = await connectWebSocket(echo.url);
    const parts = [pattern(1), pattern(1000, 3), pattern(70_000, 5)];
    for (const part of parts) await connection.write(part);
    const all = new Uint8Array(71_001);
    let at = 0;
    for (const part of parts) all.set(part, (at += part.length) - part.length);
    assertEquals(await readBytes(connection, all.length), all);
    assertEquals(echo.asked, ["binary"]);
    connection.close();
    // Closed by us: the stream ends quietly, and a write says it is closed.
    for await (const _ of connection.readable) { /* drained */ }
    await assertRejects(() => connection.write(pattern(1)), ConnectionFailedError, "is closed");
  } finally {
    await echo.server.shutdown();
  }
});

Deno.test("direct WebSocket: a normal close ends the stream, any other is an error naming the code", async () => {
  const echo = startEchoServer();
  try {
    const normal = await connectWebSocket(echo.url);
    await normal.write(new TextEncoder().encode("close 1000"));
    for await (const _ of normal.readable) { /* ends without an error */ }
    const abnormal = await connectWebSocket(echo.url);
    await abnormal.write(new TextEncoder().encode("close 1011"));
    const error = await assertRejects(async () => {
      for await (const _ of abnormal.readable) { /* until it fails */ }
    }, ConnectionFailedError);
    assertStringIncludes(error.message, `the WebSocket ${echo.url} closed with code 1011`);
  } finally {
    await echo.server.shutdown();
  }
});

Deno.test("direct WebSocket: nothing listening, or no WebSocket at that path: ConnectionFailed naming the URL", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const refused = await assertRejects(
    () => connectWebSocket(`ws://127.0.0.1:${port}/apiws`),
    ConnectionFailedError,
  );
  // Refused, as a rule; once in a long while a connect to a closed loopback port meets itself
  // (TCP's simultaneous open) and the handshake fails instead: either way, the URL is named.
  assertStringIncludes(refused.message, `ws://127.0.0.1:${port}/apiws`);
  const echo = startEchoServer();
  try {
    const url = echo.url.replace("/apiws", "/other");
    const missing = await assertRejects(() => connectWebSocket(url), ConnectionFailedError);
    assertStringIncludes(
      missing.message,
      `the WebSocket handshake with ${url} failed: it answered`,
    );
  } finally {
    await echo.server.shutdown();
  }
});

/** A client frame as a raw server reads it. */
interface ClientFrame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
}

/**
 * One connection of a raw WebSocket server: reads the client's opening request, answers it (a
 * wrong accept or another status when told), then reads and writes frames by hand.
 */
class RawPeer {
  /** What was read and not yet taken, in the chunks it came in. */
  #chunks: Uint8Array[] = [];
  #length = 0;
  request: string[] = [];
  constructor(readonly conn: Deno.Conn) {}

  async #more(): Promise<boolean> {
    const chunk = new Uint8Array(1 << 16);
    const read = await this.conn.read(chunk).catch(() => null);
    if (read === null) return false;
    this.#chunks.push(chunk.subarray(0, read));
    this.#length += read;
    return true;
  }

  async #bytes(count: number): Promise<Uint8Array | undefined> {
    while (this.#length < count) if (!(await this.#more())) return undefined;
    const bytes = new Uint8Array(count);
    for (let filled = 0; filled < count;) {
      const chunk = this.#chunks[0];
      const taken = Math.min(chunk.length, count - filled);
      bytes.set(chunk.subarray(0, taken), filled);
      filled += taken;
      if (taken === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(taken);
    }
    this.#length -= count;
    return bytes;
  }

  /** Reads the opening request; answers `status` (101 with a right or `wrongAccept`). */
  async handshake(status = 101, wrongAccept = false): Promise<void> {
    for (;;) {
      const joined = (await this.#bytes(this.#length))!;
      this.#chunks = [joined];
      this.#length = joined.length;
      const text = new TextDecoder("latin1").decode(joined);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        this.request = text.slice(0, end).split("\r\n");
        await this.#bytes(end + 4);
        break;
      }
      if (!(await this.#more())) throw new Error("no request");
    }
    const key = this.header("sec-websocket-key") ?? "";
    const accept = sha1(new TextEncoder().encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
    if (wrongAccept) accept[0] ^= 1;
    const answer = status === 101
      ? [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Accept: ${accept.toBase64()}`,
        "Sec-WebSocket-Protocol: binary",
      ]
      : [`HTTP/1.1 ${status} Forbidden`, "Content-Length: 0"];
    await this.write(new TextEncoder().encode(answer.join("\r\n") + "\r\n\r\n"));
  }

  header(name: string): string | undefined {
    const line = this.request.find((line) => line.toLowerCase().startsWith(`${name}:`));
    return line?.slice(name.length + 1).trim();
  }

  async frame(): Promise<ClientFrame | undefined> {
    const head = await this.#bytes(2);
    if (!head) return undefined;
    let length = head[1] & 0x7f;
    if (length === 126) {
      const more = (await this.#bytes(2))!;
      length = (more[0] << 8) | more[1];
    } else if (length === 127) {
      const more = (await this.#bytes(8))!;
      length = Number(new DataView(more.buffer).getBigUint64(0));
    }
    const masked = (head[1] & 0x80) !== 0;
    const mask = masked ? (await this.#bytes(4))! : new Uint8Array(4);
    const payload = (await this.#bytes(length))!;
    for (let index = 0; index < payload.length; index++) payload[index] ^= mask[index & 3];
    return { fin: (head[0] & 0x80) !== 0, opcode: head[0] & 0x0f, masked, payload };
  }

  /** Sends a server frame (unmasked). */
  async send(opcode: number, payload: Uint8Array, fin = true): Promise<void> {
    const length = payload.length;
    const header = length < 126 ? [length] : length < 65536 ? [126, length >> 8, length & 0xff] : [
      127,
      0,
      0,
      0,
      0,
      length >>> 24,
      (length >> 16) & 0xff,
      (length >> 8) & 0xff,
      length & 0xff,
    ];
    const frame = new Uint8Array(1 + header.length + length);
    frame[0] = (fin ? 0x80 : 0) | opcode;
    frame.set(header, 1);
    frame.set(payload, 1 + header.length);
    await this.write(frame);
  }

  async write(bytes: Uint8Array): Promise<void> {
    for (let written = 0; written < bytes.length;) {
      written += await this.conn.write(bytes.subarray(written));
    }
  }

  /** Waits until the client closes the TCP connection; true when it did. */
  async closed(): Promise<boolean> {
    while (await this.#more()) this.#chunks = [];
    return true;
  }
}

/** A raw server on 127.0.0.1: each accepted connection handed to `serve`. */
function startRawServer(serve: (peer: RawPeer) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done: Promise<void>[] = [];
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      done.push(
        serve(new RawPeer(conn)).finally(() => {
          try {
            conn.close();
          } catch {
            // closed already
          }
        }),
      );
    }
  })().catch(() => {});
  return {
    url: `ws://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/apiws`,
    async close() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // closed already
        }
      }
      await Promise.allSettled(done);
    },
  };
}

Deno.test("direct WebSocket: a silent server is given up when the attempt is aborted, its socket closed", async () => {
  let accepted!: () => void;
  const acceptedPromise = new Promise<void>((resolve) => (accepted = resolve));
  let sawClose = false;
  const server = startRawServer(async (peer) => {
    accepted();
    sawClose = await peer.closed();
  });
  const abort = new AbortController();
  const waiting: string[] = [];
  try {
    const opening = connectWebSocket(server.url, {
      attempt: { signal: abort.signal, waiting: (what) => waiting.push(what) },
    });
    await acceptedPromise;
    abort.abort();
    const error = await assertRejects(() => opening, ConnectionFailedError);
    assertStringIncludes(error.message, "given up");
    // What it waited for, step by step: the abort may come before the handshake is under way.
    const { port } = new URL(server.url);
    const steps = [
      `the TCP connect to 127.0.0.1:${port} for the WebSocket ${server.url} got no answer`,
      `the WebSocket ${server.url} did not answer the opening handshake`,
    ];
    assertEquals(waiting, steps.slice(0, waiting.length));
    assertEquals(waiting.length >= 1, true);
  } finally {
    await server.close();
  }
  assertEquals(sawClose, true);
});

Deno.test("direct WebSocket: while the server reads nothing, a write waits; then every byte arrives in order", async () => {
  let reading!: () => void;
  const startReading = new Promise<void>((resolve) => (reading = resolve));
  const received: Uint8Array[] = [];
  let receivedBytes = 0;
  const total = 16 << 20;
  let done!: () => void;
  const allReceived = new Promise<void>((resolve) => (done = resolve));
  const server = startRawServer(async (peer) => {
    await peer.handshake();
    await startReading;
    for (let frame; receivedBytes < total && (frame = await peer.frame());) {
      assertEquals([frame.opcode, frame.masked], [2, true]);
      received.push(frame.payload);
      receivedBytes += frame.payload.length;
    }
    done();
  });
  try {
    const connection = await connectWebSocket(server.url);
    const big = pattern(total);
    let settled = false;
    const write = connection.write(big).then(() => (settled = true));
    // A round trip through the kernel: an unheld write would have settled long before it.
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const [, probeConn] = await Promise.all([
      probe.accept(),
      Deno.connect({ hostname: "127.0.0.1", port: (probe.addr as Deno.NetAddr).port }),
    ]);
    probeConn.close();
    probe.close();
    assertEquals(settled, false, "the write settled while the server read nothing");
    reading();
    await write;
    await allReceived;
    const joined = new Uint8Array(receivedBytes);
    let at = 0;
    for (const part of received) joined.set(part, (at += part.length) - part.length);
    assertEquals(joined.length, total);
    assertEquals(sameBytes(joined, big), true);
    connection.close();
  } finally {
    await server.close();
  }
});

for (const kind of ["http", "socks5"] as const) {
  Deno.test(`own RFC 6455 client through a ${kind} proxy: the opening request, masked binary frames, long and fragmented frames, ping, close`, async () => {
    const sent = pattern(70_000, 9);
    const long = pattern(200, 1);
    const huge = pattern(66_000, 2);
    let pong: ClientFrame | undefined;
    let closeReply: ClientFrame | undefined;
    let request: string[] = [];
    const frames: ClientFrame[] = [];
    let gotAll!: () => void;
    const gotAllPromise = new Promise<void>((resolve) => (gotAll = resolve));
    let served!: () => void;
    const servedPromise = new Promise<void>((resolve) => (served = resolve));
    const server = startRawServer(async (peer) => {
      await peer.handshake();
      request = peer.request;
      let bytes = 0;
      while (bytes < sent.length) {
        const frame = (await peer.frame())!;
        frames.push(frame);
        bytes += frame.payload.length;
      }
      gotAll();
      await peer.send(2, long);
      await peer.send(2, huge.subarray(0, 1000), false); // fragments of one message
      await peer.send(0, huge.subarray(1000), true);
      await peer.send(9, new TextEncoder().encode("abc"));
      pong = await peer.frame();
      await peer.send(8, Uint8Array.of(0x03, 0xe8)); // close 1000
      closeReply = await peer.frame();
      await peer.closed();
      served();
    });
    const proxy = kind === "http" ? startFakeHttpProxy() : startFakeSocks5();
    const proxyUrl = `${kind}://127.0.0.1:${proxy.port}`;
    try {
      const spec = { kind, host: "127.0.0.1", port: proxy.port } as const;
      const connection = await connectWebSocket(server.url, { proxy: spec });
      await connection.write(sent.subarray(0, 10));
      await connection.write(sent.subarray(10));
      await gotAllPromise;
      assertEquals(request[0], "GET /apiws HTTP/1.1");
      const port = new URL(server.url).port;
      for (
        const line of [
          `Host: 127.0.0.1:${port}`,
          "Upgrade: websocket",
          "Connection: Upgrade",
          "Sec-WebSocket-Version: 13",
          "Sec-WebSocket-Protocol: binary",
        ]
      ) assertEquals(request.includes(line), true, `${line} in ${request}`);
      const key = request.find((line) => line.startsWith("Sec-WebSocket-Key: "))!.slice(19);
      assertEquals(Uint8Array.fromBase64(key).length, 16);
      assertEquals(frames.map((frame) => [frame.fin, frame.opcode, frame.masked]), [
        [true, 2, true],
        [true, 2, true],
      ]);
      assertEquals(frames.map((frame) => frame.payload.length), [10, 69_990]);
      const received = await readBytes(connection, long.length + huge.length);
      const expected = new Uint8Array(long.length + huge.length);
      expected.set(long);
      expected.set(huge, long.length);
      assertEquals(received, expected);
      // The stream ends once the server closes: the ping answered and the close returned first.
      for await (const _ of connection.readable) { /* until the close */ }
      await servedPromise;
      assertEquals([pong?.opcode, pong?.masked, new TextDecoder().decode(pong?.payload)], [
        10,
        true,
        "abc",
      ]);
      assertEquals([closeReply?.opcode, [...closeReply!.payload]], [8, [0x03, 0xe8]]);
      assertEquals(proxy.requests.map((asked) => asked.port), [Number(port)]);
      assertEquals(proxyUrl.startsWith(kind), true);
    } finally {
      await server.close();
      await proxy.close();
    }
  });
}

Deno.test("own RFC 6455 client: a wrong Sec-WebSocket-Accept, a refusal and a text frame are errors naming the URL", async () => {
  let mode: "accept" | "status" | "text" = "accept";
  const server = startRawServer(async (peer) => {
    if (mode === "accept") return await peer.handshake(101, true);
    if (mode === "status") return await peer.handshake(403);
    await peer.handshake();
    await peer.send(1, new TextEncoder().encode("hello"));
    await peer.closed();
  });
  const proxy = startFakeHttpProxy();
  const spec = { kind: "http", host: "127.0.0.1", port: proxy.port } as const;
  try {
    const wrong = await assertRejects(
      () => connectWebSocket(server.url, { proxy: spec }),
      ConnectionFailedError,
    );
    assertStringIncludes(wrong.message, `the WebSocket handshake with ${server.url} failed`);
    assertStringIncludes(wrong.message, "Sec-WebSocket-Accept");
    mode = "status";
    const refused = await assertRejects(
      () => connectWebSocket(server.url, { proxy: spec }),
      ConnectionFailedError,
    );
    assertStringIncludes(refused.message, '"HTTP/1.1 403 Forbidden"');
    mode = "text";
    const connection = await connectWebSocket(server.url, { proxy: spec });
    const text = await assertRejects(async () => {
      for await (const _ of connection.readable) { /* until it fails */ }
    }, ConnectionFailedError);
    assertStringIncludes(text.message, "a text frame");
  } finally {
    await server.close();
    await proxy.close();
  }
});

Deno.test("own RFC 6455 client against Deno's WebSocket server through SOCKS5: echo and a normal close", async () => {
  const echo = startEchoServer(5000);
  const proxy = startFakeSocks5();
  try {
    const connection = await connectWebSocket(echo.url, {
      proxy: { kind: "socks5", host: "127.0.0.1", port: proxy.port },
    });
    const bytes = pattern(200_000, 4);
    await connection.write(bytes);
    assertEquals(await readBytes(connection, bytes.length), bytes);
    assertEquals(echo.asked, ["binary"]);
    await connection.write(new TextEncoder().encode("close 1000"));
    for await (const _ of connection.readable) { /* ends without an error */ }
  } finally {
    await proxy.close();
    await echo.server.shutdown();
  }
});

Deno.test("a WebSocket cannot go through an MTProxy: ProxyError before any connection", async () => {
  const error = await assertRejects(
    () =>
      connectWebSocket("ws://127.0.0.1:1/apiws", {
        proxy: {
          kind: "mtproxy",
          host: "127.0.0.1",
          port: 1,
          secret: new Uint8Array(16),
          mode: "plain",
        },
      }),
    ProxyError,
  );
  assertStringIncludes(error.message, "an MTProxy cannot carry a WebSocket");
});

/** A CA and a certificate for 127.0.0.1 signed by it, made with openssl in `dir`. */
async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const run = async (args: string[]) => {
    const output = await new Deno.Command("openssl", { args, cwd: dir, stderr: "piped" }).output();
    if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  };
  await run([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=websocket test CA",
  ]);
  await run([
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  await run([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  ]);
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  return {
    ca: await read("ca.pem"),
    cert: await read("server.pem"),
    key: await read("server.key"),
  };
}

Deno.test("wss:// through an HTTP CONNECT proxy: TLS over the tunnel (the certificate checked), then the WebSocket", async () => {
  const dir = await Deno.makeTempDir({ prefix: "websocket_tls_" });
  const { ca, cert, key } = await makeCertificates(dir);
  const echo = startEchoServer(3000, { cert, key });
  const proxy = startFakeHttpProxy();
  const spec = { kind: "http", host: "127.0.0.1", port: proxy.port } as const;
  try {
    const connection = await connectWebSocket(echo.url, { proxy: spec, caCerts: [ca] });
    const bytes = pattern(100_000, 6);
    await connection.write(bytes);
    assertEquals(await readBytes(connection, bytes.length), bytes);
    connection.close();
    // Without the CA the certificate is not trusted: no WebSocket.
    await assertRejects(() => connectWebSocket(echo.url, { proxy: spec }), ConnectionFailedError);
  } finally {
    await proxy.close();
    await echo.server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wss:// straight to the server: TLS with the certificate checked, then the WebSocket", async () => {
  const dir = await Deno.makeTempDir({ prefix: "websocket_tls_" });
  const { ca, cert, key } = await makeCertificates(dir);
  const echo = startEchoServer(3000, { cert, key });
  try {
    assertEquals(echo.url.startsWith("wss://"), true, echo.url);
    const connection = await connectWebSocket(echo.url, { caCerts: [ca] });
    const bytes = pattern(100_000, 7);
    await connection.write(bytes);
    assertEquals(await readBytes(connection, bytes.length), bytes);
    connection.close();
    // A certificate nobody vouches for: a named error, no WebSocket.
    const untrusted = await assertRejects(() => connectWebSocket(echo.url), ConnectionFailedError);
    assertStringIncludes(untrusted.message, echo.url);
  } finally {
    await echo.server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
