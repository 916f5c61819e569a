/**
 * Socket failures on the way to Telegram, as a JSON client sees them through `serve`: a connection
 * reset at once, refused, closed during the key exchange, accepted and never answered, and a server
 * switched with calls in flight. Each is retried within the request's timeout and ends as an
 * answer, an `rpc_timeout` or a documented error name, never `InternalError` or an OS error text.
 * The servers are small TCP listeners on 127.0.0.1 in front of an in-process emulator.
 */

import { assertEquals } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { type Emulator, startEmulator } from "../../lib/emulator/emulator.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import { acceptLoop, closeQuietly } from "../../lib/net/accept_loop.ts";
import { JsonClient } from "../support/json_client.ts";
import { until } from "../support/until.ts";
import { watchedClock } from "../support/quiet.ts";

const schema = loadSchema();
const quiet = () => {};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a front does with one accepted connection. */
type Treatment =
  | "eof" // reads the first bytes, then closes: end of stream during the key exchange
  | "silent" // reads and never writes
  | "forward"; // passes bytes both ways to the emulator

/** A TCP front on 127.0.0.1: connection n gets `script[n]` (the last entry once past the end). */
function front(target: number, script: Treatment[], port = 0) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const sockets = new Set<Deno.Conn>();
  let accepted = 0;
  const serving = acceptLoop(listener, (socket) => {
    const treatment = script[Math.min(accepted++, script.length - 1)];
    sockets.add(socket);
    treat(socket, treatment, target, sockets).finally(() => {
      sockets.delete(socket);
      closeQuietly(socket);
    });
  }, quiet);
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accepted: () => accepted,
    async close() {
      closeQuietly(listener);
      for (const socket of sockets) closeQuietly(socket);
      await serving;
    },
  };
}

async function treat(
  socket: Deno.Conn,
  treatment: Treatment,
  target: number,
  sockets: Set<Deno.Conn>,
): Promise<void> {
  try {
    if (treatment === "eof") {
      await socket.read(new Uint8Array(4096));
      return;
    }
    if (treatment === "silent") {
      for await (const _ of socket.readable) { /* never answers */ }
      return;
    }
    const upstream = await Deno.connect({ hostname: "127.0.0.1", port: target });
    sockets.add(upstream);
    await Promise.allSettled([
      socket.readable.pipeTo(upstream.writable),
      upstream.readable.pipeTo(socket.writable),
    ]);
    sockets.delete(upstream);
    closeQuietly(upstream);
  } catch {
    // the client went away
  }
}

/**
 * A port whose connections are reset at once: the listener never accepts, and is closed and
 * opened again every 10 ms, so that the kernel resets every connection waiting in its queue
 * (`ECONNRESET`, "Connection reset by peer (os error 104)" on the client's first read). The pause
 * is this fake server's pace, not a test waiting: Deno has no way to reset an accepted connection
 * (its close sends FIN even with unread data, and SO_LINGER cannot be set), so the kernel's reset
 * of a closed listener's queue is the only one to be had, and nothing tells the listener that a
 * connection is waiting in its queue.
 */
function resetting() {
  let listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  let running = true;
  const loop = (async () => {
    while (running) {
      await sleep(10);
      listener.close();
      // Between the close and the listen, another test's connection may take the port as its
      // own local port (the kernel hands out ephemeral ports from the same range): the port is
      // listened on again as soon as it is free.
      while (running) {
        try {
          listener = Deno.listen({ hostname: "127.0.0.1", port });
          break;
        } catch (error) {
          if (!(error instanceof Deno.errors.AddrInUse)) throw error;
          await sleep(1);
        }
      }
    }
  })();
  return {
    port,
    async close() {
      running = false;
      await loop;
    },
  };
}

/** A port nobody listens on: connections are refused. */
function refusedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

interface World {
  emulator: Emulator;
  client: JsonClient;
  /** Points the connection's client at 127.0.0.1:`port` (the emulator's DC and key). */
  point(port: number, extra?: Record<string, unknown>): Promise<void>;
  /** How many times serve began waiting to try a connection again (each after a failed one). */
  retries(): number;
  /** How many answers the emulator holds back (under a `slow` fault) or has held back. */
  held(): number;
}

