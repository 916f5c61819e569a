// The HTTP CONNECT client (#19) against small fake proxies on 127.0.0.1: the DC goes to the proxy
// as it was given (a name stays a name), Basic credentials, the bytes after the reply's blank line
// kept for the stream; a status other than 2xx names its status line, the proxy (redacted) and the
// step; a stalled proxy ends at the sender's connect deadline, named.
import { assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import { connectThroughHttp, type HttpProxySpec } from "../../lib/net/http_connect.ts";
import { ProxyConnectionFailedError, ProxyError } from "../../lib/net/proxy_handshake.ts";
import { ConnectTimeoutError } from "../../lib/net/sender_errors.ts";
import {
  type FakeProxy,
  senderThrough,
  startEcho,
  startFakeHttpProxy,
} from "../support/fake_proxies.ts";
import { until } from "../support/until.ts";

const spec = (proxy: FakeProxy, user?: { username: string; password: string }): HttpProxySpec => ({
  kind: "http",
  host: "127.0.0.1",
  port: proxy.port,
  ...(user ?? {}),
});

async function readText(reader: AsyncIterator<Uint8Array>, count: number): Promise<string> {
  const chunks: number[] = [];
  while (chunks.length < count) {
    const next = await reader.next();
    if (next.done) break;
    chunks.push(...next.value);
  }
  return new TextDecoder().decode(Uint8Array.from(chunks));
}

Deno.test("CONNECT sends a DC's name as the name, with Basic credentials; the stream keeps the bytes after the reply", async () => {
  const echo = startEcho();
  const user = { username: "bob", password: "hunter2" };
  const proxy = startFakeHttpProxy({ user, early: new TextEncoder().encode("early") });
  try {
    const connection = await connectThroughHttp(spec(proxy, user), "localhost", echo.port);
    const reader = connection.readable[Symbol.asyncIterator]();
    assertEquals(await readText(reader, 5), "early");
    await connection.write(new TextEncoder().encode("ping"));
    assertEquals(await readText(reader, 4), "ping");
    connection.close();
    assertEquals(proxy.requests.length, 1);
    assertEquals(proxy.requests[0].host, "localhost");
    assertEquals(proxy.requests[0].lines, [
      `CONNECT localhost:${echo.port} HTTP/1.1`,
      `Host: localhost:${echo.port}`,
      `Proxy-Authorization: Basic ${new TextEncoder().encode("bob:hunter2").toBase64()}`,
    ]);
    // An IPv6 address goes in brackets.
    await assertRejects(
      () => connectThroughHttp(spec(proxy, user), "::1", echo.port),
      ProxyConnectionFailedError,
    );
    assertEquals(proxy.requests[1].lines?.[0], `CONNECT [::1]:${echo.port} HTTP/1.1`);
  } finally {
    await proxy.close();
    await echo.close();
  }
});

Deno.test("407: wrong or missing credentials are ProxyErrors at the auth step, naming the status line and the proxy redacted", async () => {
  const user = { username: "bob", password: "hunter2" };
  const proxy = startFakeHttpProxy({ user });
  try {
    const wrong = await assertRejects(
      () => connectThroughHttp(spec(proxy, { ...user, password: "nope" }), "localhost", 1),
      ProxyError,
    );
    assertEquals(wrong.step, "auth");
    assertStringIncludes(
      wrong.message,
      `HTTP proxy http://bob:***@127.0.0.1:${proxy.port} (auth): the user name and password ` +
        `were refused ("HTTP/1.1 407 Proxy Authentication Required")`,
    );
    assertEquals(wrong.message.includes("nope"), false);
    const missing = await assertRejects(
      () => connectThroughHttp(spec(proxy), "localhost", 1),
      ProxyError,
    );
    assertStringIncludes(missing.message, "asks for a user name and password");
  } finally {
    await proxy.close();
  }
});

Deno.test("other statuses: 403 a ProxyError, 502 a ConnectionFailed tried again, each naming the status line; a reply that is not HTTP is refused", async () => {
  const forbidden = startFakeHttpProxy({ behaviour: { fail: "403 Forbidden" } });
  const badGateway = startFakeHttpProxy({ behaviour: { fail: "502 Bad Gateway" } });
  const socks = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const socksTask = (async () => {
    for await (const conn of socks) {
      await conn.write(Uint8Array.of(5, 0xff, 13, 10, 13, 10));
      conn.close();
    }
  })().catch(() => {});
  try {
    const refused = await assertRejects(
      () => connectThroughHttp(spec(forbidden), "localhost", 2443),
      ProxyError,
    );
    assertEquals(refused.step, "connect request");
    assertStringIncludes(
      refused.message,
      `(connect request): CONNECT localhost:2443 was answered "HTTP/1.1 403 Forbidden"`,
    );
    const unreachable = await assertRejects(
      () => connectThroughHttp(spec(badGateway), "localhost", 2443),
      ProxyConnectionFailedError,
    );
    assertEquals(unreachable.name, "ConnectionFailed");
    assertStringIncludes(unreachable.message, `"HTTP/1.1 502 Bad Gateway"`);
    const notHttp = await assertRejects(
      () =>
        connectThroughHttp(
          { kind: "http", host: "127.0.0.1", port: (socks.addr as Deno.NetAddr).port },
          "localhost",
          2443,
        ),
      ProxyError,
    );
    assertStringIncludes(notHttp.message, "not an HTTP proxy");
  } finally {
    await forbidden.close();
    await badGateway.close();
    socks.close();
    await socksTask;
  }
});

Deno.test("a proxy that closes before its reply is a ConnectionFailed naming the step", async () => {
  const closing = startFakeHttpProxy({ behaviour: "close_mid_greeting" });
  try {
    const error = await assertRejects(
      () => connectThroughHttp(spec(closing), "localhost", 2443),
      ProxyConnectionFailedError,
    );
    assertEquals(error.proxyStep, "connect request");
    assertStringIncludes(error.message, "the proxy closed the connection");
  } finally {
    await closing.close();
  }
});

Deno.test("a proxy that reads CONNECT and stalls: the sender's connect deadline names the proxy and the step, and the socket is closed", async () => {
  const proxy = startFakeHttpProxy({ behaviour: "stall" });
  const { sender, clock } = senderThrough(
    (host, port, attempt) =>
      connectThroughHttp(
        { kind: "http", host: "127.0.0.1", port: proxy.port, username: "u", password: "pw" },
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
    await until(() => proxy.greeted === 1, 5000, "the proxy to read CONNECT");
    await clock.advance(1000);
    const error = await assertRejects(() => connecting, ConnectTimeoutError);
    assertStringIncludes(
      error.message,
      `no connection within 1 s: the HTTP proxy http://u:***@127.0.0.1:${proxy.port} did not ` +
        `answer CONNECT localhost:443 (connect request)`,
    );
    await until(() => proxy.closed === 1, 5000, "the client to close its socket to the proxy");
  } finally {
    sender.close();
    await proxy.close();
  }
});
