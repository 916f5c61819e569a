// MTProto over WebSocket (#19) against the emulator's WebSocket front, all on 127.0.0.1: serve
// pointed at DCs through "websocket" URLs signs Alice and Bob (2FA) in, calls, delivers Bob's
// message as Alice's managed update, downloads a few MB from another DC, and opens no TCP
// connection to a DC port; `emulator --websocket` prints one URL line per DC; a Client whose
// front drops its connections mid-session reconnects with every call answered once; through an
// HTTP CONNECT proxy (tinyproxy) the same. Telegram's own URLs are asserted as strings: nothing
// here connects to them.
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { type Emulator, startEmulator } from "../../lib/emulator/emulator.ts";
import { Client } from "../../lib/client/client.ts";
import { DcRouter } from "../../lib/client/dc_router.ts";
import {
  defaultServer,
  serverFromJson,
  type ServerTarget,
  serverToJson,
  sessionToJson,
  webSocketUrlOf,
} from "../../lib/client/session_json.ts";
import { systemClock } from "../../lib/io/clock.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInAlice, signInBob, startServeProcess, waitFor } from "../support/processes.ts";
import { MiB, recordCalls } from "../support/files.ts";
import { remotePortsOf, startTinyproxy } from "../support/real_proxies.ts";
import { signIn } from "../support/raw_calls.ts";
import { testCodec } from "../support/emulated_sender.ts";
import { bobWritesToAlice, downloadChecked } from "../support/user_flows.ts";

type Line = Record<string, unknown>;
const root = new URL("../../", import.meta.url).pathname;
const FILE_ID = "7401";
const SIZE = 4 * MiB + 1234;
const APP = {
  apiId: 1,
  apiHash: "h",
  deviceModel: "t",
  systemVersion: "t",
  appVersion: "t",
  langCode: "en",
};

/** An emulator with a WebSocket front; file FILE_ID lives on DC 3, Alice's home is DC 2. */
function startWorld(extra: Parameters<typeof startEmulator>[0] = {}): Promise<Emulator> {
  return startEmulator({
    port: 0,
    log: () => {},
    world: { homeDc: 2, files: [{ id: FILE_ID, size: SIZE, dc: 3 }] },
    websocket: {},
    ...extra,
  });
}

/** The front's URLs by DC id, as a server object's `websocket` takes them. */
function urlsOf(emulator: Emulator): Record<string, string> {
  return Object.fromEntries(emulator.websocket!.endpoints.map(({ dc, url }) => [dc, url]));
}

/**
 * serve with `extra` flags, pointed at DC 2 through `websocket` (every DC's URL): Alice and Bob
 * (2FA) sign in, `{"server": {}}` and the session line keep the URLs, Bob's message reaches
 * Alice as an update, Alice downloads the file from DC 3; serve's outgoing connections go only
 * to `allowedPorts`.
 */
