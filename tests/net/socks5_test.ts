// The SOCKS5 client (#19) against small fake proxies on 127.0.0.1: the DC goes to the proxy as it
// was given (a name as a name, IPv4 and IPv6 as addresses), credentials per RFC 1929, the bytes
// the proxy sends after its reply kept for the stream, and every refusal a named error with the
// proxy (redacted) and the step; a stalled proxy ends at the sender's connect deadline, named.
import { assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { connectThroughSocks5, type Socks5Spec } from "../../lib/net/socks5.ts";
import { ProxyConnectionFailedError, ProxyError } from "../../lib/net/proxy_handshake.ts";
import { ConnectionFailedError, ConnectTimeoutError } from "../../lib/net/sender_errors.ts";
import {
  type FakeProxy,
  senderThrough,
  startEcho,
  startFakeSocks5,
} from "../support/fake_proxies.ts";
import { until } from "../support/until.ts";

const spec = (proxy: FakeProxy, user?: { username: string; password: string }): Socks5Spec => ({
  kind: "socks5",
  host: "127.0.0.1",
  port: proxy.port,
  ...(user ?? {}),
});

/** Reads from `reader` until `count` bytes came (the iterator stays open for more). */
async function readBytes(reader: AsyncIterator<Uint8Array>, count: number): Promise<Uint8Array> {
  const chunks: number[] = [];
  while (chunks.length < count) {
    const next = await reader.next();
    if (next.done) break;
    chunks.push(...next.value);
  }
  return Uint8Array.from(chunks);
}

Deno.test("a DC given by name goes to the proxy as that name, an address as IPv4 or IPv6; the stream works both ways and keeps the proxy's early bytes", async () => {
  const echo = startEcho();
  const early = new TextEncoder().encode("early");
  const proxy = startFakeSocks5({ early });
  try {
    const byName = await connectThroughSocks5(spec(proxy), "localhost", echo.port);
    // What the proxy sent in the same write as its reply belongs to the stream.
    const reader = byName.readable[Symbol.asyncIterator]();
    assertEquals(new TextDecoder().decode(await readBytes(reader, 5)), "early");
    await byName.write(new TextEncoder().encode("ping"));
    assertEquals(new TextDecoder().decode(await readBytes(reader, 4)), "ping");
    byName.close();
    const byAddress = await connectThroughSocks5(spec(proxy), "127.0.0.1", echo.port);
    byAddress.close();
    // IPv6: the fake proxy relays only to 127.0.0.1, so this one is refused, but it was asked.
    await assertRejects(
      () => connectThroughSocks5(spec(proxy), "::1", echo.port),
      ProxyConnectionFailedError,
    );
    assertEquals(proxy.requests, [
      { addressType: 3, host: "localhost", port: echo.port },
      { addressType: 1, host: "127.0.0.1", port: echo.port },
      { addressType: 4, host: "0:0:0:0:0:0:0:1", port: echo.port },
    ]);
  } finally {
    await proxy.close();
    await echo.close();
  }
});

Deno.test("through the proxy, a read target (a big frame's rest) is read into as on a direct connection, after the proxy's early bytes", async () => {
  const echo = startEcho();
  const proxy = startFakeSocks5({ early: new TextEncoder().encode("early") });
  try {
    const connection = await connectThroughSocks5(spec(proxy), "127.0.0.1", echo.port);
    const reader = connection.readable[Symbol.asyncIterator]();
    // The early bytes come first even when a target is offered (they were read already).
    const target = new Uint8Array(4);
    const first = await reader.next(target);
    assertEquals(new TextDecoder().decode(first.value as Uint8Array), "early");
    await connection.write(new TextEncoder().encode("part"));
    // The transport recognises its own buffer by identity: a copy elsewhere would be copied again.
    const read = await reader.next(target);
    assertEquals((read.value as Uint8Array).buffer, target.buffer);
    assertEquals(new TextDecoder().decode(read.value as Uint8Array), "part");
    connection.close();
  } finally {
    await proxy.close();
    await echo.close();
  }
});

Deno.test("user name and password (RFC 1929): accepted when right; wrong or missing ones are ProxyErrors naming the proxy, redacted, and the step", async () => {
  const echo = startEcho();
  const user = { username: "bob", password: "hunter2" };
  const proxy = startFakeSocks5({ user });
  try {
    (await connectThroughSocks5(spec(proxy, user), "127.0.0.1", echo.port)).close();
    const wrong = await assertRejects(
      () => connectThroughSocks5(spec(proxy, { ...user, password: "nope" }), "x", 1),
      ProxyError,
    );
    assertEquals(wrong.step, "auth");
    assertStringIncludes(
      wrong.message,
      `SOCKS5 proxy socks5://bob:***@127.0.0.1:${proxy.port} (auth): the user name and ` +
        `password were refused`,
    );
    assertEquals(!wrong.message.includes("nope"), true);
    const missing = await assertRejects(
      () => connectThroughSocks5(spec(proxy), "x", 1),
      ProxyError,
    );
    assertEquals(missing.step, "greeting");
    assertStringIncludes(missing.message, "none of the offered methods");
    // Refusals are not worth trying again: not a ConnectionFailed.
    assertEquals(!(wrong instanceof ConnectionFailedError), true);
  } finally {
    await proxy.close();
    await echo.close();
  }
});

Deno.test("a reply with a bogus address type is refused, naming it", async () => {
  const proxy = startFakeSocks5({ behaviour: "bogus_address_type" });
  try {
    const error = await assertRejects(
      () => connectThroughSocks5(spec(proxy), "localhost", 2443),
      ProxyError,
    );
    assertEquals(error.step, "connect request");
    assertStringIncludes(error.message, "bogus address type 9");
  } finally {
    await proxy.close();
  }
});

Deno.test("reply codes: a DC the proxy cannot reach is a ConnectionFailed (tried again), a ruleset refusal a ProxyError, each named", async () => {
  const refused = startFakeSocks5({ behaviour: { fail: 5 } });
  const ruled = startFakeSocks5({ behaviour: { fail: 2 } });
  try {
    const down = await assertRejects(
      () => connectThroughSocks5(spec(refused), "localhost", 2443),
      ProxyConnectionFailedError,
    );
    assertEquals(down.name, "ConnectionFailed");
    assertStringIncludes(
      down.message,
      `(connect request): could not connect to localhost:2443: connection refused (reply 5)`,
    );
    const forbidden = await assertRejects(
      () => connectThroughSocks5(spec(ruled), "localhost", 2443),
      ProxyError,
    );
    assertStringIncludes(forbidden.message, "connection not allowed by ruleset (reply 2)");
  } finally {
    await refused.close();
    await ruled.close();
  }
});

Deno.test("a proxy that closes mid-greeting, one that is not there, and one that is not SOCKS5: named, the first two tried again", async () => {
  const closing = startFakeSocks5({ behaviour: "close_mid_greeting" });
  const gone = startFakeSocks5();
  const gonePort = gone.port;
  await gone.close();
  const http = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const httpTask = (async () => {
    for await (const conn of http) {
      await conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n"));
      conn.close();
    }
  })().catch(() => {});
  try {
    const cut = await assertRejects(
      () => connectThroughSocks5(spec(closing), "localhost", 2443),
      ProxyConnectionFailedError,
    );
    assertEquals(cut.proxyStep, "greeting");
    assertStringIncludes(cut.message, "the proxy closed the connection");
    const absent = await assertRejects(
      () => connectThroughSocks5({ kind: "socks5", host: "127.0.0.1", port: gonePort }, "x", 1),
      ProxyConnectionFailedError,
    );
    assertEquals(absent.proxyStep, "connect to proxy");
    const wrongKind = await assertRejects(
      () =>
        connectThroughSocks5(
          { kind: "socks5", host: "127.0.0.1", port: (http.addr as Deno.NetAddr).port },
          "x",
          1,
        ),
      ProxyError,
    );
    assertStringIncludes(wrongKind.message, "not a SOCKS5 proxy");
  } finally {
    await closing.close();
    http.close();
    await httpTask;
  }
});

Deno.test("a proxy that accepts and stalls: the sender's connect deadline names the proxy and the step, and the proxy's socket is closed", async () => {
  const proxy = startFakeSocks5({ behaviour: "stall" });
  const { sender, clock } = senderThrough(
    (host, port, attempt) =>
      connectThroughSocks5(
        { kind: "socks5", host: "127.0.0.1", port: proxy.port, username: "bob", password: "pw" },
        host,
        port,
        undefined,
        attempt,
      ),
    "localhost",
  );
  try {
    const connecting = sender.connect();
    connecting.catch(() => {});
    await until(() => proxy.greeted === 1, 5000, "the proxy to read the greeting");
    await clock.advance(1000);
    const error = await assertRejects(() => connecting, ConnectTimeoutError);
    assertStringIncludes(
      error.message,
      `no connection within 1 s: the SOCKS5 proxy socks5://bob:***@127.0.0.1:${proxy.port} ` +
        `did not answer the greeting (greeting)`,
    );
    assertEquals(!error.message.includes(":pw@"), true);
    await until(() => proxy.closed === 1, 5000, "the client to close its socket to the proxy");
  } finally {
    sender.close();
    await proxy.close();
  }
});
