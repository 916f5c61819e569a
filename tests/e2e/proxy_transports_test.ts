// Reaching Telegram through an MTProxy (plain, dd, ee) and over WebSocket (directly, and through
// an HTTP CONNECT proxy: tinyproxy) with each of the user's programs (#19), all on 127.0.0.1
// against the emulator's MTProxy and WebSocket fronts. The MTProxy is given as the link a user
// copies from an app (tg://proxy?..., https://t.me/proxy?..., t.me/proxy?... with a base64url
// secret). serve: Alice and Bob (2FA) sign in, Bob's message reaches Alice as a managed update,
// Alice downloads 20 MB from another DC, serve reaches nothing but the route. signin and pipe:
// Bob signs in with 2FA through `signin`, his session line resumes in a pipe, Alice signs in in
// another pipe, Bob's message reaches her as an update, she downloads 20 MB; the pipes reach
// nothing but the route. --pfs through ee (serve, signin and pipe): the same, with every session
// under a bound temporary key. And a link given per connection in serve's server object.
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { type Emulator, startEmulator } from "../../lib/emulator/emulator.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInAlice, signInBob, startServeProcess } from "../support/processes.ts";
import { MiB, PipeClient, startRelay } from "../support/files.ts";
import { remotePortsOf, startTinyproxy } from "../support/real_proxies.ts";
import { bobWritesToAlice, downloadChecked, runSignin } from "../support/user_flows.ts";

type Line = Record<string, unknown>;
const FILE = { id: "7501", size: 20 * MiB + 4321 };
const KEY = "0123456789abcdef0123456789abcdef";
const DOMAIN = "example.com";
const SECRETS = {
  plain: KEY,
  dd: `dd${KEY}`,
  ee: `ee${KEY}${new TextEncoder().encode(DOMAIN).toHex()}`,
};
type Mode = keyof typeof SECRETS;

/** The emulator, and the lines of its log that say under which key a DC took a message. */
interface World {
  emulator: Emulator;
  keyLines: string[];
}

/**
 * An emulator with an MTProxy front for the three secrets and a WebSocket front; Alice's home is
 * DC 2 and the 20 MB file lives on DC 3.
 */
async function startWorld(): Promise<World> {
  const keyLines: string[] = [];
  const emulator = await startEmulator({
    port: 0,
    log: (line) => {
      if (line.includes("permanent key")) keyLines.push(line);
    },
    world: { homeDc: 2, files: [{ id: FILE.id, size: FILE.size, dc: 3 }] },
    mtproxy: { secrets: Object.values(SECRETS) },
    websocket: {},
  });
  return { emulator, keyLines };
}

/** How the programs are pointed at Telegram, and what they may reach. */
interface Route {
  /** The `--server` line. */
  server: Line;
  /** Flags for serve, pipe and signin (`--proxy ...`). */
  flags: string[];
  /** The only ports the programs may connect to. */
  ports: number[];
  /** Connections the route carried so far. */
  carried(): number;
  close(): Promise<void>;
}

/**
 * The MTProxy link for `mode` as a user pastes it: plain as the emulator prints it
 * (`tg://proxy?...`), dd as an https://t.me/proxy link, ee as a t.me/proxy link without its
 * scheme and with the secret in base64url, as apps share fake-TLS secrets.
 */
function pastedLink(emulator: Emulator, mode: Mode): string {
  const printed = emulator.mtproxy!.links[Object.keys(SECRETS).indexOf(mode)];
  assertEquals(printed.startsWith("tg://proxy?server=127.0.0.1&port="), true, printed);
  if (mode === "plain") return printed;
  if (mode === "dd") return printed.replace("tg://proxy?", "https://t.me/proxy?");
  const secret = Uint8Array.fromHex(SECRETS.ee).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
  return printed.replace("tg://proxy?", "t.me/proxy?").replace(/secret=[^&]*/, `secret=${secret}`);
}

/** Through the emulator's MTProxy front with the `mode` secret. */
function mtproxyRoute(world: World, mode: Mode, extra: string[] = []): Route {
  const front = world.emulator.mtproxy!;
  return {
    server: world.emulator.serverLine(2),
    flags: [...extra, "--proxy", pastedLink(world.emulator, mode)],
    ports: [front.port],
    carried: () => [...front.routed.values()].reduce((sum, count) => sum + count, 0),
    close: () => Promise.resolve(),
  };
}

/** The server line with every DC's WebSocket URL: its TCP ports then unused. */
function webSocketServer(emulator: Emulator): Line {
  const urls = Object.fromEntries(emulator.websocket!.endpoints.map(({ dc, url }) => [dc, url]));
  return { server: { ...emulator.serverLine(2).server, websocket: urls } };
}

/** Over the emulator's WebSocket URLs, straight. */
function webSocketRoute(world: World): Route {
  const endpoints = world.emulator.websocket!.endpoints;
  return {
    server: webSocketServer(world.emulator),
    flags: [],
    ports: endpoints.map((endpoint) => endpoint.port),
    carried: () => endpoints.reduce((sum, endpoint) => sum + endpoint.accepted, 0),
    close: () => Promise.resolve(),
  };
}