async function withProxy(
  run: (world: World) => Promise<void>,
  faults: Parameters<typeof startEmulator>[0] = {},
) {
  // The platform's clocks, watched: serve's to see a retry begin, the emulator's to see it hold
  // an answer back.
  const emulatorClock = watchedClock();
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: quiet,
    clock: emulatorClock,
    ...faults,
  });
  const slowMs = faults.faults?.slow?.ms;
  const serveClock = watchedClock();
  const server = serve({
    schema,
    server: serverFlag(JSON.stringify(emulator.serverLine()))!,
    app: appIdentity("12345", "hash", "test"),
    transport: { kind: "intermediate" },
    log: quiet,
    clock: serveClock,
  }, { host: "127.0.0.1", port: 0, maxLine: 1 << 20 });
  const client = await JsonClient.connect(server.port);
  let ids = 1_000_000;
  const point = async (port: number, extra: Record<string, unknown> = {}) => {
    const line = await client.request({
      id: ids++,
      server: { ...emulator.serverLine().server, port, transport: "intermediate", ...extra },
    });
    assertEquals(line.error, undefined, JSON.stringify(line));
  };
  try {
    await run({
      emulator,
      client,
      point,
      retries: () => serveClock.sleeps.length,
      held: () => emulatorClock.timers.filter((ms) => ms === slowMs).length,
    });
  } finally {
    client.close();
    await server.close();
    await emulator.close();
  }
}

/** Sends one call with `options` and returns its line and how long it took. */
async function timed(client: JsonClient, id: number, options: Record<string, unknown>) {
  const started = performance.now();
  const line = await client.request(
    { id, message: { _cons: "help.getNearestDc" }, options },
    20_000,
  );
  return { line, ms: performance.now() - started };
}

const cons = (line: Record<string, unknown>) =>
  (line.message as Record<string, unknown> | undefined)?._cons ?? `error ${line.error}`;

/**
 * The end of a call against a server that keeps failing: the named error `name` whose message
 * matches `why`, or an `rpc_timeout` that never left the proxy and whose message matches `why`
 * too (the deadline came during an attempt). Never an OS error under `InternalError`.
 */
function assertNamedEnd(line: Record<string, unknown>, name: string, why: RegExp) {
  const message = line.message as Record<string, unknown> | undefined;
  if (message) {
    assertEquals(message._cons, "rpc_timeout", JSON.stringify(line));
    assertEquals(message.maybe_executed, false, JSON.stringify(line));
    assertEquals(why.test(String(message.error_message)), true, JSON.stringify(line));
  } else {
    assertEquals(line.error, name, JSON.stringify(line));
    assertEquals(why.test(String(line.msg)), true, JSON.stringify(line));
  }
}

Deno.test("a connection reset at once is retried within the timeout: the call is answered once the server is back", async () => {
  await withProxy(async ({ emulator, client, point, retries }) => {
    const reset = resetting();
    await point(reset.port);
    const call = timed(client, 1, { timeout: 8 });
    // The server comes back once the call's first connection was reset and a retry is waiting.
    await until(() => retries() >= 1, 8000, "a first connection to be reset");
    await reset.close();
    const back = front(emulator.dcs[0].port, ["forward"], reset.port);
    try {
      const { line } = await call;
      assertEquals(cons(line), "nearestDc", JSON.stringify(line));
    } finally {
      await back.close();
    }
  });
});

Deno.test("a connection reset every time ends as ConnectionFailed naming the reset (or rpc_timeout), within the timeout", async () => {
  await withProxy(async ({ client, point }) => {
    const reset = resetting();
    try {
      await point(reset.port);
      const { line, ms } = await timed(client, 1, { timeout: 1 });
      assertNamedEnd(line, "ConnectionFailed", /reset|refused|key exchange|TCP connect/);
      assertEquals(ms < 2000, true, `${ms} ms`);
    } finally {
      await reset.close();
    }
  });
});

Deno.test("a refused connection is retried within the timeout (a DC restarting), then ends as ConnectionFailed naming the TCP connect", async () => {
  await withProxy(async ({ emulator, client, point, retries }) => {
    const port = refusedPort();
    await point(port);
    // Nobody listens: the call is answered once the server comes up, after a first refusal.
    const call = timed(client, 1, { timeout: 8 });
    await until(() => retries() >= 1, 8000, "a first connection to be refused");
    const back = front(emulator.dcs[0].port, ["forward"], port);
    try {
      const { line } = await call;
      assertEquals(cons(line), "nearestDc", JSON.stringify(line));
    } finally {
      await back.close();
    }
    // Nobody ever listens: a named error once no further try fits in the timeout.
    await point(refusedPort());
    const { line, ms } = await timed(client, 2, { timeout: 1 });
    assertNamedEnd(line, "ConnectionFailed", /TCP connect/);
    assertEquals(ms < 2000, true, `${ms} ms`);
  });
});

Deno.test("a server that closes the connection during the key exchange is retried, then ends as ConnectionFailed", async () => {
  await withProxy(async ({ emulator, client, point }) => {
    const flaky = front(emulator.dcs[0].port, ["eof", "eof", "forward"]);
    const closing = front(emulator.dcs[0].port, ["eof"]);
    try {
      await point(flaky.port);
      const { line } = await timed(client, 1, { timeout: 8 });
      assertEquals(cons(line), "nearestDc", JSON.stringify(line));
      assertEquals(flaky.accepted(), 3);
      // The call that finally went out still carried invokeWithLayer(initConnection(...)).
      const sessions = [...emulator.contexts[0].sessions.values()];
      assertEquals(sessions.map((session) => session.layer), [schema.layer]);

      await point(closing.port);
      const end = await timed(client, 2, { timeout: 1 });
      assertNamedEnd(end.line, "ConnectionFailed", /key exchange/);
      assertEquals(closing.accepted() >= 2, true, `${closing.accepted()} attempts`);
    } finally {
      await flaky.close();
      await closing.close();
    }
  });
});

