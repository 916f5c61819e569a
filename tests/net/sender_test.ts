// The sender's deadlines, backoff, ping deadline and -404 handling, driven by fake clock over
// in-memory pipes to an emulated DC: no sockets, and no test waits for real time to pass.
import { assertEquals, assertRejects } from "../assert.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import {
  AuthKeyUnknownError,
  ConnectionFailedError,
  ConnectTimeoutError,
  RequestTimeoutError,
  Sender,
  type SenderOptions,
} from "../../lib/net/sender.ts";
import type { ByteConnection } from "../../lib/net/tcp_connection.ts";
import { FLOOD_BACKOFF, RECONNECT_BACKOFF } from "../../lib/net/backoff.ts";
import { TransportError } from "../../lib/errors.ts";
import { ServerTransport } from "../../lib/transport/transport.ts";
import { testCodec as codec } from "../support/emulated_sender.ts";
import { FakeClock, settle } from "../support/fake_clock.ts";
import { memoryDc } from "../support/memory_dc.ts";

const ping = (id: number) => codec.encode({ _cons: "ping", ping_id: BigInt(id) });

async function setup(extra: Partial<SenderOptions> = {}) {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {} });
  const dc = memoryDc(emulator.contexts[0]);
  const clock = new FakeClock();
  const connects: number[] = [];
  const sender = new Sender({
    host: "memory",
    port: 0,
    dcId: 1,
    publicKeys: [emulator.rsaKey],
    transport: { kind: "intermediate" },
    codec,
    random: secureRandom,
    log: () => {},
    pingIntervalMs: 0,
    clock,
    connect: () => {
      connects.push(clock.now());
      return dc.connect();
    },
    ...extra,
  });
  return { emulator, dc, clock, sender, connects };
}

/** A connection that accepts bytes and never answers; `closed.count` counts those closed. */
function silentConnection(closed: { count: number }): Promise<ByteConnection> {
  let end: (() => void) | undefined;
  let isClosed = false;
  return Promise.resolve({
    readable: {
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<Uint8Array>> => {
          if (!isClosed) await new Promise<void>((resolve) => (end = resolve));
          return { done: true, value: undefined };
        },
      }),
    },
    write: () => Promise.resolve(),
    close: () => {
      if (isClosed) return;
      isClosed = true;
      closed.count++;
      end?.();
    },
  });
}

Deno.test("a request's timeout counts from submission, connecting included; the connect deadline closes the socket", async () => {
  const { emulator, clock, sender } = await setup();
  const closed = { count: 0 };
  const silent = new Sender({ ...sender.options, connect: () => silentConnection(closed) });
  try {
    const timedOut = assertRejects(() => silent.invoke(ping(1), 3000), RequestTimeoutError);
    const connectFailed = assertRejects(() => silent.invoke(ping(2)), ConnectTimeoutError);
    await clock.advance(3000);
    const error = await timedOut;
    assertEquals(error.maybeExecuted, false, "it never left the process");
    assertEquals(closed.count, 0, "the key exchange still has time");
    await clock.advance(7000);
    await connectFailed;
    assertEquals(closed.count, 1, "the connection is closed at the connect deadline");
    // The next request starts a fresh attempt rather than waiting behind the dead one.
    const next = assertRejects(() => silent.invoke(ping(3)), ConnectTimeoutError);
    await clock.advance(10_000);
    await next;
    assertEquals(closed.count, 2);
  } finally {
    silent.close();
    sender.close();
    await emulator.close();
  }
});

Deno.test("calls made one after another share one deadline timer, which keeps no process alive and ends with close", async () => {
  const { emulator, clock, sender } = await setup();
  // Counts the timers set for the calls' 30 s timeout, and whether each keeps the process alive.
  const deadlineTimers: boolean[] = [];
  const setTimer = clock.setTimeout.bind(clock);
  Object.assign(clock, {
    setTimeout: (run: () => void, ms: number, options?: { keepAlive?: boolean }) => {
      if (ms > 20_000) deadlineTimers.push(options?.keepAlive !== false);
      return setTimer(run, ms);
    },
  });
  try {
    for (let i = 1; i <= 20; i++) {
      assertEquals(codec.decode(await sender.invoke(ping(i), 30_000)).ping_id, BigInt(i));
    }
    assertEquals(deadlineTimers, [false]);
  } finally {
    sender.close();
    await emulator.close();
  }
  assertEquals(clock.pending, 0, "close ends the timer");
});