async function serveFlow(
  emulator: Emulator,
  extra: string[],
  allowedPorts: number[],
  check: () => void = () => {},
) {
  const dir = await Deno.makeTempDir({ prefix: "websocket_test_" });
  const line = emulator.serverLine(2);
  const websocket = urlsOf(emulator);
  const serve = await startServeProcess(
    { server: { ...line.server, websocket } },
    ["--files", dir, "--print-tracebacks", ...extra],
  );
  const alice = await JsonClient.connect(serve.port);
  const bob = await JsonClient.connect(serve.port);
  try {
    await alice.request({ id: 1, options: { longs_as_strings: true } });
    await bob.request({ id: 1, options: { longs_as_strings: true } });
    const session = await signInAlice(alice) as Line;
    await signInBob(bob);
    assertEquals(
      ((await alice.request({ id: 2, server: {} })).server as Line).websocket,
      websocket,
    );
    assertEquals((session.server as Line).websocket, websocket);
    await bobWritesToAlice(alice, bob, "hello over a WebSocket");
    await downloadChecked(alice, { id: FILE_ID, size: SIZE }, dir, "file.bin", 30);
    const ports = await remotePortsOf(serve.child.pid, [serve.port]);
    assertEquals(ports.length > 0, true);
    assertEquals(
      ports.filter((port) => !allowedPorts.includes(port)),
      [],
      `serve reached ports other than ${allowedPorts}: ${ports}`,
    );
    check();
  } finally {
    alice.close();
    bob.close();
    serve.child.kill("SIGTERM");
    await serve.child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("serve over WebSocket URLs: 2FA sign-in, calls, a managed update and a download from DC 3, no TCP to a DC port", async () => {
  const emulator = await startWorld();
  try {
    const fronts = emulator.websocket!.endpoints.map((endpoint) => endpoint.port);
    await serveFlow(emulator, [], fronts, () => {
      // Every DC connection open came through the front, obfuscated (serve's own default
      // here is plain intermediate).
      assertEquals(emulator.listeners.every((listener) => listener.connections.size === 0), true);
      for (const endpoint of emulator.websocket!.endpoints.filter((e) => e.dc !== 1)) {
        assertEquals(endpoint.connections.size >= 1, true, `no connection on DC ${endpoint.dc}`);
        for (const connection of endpoint.connections) {
          assertEquals(connection.transport.obfuscated, true);
        }
      }
    });
  } finally {
    await emulator.close();
  }
});

Deno.test("serve over WebSocket URLs through an HTTP CONNECT proxy (tinyproxy): the same flow, only the proxy reached", async () => {
  const emulator = await startWorld();
  const fronts = emulator.websocket!.endpoints.map((endpoint) => endpoint.port);
  const proxy = await startTinyproxy(fronts, { username: "bob", password: "hunter2" });
  try {
    await serveFlow(emulator, ["--proxy", proxy.url], [proxy.port]);
  } finally {
    await proxy.close();
    await emulator.close();
  }
});

Deno.test("emulator --websocket prints one URL line per DC after its server line, and each URL serves its DC", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}main.ts`, "emulator", "--port", "0", "--dcs", "2", "--websocket"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const printed = await waitFor(child.stdout, /(.*)\n(.*)\n(.*)\n/);
    const server = JSON.parse(printed[1]).server as Line;
    const lines = [JSON.parse(printed[2]), JSON.parse(printed[3])];
    assertEquals(lines.map((line) => line.websocket.dc), [1, 2]);
    for (const line of lines) {
      assertEquals(/^ws:\/\/127\.0\.0\.1:\d+\/apiws$/.test(line.websocket.url), true, line);
    }
    const client = new Client({
      schema: loadSchema(),
      server: serverFromJson({ ...server, websocket: lines[1].websocket.url }, defaultServer()),
      app: APP,
      log: () => {},
    });
    try {
      assertEquals((await client.call({ _cons: "help.getNearestDc" }))._cons, "nearestDc");
    } finally {
      client.closeConnections();
    }
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
});

/** A Client for DC 2 of `emulator` over its WebSocket front only (its TCP port a dead one). */
function webSocketClient(emulator: Emulator): Client {
  return new Client({
    schema: loadSchema(),
    server: {
      host: "127.0.0.1",
      port: 9, // unused: every DC is reached through its URL
      dc: 2,
      publicKeys: [emulator.rsaKey],
      test: false,
      websocket: {
        urls: Object.fromEntries(emulator.websocket!.endpoints.map((e) => [e.dc, e.url])),
      },
    },
    app: APP,
    log: () => {},
  });
}

Deno.test("a WebSocket front that closes its connections mid-session: the client reconnects and every call is answered exactly once", async () => {
  const emulator = await startWorld();
  const calls = recordCalls(emulator);
  const client = webSocketClient(emulator);
  try {
    assertEquals(
      (await signIn((request) => client.call(request), "+15550000001", "unused"))._cons,
      "auth.authorization",
    );
    const resolved = await client.call({
      _cons: "contacts.resolveUsername",
      username: "bob_example",
    });
    const bob = (resolved.users as TlObject[]).find((user) => Number(user.id) === 1000002)!;
    const peer = { _cons: "inputPeerUser", user_id: bob.id, access_hash: bob.access_hash };
    const front = emulator.websocket!.endpoints.find((endpoint) => endpoint.dc === 2)!;
    const texts = Array.from({ length: 30 }, (_, index) => `over the WebSocket ${index}`);
    let dropped = 0;
    const answers = [];
    for (const [index, text] of texts.entries()) {
      answers.push(client.call({
        _cons: "messages.sendMessage",
        peer,
        message: text,
        random_id: String(1000 + index),
      }));
      // Twice, with calls in flight: every WebSocket of DC 2 closed by the front.
      if (index === 10 || index === 20) {
        await answers[index - 5];
        assertEquals(front.connections.size, 1);
        for (const connection of front.connections) connection.close();
        dropped++;
      }
    }
    for (const answer of await Promise.all(answers)) {
      assertEquals(answer._cons, "updateShortSentMessage");
    }
    assertEquals(dropped, 2);
    // The first WebSocket and one after each drop (file connections go to no other DC here).
    assertEquals(front.accepted, 3);
    const sent = calls.filter((call) => call.method === "messages.sendMessage");
    assertEquals(sent.length, texts.length, "a call ran twice, or not at all");
    const history = client.native(
      await client.call({
        _cons: "messages.getHistory",
        peer,
        offset_id: 0,
        offset_date: 0,
        add_offset: 0,
        limit: 100,
        max_id: 0,
        min_id: 0,
        hash: 0,
      }),
    );
    const found = (history.messages as TlObject[]).map((message) => message.message);
    for (const text of texts) {
      assertEquals(found.filter((message) => message === text).length, 1, text);
    }
  } finally {
    client.closeConnections();
    await emulator.close();
  }
});

Deno.test('"transport": "websocket" picks Telegram\'s URL by DC (asserted as strings, never dialled)', () => {
  const server = serverFromJson({ dc: 2, transport: "websocket" }, defaultServer());
  assertEquals(webSocketUrlOf(server, 1), "wss://pluto.web.telegram.org/apiws");
  assertEquals(webSocketUrlOf(server, 2), "wss://venus.web.telegram.org/apiws");
  assertEquals(webSocketUrlOf(server, 3), "wss://aurora.web.telegram.org/apiws");
  assertEquals(webSocketUrlOf(server, 4), "wss://vesta.web.telegram.org/apiws");
  assertEquals(webSocketUrlOf(server, 5), "wss://flora.web.telegram.org/apiws");
  assertEquals(webSocketUrlOf(server, 4, true), "wss://vesta-1.web.telegram.org/apiws");
  // A CDN DC has no web endpoint: reached over TCP as before.
  assertEquals(webSocketUrlOf(server, 203), undefined);
  const test = serverFromJson({ test: true }, server);
  assertEquals(webSocketUrlOf(test, 2), "wss://venus.web.telegram.org/apiws_test");
  // Written back as read, in the server object and in session lines.
  assertEquals(serverToJson(server).transport, "websocket");
  assertEquals((sessionToJson({ dc: 2 }, server).server as Line).transport, "websocket");
  // A framing name goes back to TCP.
  const tcp = serverFromJson({ transport: "obfuscated-padded" }, server);
  assertEquals(webSocketUrlOf(tcp, 2), undefined);
  assertEquals(serverToJson(tcp).transport, "obfuscated-padded");
});

Deno.test("the DC router's sender for a DC over WebSocket: its URL, host and obfuscated transport (not connected)", () => {
  const router = new DcRouter({
    server: serverFromJson({ dc: 2, transport: "websocket" }, defaultServer()),
    session: { dc: 2 },
    codec: testCodec,
    clock: systemClock,
    transport: { kind: "intermediate" },
    connectTimeoutMs: () => 1000,
    onUpdate: () => {},
    onNewSession: () => {},
  });
  // The home DC's address is the server's: nothing is asked, and a sender connects only when
  // used. (Under `deno task test`, --allow-net=127.0.0.1 would refuse it anyway.)
  const made = router.senderFor(2, () => Promise.reject(new Error("no calls")));
  return made.then((sender) => {
    try {
      assertEquals(sender.options.host, "venus.web.telegram.org");
      assertEquals(sender.options.port, 443);
      assertEquals(sender.options.via, "wss://venus.web.telegram.org/apiws");
      assertEquals(sender.options.transport, { kind: "intermediate", obfuscated: true });
      assertEquals(sender.options.dcId, 2);
    } finally {
      sender.close();
    }
  });
});

Deno.test("server.websocket: a URL for the server's DC or URLs by DC, checked, written back as given", () => {
  const one = serverFromJson({ dc: 2, websocket: "ws://127.0.0.1:8080/apiws" }, defaultServer());
  assertEquals(webSocketUrlOf(one, 2), "ws://127.0.0.1:8080/apiws");
  assertEquals(webSocketUrlOf(one, 2, true), "ws://127.0.0.1:8080/apiws");
  assertEquals(webSocketUrlOf(one, 3), undefined);
  assertEquals(serverToJson(one).websocket, "ws://127.0.0.1:8080/apiws");
  const many = serverFromJson(
    { websocket: { "2": "ws://127.0.0.1:8080/apiws", "4": "wss://example.test/apiws" } },
    one,
  );
  assertEquals(webSocketUrlOf(many, 4), "wss://example.test/apiws");
  assertEquals(serverToJson(many).websocket, {
    "2": "ws://127.0.0.1:8080/apiws",
    "4": "wss://example.test/apiws",
  });
  assertEquals(serverToJson(serverFromJson({ websocket: null }, many)).websocket, undefined);
  const bad: [unknown, string][] = [
    ["http://127.0.0.1/apiws", "ws:// or wss://"],
    [42, "URL"],
    [{ "x": "ws://127.0.0.1/apiws" }, "not a DC id"],
    ["ws://user:pass@127.0.0.1/apiws", "no user name"],
  ];
  for (const [value, says] of bad) {
    let error: Error | undefined;
    try {
      serverFromJson({ websocket: value }, defaultServer());
    } catch (caught) {
      error = caught as Error;
    }
    assertStringIncludes(String(error?.message), says);
  }
  const mtproxy: ServerTarget = {
    ...one,
    proxy: {
      kind: "mtproxy",
      host: "127.0.0.1",
      port: 1,
      secret: new Uint8Array(16),
      mode: "plain",
    },
  };
  let refused: Error | undefined;
  try {
    serverFromJson({}, mtproxy);
  } catch (caught) {
    refused = caught as Error;
  }
  assertStringIncludes(String(refused?.message), "an MTProxy cannot carry a WebSocket");
});

Deno.test("serve --transport websocket: the server object says websocket, and a DC with a URL of its own is reached through it", async () => {
  const emulator = await startWorld();
  // Every DC of the emulator has its URL: nothing is left for Telegram's own.
  const websocket = urlsOf(emulator);
  const serve = await startServeProcess(
    { server: { ...emulator.serverLine(2).server, websocket } },
    ["--transport", "websocket"],
  );
  const client = await JsonClient.connect(serve.port);
  try {
    const server = (await client.request({ id: 1, server: {} })).server as Line;
    assertEquals([server.transport, server.websocket], ["websocket", websocket]);
    const nearest = await client.request({ id: 2, message: { _cons: "help.getNearestDc" } });
    assertEquals((nearest.message as Line)._cons, "nearestDc");
    const fronts = emulator.websocket!.endpoints.map((endpoint) => endpoint.port);
    const ports = await remotePortsOf(serve.child.pid, [serve.port]);
    assertEquals(
      ports.length > 0 && ports.every((port) => fronts.includes(port)),
      true,
      `${ports}`,
    );
  } finally {
    client.close();
    serve.child.kill("SIGTERM");
    await serve.child.status;
    await emulator.close();
  }
});