/**
 * Over the WebSocket URLs through tinyproxy (Basic auth, CONNECT to the fronts only), reached
 * through a counting relay so that what it carried shows.
 */
async function webSocketViaHttpRoute(world: World): Promise<Route> {
  const endpoints = world.emulator.websocket!.endpoints;
  const proxy = await startTinyproxy(
    endpoints.map((endpoint) => endpoint.port),
    { username: "bob", password: "hunter2" },
  );
  const relay = startRelay(proxy.port);
  return {
    server: webSocketServer(world.emulator),
    flags: ["--proxy", `http://bob:hunter2@127.0.0.1:${relay.port}`],
    ports: [relay.port],
    carried: () => relay.accepted,
    async close() {
      await relay.close();
      await proxy.close();
    },
  };
}

/** Asserts `pid` has connections, and only to `ports` (besides its own `listening` ones). */
async function reachedOnly(pid: number, ports: number[], listening: number[] = []) {
  const reached = await remotePortsOf(pid, listening);
  assertEquals(reached.length > 0, true, "no connection open");
  assertEquals(
    reached.filter((port) => !ports.includes(port)),
    [],
    `reached ports other than the route's ${ports}: ${reached}`,
  );
}

/**
 * serve through `route`: Alice and Bob (2FA) sign in, `{"server": {}}` shows the proxy without its
 * secret and the session line has none, Bob's message reaches Alice as an update, Alice downloads
 * 20 MB from DC 3, and serve's only connections are the route's.
 */