Deno.test("a server that accepts TCP and never answers: the answer names the step that got none", async () => {
  await withProxy(async ({ emulator, client, point }) => {
    const silent = front(emulator.dcs[0].port, ["silent"]);
    try {
      await point(silent.port);
      // The connect deadline first: the key exchange is named as what got no answer.
      await client.request({ id: 100, options: { connect_timeout: 0.5 } });
      const early = await timed(client, 1, { timeout: 3 });
      assertNamedEnd(early.line, "ConnectTimeout", /key exchange/);
      assertEquals(silent.accepted() >= 2, true, "tried again within the timeout");
      // The request's deadline first: an rpc_timeout saying the same.
      await client.request({ id: 101, options: { connect_timeout: 10 } });
      await point(silent.port); // a new connection, under the new connect deadline
      const late = await timed(client, 2, { timeout: 0.5 });
      assertEquals(cons(late.line), "rpc_timeout");
      const message = late.line.message as Record<string, unknown>;
      assertEquals(message.maybe_executed, false);
      assertEquals(
        /key exchange/.test(String(message.error_message)),
        true,
        String(message.error_message),
      );
    } finally {
      await silent.close();
    }
    // With a key already made, it is the first call that gets no answer.
    await point(emulator.dcs[0].port);
    const made = await timed(client, 4, { timeout: 5 });
    assertEquals(cons(made.line), "nearestDc");
    const keyed = (await client.request({ id: 5, session: {} })).session as Record<string, unknown>;
    const mute = front(emulator.dcs[0].port, ["silent"]);
    try {
      const loaded = await client.request({
        id: 6,
        session: {
          ...keyed,
          server: {
            ...emulator.serverLine().server,
            port: mute.port,
            transport: "intermediate",
          },
        },
      });
      assertEquals(loaded.error, undefined, JSON.stringify(loaded));
      const first = await timed(client, 7, { timeout: 0.5 });
      const message = first.line.message as Record<string, unknown>;
      assertEquals(message?._cons, "rpc_timeout", JSON.stringify(first.line));
      assertEquals(
        /first call/.test(String(message.error_message)),
        true,
        String(message.error_message),
      );
    } finally {
      await mute.close();
    }
  });
});

Deno.test("switching server: calls not yet sent go to the new server, calls sent end as rpc_timeout maybe_executed", async () => {
  // Not yet sent: the old server never finished the key exchange.
  await withProxy(async ({ emulator, client, point }) => {
    const silent = front(emulator.dcs[0].port, ["silent"]);
    try {
      await point(silent.port);
      const calls = [1, 2, 3].map((id) => timed(client, id, { timeout: 8 }));
      // The calls wait on a connection to the old server, which never answers its key exchange.
      await until(() => silent.accepted() >= 1, 8000, "a connection to the silent server");
      await point(emulator.dcs[0].port);
      for (const call of calls) {
        const { line, ms } = await call;
        assertEquals(cons(line), "nearestDc", JSON.stringify(line));
        assertEquals(ms < 4000, true, `${ms} ms`);
      }
    } finally {
      await silent.close();
    }
  });
  // Sent: the old server holds their answers for 5 s. The switch ends them at once, as calls that
  // may have run there; the next call goes to the new server.
  await withProxy(async ({ emulator, client, point, held }) => {
    await point(emulator.dcs[0].port);
    assertEquals(
      cons(await client.request({ id: 1, message: { _cons: "help.getConfig" } })),
      "config",
    );
    const calls = [2, 3, 4].map((id) => timed(client, id, { timeout: 8 }));
    await until(() => held() >= 3, 8000, "the emulator to hold the 3 answers back");
    await point(emulator.dcs[0].port, { transport: "abridged" });
    for (const call of calls) {
      const { line, ms } = await call;
      const message = line.message as Record<string, unknown> | undefined;
      assertEquals(message?._cons, "rpc_timeout", JSON.stringify(line));
      assertEquals(message?.maybe_executed, true);
      assertEquals(/server was changed/.test(String(message?.error_message)), true);
      assertEquals(ms < 2000, true, `${ms} ms`);
    }
    assertEquals(
      cons(await client.request({ id: 5, message: { _cons: "help.getConfig" } })),
      "config",
    );
  }, { faults: { slow: { method: "help.getNearestDc", ms: 5000 } } });
});
