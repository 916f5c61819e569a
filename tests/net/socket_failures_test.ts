// Socket failures while a connection opens, seen from the sender: each is a ConnectionFailed or
// ConnectTimeout error naming the address and the step (never the platform's own error), and
// closing the sender ends what waits at once, saying whether each request went out. Fake
// connections and fake clock: no sockets, no waiting for real time.
import { assertEquals, assertRejects } from "../assert.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import {
  ConnectionFailedError,
  ConnectTimeoutError,
  RequestTimeoutError,
  Sender,
  SenderClosedError,
  type SenderOptions,
} from "../../lib/net/sender.ts";
import type { ByteConnection } from "../../lib/net/tcp_connection.ts";
import { testCodec as codec } from "../support/emulated_sender.ts";
import { FakeClock, settle } from "../support/fake_clock.ts";
import { memoryDc } from "../support/memory_dc.ts";

const ping = (id: number) => codec.encode({ _cons: "ping", ping_id: BigInt(id) });

/**
 * A connection that accepts the first write and then fails as told: its reader throws `error`
 * (a reset), ends (the server closed it), or never yields (silent); or the write itself throws.
 */
function fakeConnection(
  behaviour: { read: "throw" | "end" | "silent"; error?: Error } | { write: Error },
  closed: { count: number } = { count: 0 },
): Promise<ByteConnection> {
  let written = false;
  let isClosed = false;
  let wake: (() => void) | undefined;
  return Promise.resolve({
    readable: {
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<Uint8Array>> => {
          while (!isClosed && (!written || ("read" in behaviour && behaviour.read === "silent"))) {
            await new Promise<void>((resolve) => (wake = resolve));
          }
          if (!isClosed && "read" in behaviour && behaviour.read === "throw") throw behaviour.error;
          return { done: true, value: undefined };
        },
      }),
    },
    write: () => {
      if ("write" in behaviour) return Promise.reject(behaviour.write);
      written = true;
      wake?.();
      return Promise.resolve();
    },
    close: () => {
      if (isClosed) return;
      isClosed = true;
      closed.count++;
      wake?.();
    },
  });
}

function senderWith(
  connect: SenderOptions["connect"],
  extra: Partial<SenderOptions> = {},
): { sender: Sender; clock: FakeClock } {
  const clock = new FakeClock();
  const sender = new Sender({
    host: "127.0.0.1",
    port: 443,
    dcId: 2,
    publicKeys: [],
    transport: { kind: "intermediate" },
    codec,
    random: secureRandom,
    log: () => {},
    pingIntervalMs: 0,
    clock,
    connect,
    ...extra,
  });
  return { sender, clock };
}

Deno.test("a reset, a broken pipe or the server closing during the key exchange is ConnectionFailed naming the step", async () => {
  const cases = [
    {
      behaviour: {
        read: "throw" as const,
        error: new Deno.errors.ConnectionReset("Connection reset by peer (os error 104)"),
      },
      says:
        /127\.0\.0\.1:443 \(DC 2\) failed during the key exchange \(req_pq_multi\): Connection reset by peer/,
    },
    {
      behaviour: { write: new Deno.errors.BrokenPipe("Broken pipe (os error 32)") },
      says: /during the key exchange \(req_pq_multi\): Broken pipe/,
    },
    {
      behaviour: { read: "end" as const },
      says:
        /127\.0\.0\.1:443 \(DC 2\) closed the connection during the key exchange \(req_pq_multi\)/,
    },
  ];
  for (const { behaviour, says } of cases) {
    const closed = { count: 0 };
    const { sender } = senderWith(() => fakeConnection(behaviour, closed));
    try {
      const error = await assertRejects(() => sender.invoke(ping(1)), ConnectionFailedError);
      assertEquals(says.test(error.message), true, error.message);
      assertEquals(error.step, "key_exchange");
      assertEquals(closed.count, 1, "the socket is closed");
    } finally {
      sender.close();
    }
  }
});

Deno.test("an error opening the socket is ConnectionFailed at the TCP connect", async () => {
  const { sender } = senderWith(() =>
    Promise.reject(new Deno.errors.ConnectionRefused("Connection refused (os error 111)"))
  );
  try {
    const error = await assertRejects(() => sender.invoke(ping(1)), ConnectionFailedError);
    assertEquals(error.step, "tcp_connect");
    assertEquals(/TCP connect: Connection refused/.test(error.message), true, error.message);
  } finally {
    sender.close();
  }
});

Deno.test("no answer: the connect deadline and the request's timeout name the step that got none", async () => {
  // No key yet: the key exchange is what gets no answer.
  const { sender, clock } = senderWith(() => fakeConnection({ read: "silent" }));
  try {
    const timedOut = assertRejects(() => sender.invoke(ping(1), 3000), RequestTimeoutError);
    const connect = assertRejects(() => sender.invoke(ping(2)), ConnectTimeoutError);
    await clock.advance(10_000);
    const early = await timedOut;
    assertEquals(early.maybeExecuted, false);
    assertEquals(
      early.waitingFor,
      "127.0.0.1:443 (DC 2) accepted TCP but did not answer the key exchange (req_pq_multi)",
    );
    const late = await connect;
    assertEquals(late.step, "key_exchange");
    assertEquals(/within 10 s: .*did not answer the key exchange/.test(late.message), true);
  } finally {
    sender.close();
  }
  // A key already: the first call on the connection is what gets no answer.
  const keyed = senderWith(() => fakeConnection({ read: "silent" }), {
    authKey: secureRandom(256),
  });
  try {
    const timedOut = assertRejects(() => keyed.sender.invoke(ping(1), 3000), RequestTimeoutError);
    await keyed.clock.advance(3000);
    const error = await timedOut;
    assertEquals(error.maybeExecuted, true);
    assertEquals(/did not answer the first call/.test(error.waitingFor ?? ""), true);
  } finally {
    keyed.sender.close();
  }
});

Deno.test("closing the sender ends waiting requests at once, each saying whether it went out", async () => {
  // Still connecting: the connection being opened is closed too, and nothing went out.
  const closed = { count: 0 };
  const { sender } = senderWith(() => fakeConnection({ read: "silent" }, closed));
  let outcome: unknown;
  const pending = sender.invoke(ping(1), 30_000).catch((error) => (outcome = error));
  await settle();
  sender.close();
  await settle();
  await pending;
  assertEquals(outcome instanceof SenderClosedError, true, String(outcome));
  assertEquals((outcome as SenderClosedError).maybeExecuted, false);
  assertEquals(closed.count, 1);

  // Connected and sent: the request may have run.
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {} });
  const dc = memoryDc(emulator.contexts[0]);
  const live = senderWith(() => dc.connect(), { publicKeys: [emulator.rsaKey] });
  try {
    await live.sender.invoke(ping(1));
    dc.mute = true;
    const sent = assertRejects(() => live.sender.invoke(ping(2)), SenderClosedError);
    await settle();
    live.sender.close();
    assertEquals((await sent).maybeExecuted, true);
  } finally {
    live.sender.close();
    await emulator.close();
  }
});
