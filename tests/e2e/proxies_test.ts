// Reaching Telegram through SOCKS5 and HTTP CONNECT proxies (#19), against the real, independent
// ones Debian ships — microsocks and tinyproxy — started here on 127.0.0.1 in front of the
// emulator: serve, pipe and signin with --proxy, sign-in with 2FA, calls, a managed update, a
// 20 MB download from another DC, and none of serve's connections going around the proxy. Then
// what goes wrong: a wrong password (a named error at once, no password in it), a proxy killed
// mid-session and started again (calls continue, each answered once), a proxy that stalls (the
// deadline names it), and a DC given by name reaching the proxy as that name.
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { type Emulator, startEmulator } from "../../lib/emulator/emulator.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInAlice, signInBob, startServeProcess } from "../support/processes.ts";
import { MiB, PipeClient } from "../support/files.ts";
import {
  type ProxyUser,
  type RealProxy,
  remotePortsOf,
  startDante,
  startMicrosocks,
  startTinyproxy,
} from "../support/real_proxies.ts";
import { startFakeHttpProxy, startFakeSocks5 } from "../support/fake_proxies.ts";
import { within } from "../support/until.ts";
import { bobWritesToAlice, downloadChecked, runSignin } from "../support/user_flows.ts";

type Line = Record<string, unknown>;
const FILE_ID = "7301";
const SIZE = 20 * MiB + 4321;
const BOB: ProxyUser = { username: "bob", password: "hunter2" };

/** An emulator whose file FILE_ID (20 MB) is on DC 3, away from Alice's home DC 2. */
function startWorld(): Promise<Emulator> {
  return startEmulator({
    port: 0,
    log: () => {},
    world: { homeDc: 2, files: [{ id: FILE_ID, size: SIZE, dc: 3 }] },
  });
}

/**
 * How a call failed, in one text: an error line's name and message, or an `rpc_timeout` answer's
 * message (what the call waited for).
 */
function failureOf(answer: Line): string {
  const message = answer.message as Line | undefined;
  if (message?._cons === "rpc_timeout") return `rpc_timeout: ${message.error_message}`;
  if (answer.error !== undefined) return `${answer.error}: ${answer.msg}`;
  throw new Error(`the call did not fail: ${JSON.stringify(answer).slice(0, 300)}`);
}

/** Every port the emulator listens on: what tinyproxy may CONNECT to. */
function emulatorPorts(emulator: Emulator): number[] {
  return [
    ...emulator.dcs.map((dc) => dc.port),
    ...emulator.mediaDcs.map((dc) => dc.port),
    ...(emulator.cdn ? [emulator.cdn.port] : []),
  ];
}

/** The URL as `{"server": {}}` must show it: the password hidden. */
function redacted(url: string): string {
  return url.replace(/:[^:@/]*@/, ":***@");
}

/**
 * The whole flow through `serve --proxy URL`: Alice and Bob (2FA) sign in, `{"server": {}}`
 * shows the proxy redacted and the session line has none, Bob's message reaches Alice as an
 * update, Alice downloads 20 MB from DC 3; serve's only outgoing connections are to the proxy.
 */