async function serveFlow(route: Route, secretHex: string) {
  const dir = await Deno.makeTempDir({ prefix: "proxy_transports_" });
  const serve = await startServeProcess(route.server, ["--files", dir, ...route.flags]);
  const alice = await JsonClient.connect(serve.port);
  const bob = await JsonClient.connect(serve.port);
  try {
    await alice.request({ id: 1, options: { longs_as_strings: true } });
    await bob.request({ id: 1, options: { longs_as_strings: true } });
    const session = JSON.stringify(await signInAlice(alice));
    await signInBob(bob);
    const shown = String(((await alice.request({ id: 2, server: {} })).server as Line).proxy);
    assertStringIncludes(shown, "secret=***");
    assertEquals(shown.includes(secretHex.slice(2, 12)), false, shown);
    assertEquals(session.includes("proxy") || session.includes("secret"), false, session);
    await bobWritesToAlice(alice, bob, "hello through an MTProxy");
    await downloadChecked(alice, FILE, dir, "big.bin", 30);
    await reachedOnly(serve.child.pid, route.ports, [serve.port]);
  } finally {
    alice.close();
    bob.close();
    serve.child.kill("SIGTERM");
    await serve.child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * signin and pipe through `route`: Bob signs in with 2FA through `signin` (over the route, and
 * its line names no proxy), his line resumes in one pipe, Alice signs in in another; Bob's
 * message reaches her as an update and she downloads 20 MB from DC 3; both pipes reach only the
 * route and exit 0 once their input ends.
 */
async function signinAndPipeFlow(route: Route) {
  const dir = await Deno.makeTempDir({ prefix: "proxy_transports_" });
  let alice: PipeClient | undefined, bob: PipeClient | undefined;
  try {
    const before = route.carried();
    const signed = await runSignin([
      "--server",
      JSON.stringify(route.server),
      ...route.flags,
      "--phone",
      "+15550000002",
      "--code",
      "12345",
      "--password",
      "hunter2",
    ]);
    assertEquals(signed.code, 0, signed.stderr);
    const line = JSON.parse(signed.stdout);
    assertEquals(line.session.user_id, 1000002);
    assertEquals(signed.stdout.includes("proxy") || signed.stdout.includes("hunter2"), false);
    assertEquals(route.carried() > before, true, "signin did not go through the route");

    alice = new PipeClient(route.server, dir, route.flags);
    bob = new PipeClient(route.server, dir, route.flags);
    await alice.request({ id: 1, options: { longs_as_strings: true } });
    await signInAlice(alice as unknown as JsonClient);
    const resumed = await bob.request({
      id: 1,
      options: { longs_as_strings: true },
      session: line.session,
    });
    assertEquals(resumed.error, undefined, JSON.stringify(resumed).slice(0, 300));
    await bobWritesToAlice(alice, bob, "hello from a pipe");
    await downloadChecked(alice, FILE, dir, "pipe.bin", 40);
    await reachedOnly(alice.child.pid, route.ports);
    await reachedOnly(bob.child.pid, route.ports);
    for (const pipe of [alice, bob]) {
      const status = await pipe.close();
      assertEquals(status.code, 0, pipe.stderr());
    }
    alice = bob = undefined;
  } finally {
    await alice?.kill();
    await bob?.kill();
    await Deno.remove(dir, { recursive: true });
  }
}

for (const mode of ["plain", "dd", "ee"] as const) {
  Deno.test(`serve --proxy with an MTProxy ${mode} link: 2FA sign-in, calls, a managed update and a 20 MB download, only the proxy reached`, async () => {
    const world = await startWorld();
    try {
      await serveFlow(mtproxyRoute(world, mode), SECRETS[mode]);
      // The file came over DC 3's media connections: a negative DC id in the header.
      assertEquals(world.emulator.mtproxy!.routed.get("DC 3 media")! >= 1, true);
    } finally {
      await world.emulator.close();
    }
  });

  Deno.test(`signin and pipe --proxy with an MTProxy ${mode} link: 2FA sign-in, a resumed session, a managed update and a 20 MB download, only the proxy reached`, async () => {
    const world = await startWorld();
    try {
      await signinAndPipeFlow(mtproxyRoute(world, mode));
    } finally {
      await world.emulator.close();
    }
  });
}

Deno.test("signin and pipe over WebSocket URLs: the same flow, only the WebSocket fronts reached", async () => {
  const world = await startWorld();
  try {
    await signinAndPipeFlow(webSocketRoute(world));
    // No DC was reached over TCP.
    for (const listener of world.emulator.listeners) assertEquals(listener.connections.size, 0);
  } finally {
    await world.emulator.close();
  }
});

Deno.test("signin and pipe over WebSocket URLs through an HTTP CONNECT proxy (tinyproxy): the same flow, only the proxy reached", async () => {
  const world = await startWorld();
  const route = await webSocketViaHttpRoute(world);
  try {
    const before = world.emulator.websocket!.endpoints.reduce((sum, e) => sum + e.accepted, 0);
    await signinAndPipeFlow(route);
    const after = world.emulator.websocket!.endpoints.reduce((sum, e) => sum + e.accepted, 0);
    assertEquals(after - before >= 3, true, "the proxy carried no WebSocket");
  } finally {
    await route.close();
    await world.emulator.close();
  }
});

/**
 * Asserts that every MTProto session any DC of `world` saw ran under a temporary key bound to a
 * permanent one, on DC 2 (sign-in, calls) and DC 3 (file connections) alike, and that no message
 * came under a permanent key once one was bound.
 */
function everySessionUnderTemporaryKey(world: World) {
  const bound = world.keyLines.filter((line) => line.includes("bound to permanent key"));
  const temporary = new Set(bound.map((line) => /temporary key ([0-9a-f]+)/.exec(line)![1]));
  const sessions = world.emulator.contexts.flatMap((dc) =>
    [...dc.sessions.keys()].map((key) => `dc${dc.dcId} ${key.split(":")[0]}`)
  );
  assertEquals(sessions.some((session) => session.startsWith("dc2 ")), true, `${sessions}`);
  assertEquals(sessions.some((session) => session.startsWith("dc3 ")), true, `${sessions}`);
  assertEquals(
    sessions.filter((session) => !temporary.has(session.split(" ")[1])),
    [],
    `sessions under a key that is not a bound temporary one:\n${world.keyLines.join("\n")}`,
  );
  assertEquals(
    world.keyLines.filter((line) => line.includes("a message under permanent key")),
    [],
  );
}

Deno.test("--pfs through an ee MTProxy: signin and pipe sign in, call, get an update and download 20 MB with every session under a bound temporary key", async () => {
  const world = await startWorld();
  try {
    await signinAndPipeFlow(mtproxyRoute(world, "ee", ["--pfs"]));
    everySessionUnderTemporaryKey(world);
  } finally {
    await world.emulator.close();
  }
});

Deno.test("serve --pfs through an ee MTProxy: the serve flow with every session under a bound temporary key", async () => {
  const world = await startWorld();
  try {
    await serveFlow(mtproxyRoute(world, "ee", ["--pfs"]), SECRETS.ee);
    everySessionUnderTemporaryKey(world);
  } finally {
    await world.emulator.close();
  }
});

Deno.test('an MTProxy link pasted per connection as {"server": {"proxy": ...}}: that connection signs in through it, shown without its secret', async () => {
  const world = await startWorld();
  const route = mtproxyRoute(world, "ee");
  const serve = await startServeProcess(route.server);
  const alice = await JsonClient.connect(serve.port);
  try {
    const link = route.flags[route.flags.indexOf("--proxy") + 1];
    const set = await alice.request({ id: 1, server: { proxy: link } });
    const shown = String((set.server as Line).proxy);
    assertStringIncludes(shown, "secret=***");
    assertEquals(shown.includes(SECRETS.ee.slice(2, 12)), false, shown);
    await alice.request({ id: 2, options: { longs_as_strings: true } });
    await signInAlice(alice);
    assertEquals(route.carried() >= 1, true, "the sign-in did not go through the proxy");
    await reachedOnly(serve.child.pid, route.ports, [serve.port]);
  } finally {
    alice.close();
    serve.child.kill("SIGTERM");
    await serve.child.status;
    await world.emulator.close();
  }
});