Deno.test("a dropped connection is retried after growing, jittered waits, one attempt at a time", async () => {
  let reconnected = 0;
  const { emulator, dc, clock, sender, connects } = await setup({
    onReconnect: () => reconnected++,
  });
  try {
    await sender.connect();
    assertEquals(codec.decode(await sender.invoke(ping(1))).ping_id, 1n);
    dc.refuse = new Deno.errors.ConnectionRefused("refused");
    const pending = sender.invoke(ping(2));
    dc.drop();
    await clock.advance(10_000);
    // 10 s without a server: the waits grow toward the cap instead of hammering it.
    const attempts = connects.slice(1);
    const gaps = attempts.map((at, index) => at - (index ? attempts[index - 1] : 0));
    assertEquals(attempts.length >= 5 && attempts.length <= 12, true, `${attempts.length}`);
    for (let i = 1; i < gaps.length; i++) {
      const ceiling = Math.min(RECONNECT_BACKOFF.capMs, RECONNECT_BACKOFF.baseMs * 2 ** i);
      assertEquals(gaps[i] >= ceiling / 2 - 50 && gaps[i] <= ceiling + 50, true, `gap ${gaps[i]}`);
    }
    // The server is back: the next attempt connects and the request made meanwhile is answered.
    dc.refuse = undefined;
    await clock.advance(RECONNECT_BACKOFF.capMs);
    assertEquals(codec.decode(await pending).ping_id, 2n);
    assertEquals(dc.opened - dc.closed, 1, "exactly one live connection");
    // Its owner is told once, to fetch the updates pushed while it was away.
    assertEquals(reconnected, 1);
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("a ping with no pong in time drops the half-open connection and reconnects", async () => {
  const { emulator, dc, clock, sender } = await setup({
    pingIntervalMs: 30_000,
    pingTimeoutMs: 10_000,
  });
  try {
    await sender.connect();
    assertEquals(dc.opened, 1);
    dc.mute = true;
    await clock.advance(30_000);
    assertEquals(dc.closed, 0, "the ping has time to be answered");
    await clock.advance(10_000);
    assertEquals(dc.closed, 1, "no pong: the connection is dropped");
    dc.mute = false;
    await clock.advance(RECONNECT_BACKOFF.capMs);
    await settle();
    assertEquals(dc.opened, 2);
    assertEquals(codec.decode(await sender.invoke(ping(7))).ping_id, 7n);
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("-404 fails what is in flight, closes the sender and tells its owner once", async () => {
  let told = 0;
  const { emulator, dc, sender } = await setup({ onAuthKeyUnknown: () => told++ });
  try {
    assertEquals(codec.decode(await sender.invoke(ping(1))).ping_id, 1n);
    emulator.contexts[0].keys.forgetAll();
    await assertRejects(() => sender.invoke(ping(2)), AuthKeyUnknownError, "AUTH_KEY_UNKNOWN");
    await settle();
    assertEquals({ told, closed: sender.closed, open: dc.opened - dc.closed }, {
      told: 1,
      closed: true,
      open: 0,
    });
  } finally {
    sender.close();
    await emulator.close();
  }
});

/** A connection whose server answers the first message with the transport error -429. */
function floodingConnection(): Promise<ByteConnection> {
  const server = new ServerTransport(secureRandom);
  const chunks: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  return Promise.resolve({
    readable: {
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<Uint8Array>> => {
          while (!chunks.length && !ended) await new Promise<void>((resolve) => (wake = resolve));
          return chunks.length ? { value: chunks.shift()! } : { done: true, value: undefined };
        },
      }),
    },
    write(bytes) {
      if (server.unpack(bytes).length) chunks.push(server.packError(429));
      wake?.();
      return Promise.resolve();
    },
    close() {
      ended = true;
      wake?.();
    },
  });
}

Deno.test("a refused connection is a ConnectionFailed error naming the address", async () => {
  const { emulator, dc, sender } = await setup();
  try {
    dc.refuse = new Deno.errors.ConnectionRefused("Connection refused (os error 111)");
    await assertRejects(
      () => sender.invoke(ping(1)),
      ConnectionFailedError,
      "cannot reach memory:0",
    );
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("-429 keeps new connections away for a growing while", async () => {
  const clock = new FakeClock();
  const connects: number[] = [];
  const { emulator, sender: template } = await setup();
  const sender = new Sender({
    ...template.options,
    clock,
    connect: () => {
      connects.push(clock.now());
      return floodingConnection();
    },
  });
  try {
    // Each request meets -429; the waits between connections are measured on the fake clock.
    // The next request is made as soon as the previous one failed.
    for (let request = 1; request <= 4; request++) {
      let failed = false;
      const refused = assertRejects(() => sender.invoke(ping(request)), TransportError, "429")
        .then(() => (failed = true));
      while (!failed) await clock.advance(50);
      await refused;
    }
    const gaps = connects.slice(1).map((at, index) => at - connects[index]);
    // First wait 1–2 s, then 2–4 s, 4–8 s: never at once, and growing.
    gaps.forEach((gap, index) => {
      const ceiling = FLOOD_BACKOFF.baseMs * 2 ** index;
      assertEquals(gap >= ceiling / 2 && gap <= ceiling + 50, true, `wait ${index + 1}: ${gap} ms`);
    });
    assertEquals(gaps.length, 3);
  } finally {
    sender.close();
    template.close();
    await emulator.close();
  }
});