async function serveFlow(emulator: Emulator, proxy: RealProxy) {
  const dir = await Deno.makeTempDir({ prefix: "proxies_test_" });
  const serve = await startServeProcess(emulator.serverLine(2), [
    "--files",
    dir,
    "--print-tracebacks",
    "--proxy",
    proxy.url,
  ]);
  const alice = await JsonClient.connect(serve.port);
  const bob = await JsonClient.connect(serve.port);
  try {
    await alice.request({ id: 1, options: { longs_as_strings: true } });
    await bob.request({ id: 1, options: { longs_as_strings: true } });
    const session = await signInAlice(alice);
    await signInBob(bob);
    const server = (await alice.request({ id: 2, server: {} })).server as Line;
    assertEquals(server.proxy, redacted(proxy.url));
    const sessionText = JSON.stringify(session);
    assertEquals(sessionText.includes("proxy") || sessionText.includes("hunter2"), false);
    await bobWritesToAlice(alice, bob, `hello through ${proxy.url.split(":")[0]}`);
    await downloadChecked(alice, { id: FILE_ID, size: SIZE }, dir, "big.bin", 30);
    const ports = await remotePortsOf(serve.child.pid, [serve.port]);
    assertEquals(ports.length > 0, true);
    assertEquals(
      ports.filter((port) => port !== proxy.port),
      [],
      `serve reached ports other than the proxy's ${proxy.port}: ${ports}`,
    );
    assertEquals(serve.stderr().includes("hunter2"), false, serve.stderr());
  } finally {
    alice.close();
    bob.close();
    serve.child.kill("SIGTERM");
    await serve.child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("serve --proxy through microsocks with a user name and password: 2FA sign-in, calls, a managed update and a 20 MB download, nothing around the proxy", async () => {
  const emulator = await startWorld();
  const proxy = await startMicrosocks(BOB);
  try {
    await serveFlow(emulator, proxy);
  } finally {
    await proxy.close();
    await emulator.close();
  }
});

Deno.test("serve --proxy through microsocks without auth: the same flow", async () => {
  const emulator = await startWorld();
  const proxy = await startMicrosocks();
  try {
    await serveFlow(emulator, proxy);
  } finally {
    await proxy.close();
    await emulator.close();
  }
});

Deno.test("serve --proxy through Dante, a second SOCKS5 server nobody here wrote: the same flow", async () => {
  const emulator = await startWorld();
  const proxy = await startDante();
  try {
    await serveFlow(emulator, proxy);
  } finally {
    await proxy.close();
    await emulator.close();
  }
});

Deno.test("serve --proxy through tinyproxy (HTTP CONNECT, Basic auth): the same flow", async () => {
  const emulator = await startWorld();
  const proxy = await startTinyproxy(emulatorPorts(emulator), BOB);
  try {
    await serveFlow(emulator, proxy);
  } finally {
    await proxy.close();
    await emulator.close();
  }
});

Deno.test("signin --proxy signs Bob in with 2FA through microsocks and through tinyproxy; the line carries no proxy and resumes in pipe --proxy, which downloads 20 MB", async () => {
  const emulator = await startWorld();
  const socks = await startMicrosocks(BOB);
  const http = await startTinyproxy(emulatorPorts(emulator));
  const dir = await Deno.makeTempDir({ prefix: "proxies_pipe_" });
  let pipe: PipeClient | undefined;
  try {
    const server = JSON.stringify(emulator.serverLine(2));
    for (const proxy of [socks, http]) {
      const signed = await runSignin([
        "--server",
        server,
        "--proxy",
        proxy.url,
        "--phone",
        "+15550000002",
        "--code",
        "12345",
        "--password",
        "hunter2",
      ]);
      assertEquals(signed.code, 0, signed.stderr);
      assertEquals(signed.stdout.includes("proxy") || signed.stdout.includes(":hunter2@"), false);
      assertEquals(JSON.parse(signed.stdout).session.user_id, 1000002);
    }
    // Alice in pipe through the HTTP proxy: sign-in, calls, the 20 MB file by a relative path.
    pipe = new PipeClient(emulator.serverLine(2), dir, ["--proxy", http.url]);
    await pipe.request({ id: 1, options: { longs_as_strings: true } });
    await signInAlice(pipe as unknown as JsonClient);
    const server2 = (await pipe.request({ id: 2, server: {} })).server as Line;
    assertEquals(server2.proxy, http.url);
    await downloadChecked(pipe, { id: FILE_ID, size: SIZE }, dir, "pipe.bin", 40);
    const status = await pipe.close();
    assertEquals(status.code, 0, pipe.stderr());
    pipe = undefined;
  } finally {
    await pipe?.kill();
    await socks.close();
    await http.close();
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a wrong proxy password is one clear error at once, naming the proxy and the step, never the password: serve, pipe and signin", async () => {
  const emulator = await startWorld();
  const socks = await startMicrosocks(BOB);
  const http = await startTinyproxy(emulatorPorts(emulator), BOB);
  const wrong = (proxy: RealProxy) => proxy.url.replace(":hunter2@", ":letmein@");
  try {
    const serve = await startServeProcess(emulator.serverLine(2), [
      "--timeout",
      "60",
      "--proxy",
      wrong(socks),
    ]);
    const client = await JsonClient.connect(serve.port);
    try {
      // Not retried until the call's 60 s deadline: a refusal is final.
      const answer = await client.request(
        { id: 1, message: { _cons: "help.getNearestDc" } },
        15_000,
      );
      assertEquals(answer.error, "ProxyError");
      assertStringIncludes(
        String(answer.msg),
        `SOCKS5 proxy socks5://bob:***@127.0.0.1:${socks.port} (auth): the user name and ` +
          `password were refused (status `,
      );
      assertEquals(String(answer.msg).includes("letmein"), false);
      // A connection's own proxy, per connection.
      await client.request({ id: 2, server: { proxy: wrong(http) } });
      const viaHttp = await client.request({ id: 3, message: { _cons: "help.getNearestDc" } });
      assertEquals(viaHttp.error, "ProxyError");
      assertStringIncludes(
        String(viaHttp.msg),
        `HTTP proxy http://bob:***@127.0.0.1:${http.port} (auth): the user name and password ` +
          `were refused ("HTTP/1.`,
      );
    } finally {
      client.close();
      serve.child.kill("SIGTERM");
      await serve.child.status;
    }
    const signed = await runSignin([
      "--server",
      JSON.stringify(emulator.serverLine(2)),
      "--proxy",
      wrong(socks),
      "--phone",
      "+15550000002",
      "--code",
      "12345",
    ]);
    assertEquals(signed.code, 1);
    assertStringIncludes(
      signed.stderr,
      `mtproto2json signin: ProxyError: SOCKS5 proxy socks5://bob:***@127.0.0.1:${socks.port} ` +
        `(auth): the user name and password were refused`,
    );
    assertEquals(signed.stderr.includes("letmein"), false, signed.stderr);
    const badUrl = await runSignin(["--proxy", "socks5://bob:letmein@h:0"]);
    assertEquals(badUrl.code, 2);
    assertStringIncludes(badUrl.stderr, "--proxy: the proxy's port must be 1 to 65535");
    assertEquals(badUrl.stderr.includes("letmein"), false, badUrl.stderr);
  } finally {
    await socks.close();
    await http.close();
    await emulator.close();
  }
});

Deno.test("microsocks killed mid-session: calls meanwhile fail naming the proxy; started again, calls continue and each is answered once", async () => {
  const emulator = await startWorld();
  const proxy = await startMicrosocks();
  const serve = await startServeProcess(emulator.serverLine(2), ["--proxy", proxy.url]);
  const alice = await JsonClient.connect(serve.port);
  try {
    await alice.request({ id: 1, options: { longs_as_strings: true } });
    await signInAlice(alice);
    const peer = await bobPeerOf(alice);
    const send = (id: number) =>
      alice.request({
        id,
        message: {
          _cons: "messages.sendMessage",
          peer,
          message: `call ${id}`,
          random_id: String(1_000_000 + id),
        },
      }, 60_000);
    for (let id = 100; id < 105; id++) assertEquals((await send(id)).message !== undefined, true);

    await proxy.kill();
    // While it is down, a call with a short timeout ends naming the proxy and the step.
    const down = await alice.request({
      id: 200,
      options: { timeout: 1 },
      message: { _cons: "help.getNearestDc" },
    });
    assertStringIncludes(failureOf(down), `SOCKS5 proxy socks5://127.0.0.1:${proxy.port}`);
    assertStringIncludes(failureOf(down), "(connect to proxy)");
    await alice.request({ id: 201, options: { timeout: 30 } });
    // Calls sent while it is down are answered once it is back.
    const pending = [105, 106, 107, 108, 109].map(send);
    await proxy.restart();
    const answers = await within(Promise.all(pending), 60_000, "the calls after the restart");
    for (const answer of answers) {
      assertEquals(
        (answer.message as Line)?._cons,
        "updateShortSentMessage",
        JSON.stringify(answer),
      );
    }
    // Nothing answered twice: a call after them is answered, no second line for any id.
    await alice.request({ id: 300, message: { _cons: "help.getNearestDc" } });
    const again = await alice.next((line) => Number(line.id) >= 100 && Number(line.id) < 110, 1)
      .catch(() => undefined);
    assertEquals(again, undefined);
    // And each message exists once.
    const history = await alice.request({
      id: 301,
      message: {
        _cons: "messages.getHistory",
        peer,
        offset_id: 0,
        offset_date: 0,
        add_offset: 0,
        limit: 100,
        max_id: 0,
        min_id: 0,
        hash: 0,
      },
    });
    const texts = ((history.message as Line).messages as Line[]).map((message) => message.message);
    for (let id = 100; id < 110; id++) {
      assertEquals(texts.filter((text) => text === `call ${id}`).length, 1, `call ${id}`);
    }
  } finally {
    alice.close();
    serve.child.kill("SIGTERM");
    await serve.child.status;
    await proxy.close();
    await emulator.close();
  }
});

/** Bob as Alice addresses him. */
async function bobPeerOf(client: JsonClient): Promise<Line> {
  const resolved = await client.request({
    id: 90,
    message: { _cons: "contacts.resolveUsername", username: "bob_example" },
  });
  const user = ((resolved.message as Line).users as Line[])
    .find((candidate) => String(candidate.id) === "1000002");
  return { _cons: "inputPeerUser", user_id: 1000002, access_hash: user?.access_hash };
}

Deno.test("a proxy that accepts and stalls: the call ends within its deadline, naming the proxy and the step it waits at", async () => {
  const emulator = await startWorld();
  const stalling = startFakeSocks5({ behaviour: "stall" });
  const serve = await startServeProcess(emulator.serverLine(2), [
    "--timeout",
    "2",
    "--connect-timeout",
    "1",
    "--proxy",
    `socks5://127.0.0.1:${stalling.port}`,
  ]);
  const client = await JsonClient.connect(serve.port);
  try {
    const started = Date.now();
    const answer = await client.request({ id: 1, message: { _cons: "help.getNearestDc" } }, 15_000);
    const took = Date.now() - started;
    assertStringIncludes(
      failureOf(answer),
      `the SOCKS5 proxy socks5://127.0.0.1:${stalling.port} did not answer the greeting (greeting)`,
    );
    assertEquals(took < 10_000, true, `answered after ${took} ms`);
    assertEquals(stalling.accepted >= 1, true);
  } finally {
    client.close();
    serve.child.kill("SIGTERM");
    await serve.child.status;
    await stalling.close();
    await emulator.close();
  }
});

Deno.test('a DC given by name ("localhost") reaches SOCKS5 and HTTP proxies as that name, per connection with {"server": {"proxy": ...}}', async () => {
  const emulator = await startWorld();
  const socks = startFakeSocks5();
  const http = startFakeHttpProxy();
  const line = emulator.serverLine(2);
  const serve = await startServeProcess(line);
  const home = line.server.port;
  try {
    for (
      const [index, proxy, url] of [
        [0, socks, `socks5://127.0.0.1:${socks.port}`],
        [1, http, `http://127.0.0.1:${http.port}`],
      ] as const
    ) {
      const client = await JsonClient.connect(serve.port);
      try {
        const set = await client.request({ id: 1, server: { host: "localhost", proxy: url } });
        assertEquals((set.server as Line).proxy, url);
        assertEquals((set.server as Line).host, "localhost");
        const answer = await client.request({ id: 2, message: { _cons: "help.getNearestDc" } });
        assertEquals((answer.message as Line)?._cons, "nearestDc", JSON.stringify(answer));
        assertEquals(proxy.requests[0]?.host, "localhost", `proxy ${index}`);
        assertEquals(proxy.requests[0]?.port, home);
      } finally {
        client.close();
      }
    }
    assertEquals(socks.requests[0].addressType, 3);
    assertEquals(http.requests[0].lines?.[0], `CONNECT localhost:${home} HTTP/1.1`);
  } finally {
    serve.child.kill("SIGTERM");
    await serve.child.status;
    await socks.close();
    await http.close();
    await emulator.close();
  }
});
