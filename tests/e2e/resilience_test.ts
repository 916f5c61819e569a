import { assertEquals } from "../assert.ts";
import { skewedClock, systemClock } from "../../lib/io/clock.ts";
import { TlCodec } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import type { Sender, SenderOptions } from "../../lib/net/sender.ts";
import { emulatedSender } from "../support/emulated_sender.ts";
import { FakeClock } from "../support/fake_clock.ts";

const codec = new TlCodec(loadSchema());
const quiet = () => {};
const getConfig = codec.encode({ _cons: "help.getConfig" });
const ping = (id: number) => codec.encode({ _cons: "ping", ping_id: BigInt(id) });

type Emulator = Awaited<ReturnType<typeof startEmulator>>;

function senderFor(emulator: Emulator, extra: Partial<SenderOptions> = {}) {
  return emulatedSender(emulator, 1, extra);
}

/**
 * Sends `count` pings with distinct ids, in waves of `wave` so that requests are in flight over a
 * span of the connection's life (each wave goes out once the previous one's first request is
 * answered), and checks each comes back exactly once, to its own request.
 */
async function burst(
  sender: Sender,
  count: number,
  during?: (index: number) => void,
  wave = count,
) {
  const requests: Promise<number>[] = [];
  for (let index = 0; index < count; index++) {
    during?.(index);
    requests.push(
      sender.invoke(ping(index)).then((answer) => Number(codec.decode(answer).ping_id)),
    );
    if ((index + 1) % wave === 0) await requests[index + 1 - wave];
  }
  const answers = await Promise.all(requests);
  assertEquals(answers, Array.from({ length: count }, (_, index) => index));
  assertEquals(sender.session?.pendingCount, 0);
}

Deno.test("salts rotating every second are followed without losing a request", async () => {
  // The DC's and the client's clock is the test's: salts rotate as it moves, 250 ms a round.
  const clock = new FakeClock();
  const emulator = await startEmulator({ port: 0, dcs: 1, log: quiet, saltSeconds: 1, clock });
  const sender = senderFor(emulator, { clock });
  try {
    await sender.invoke(getConfig);
    const salts = new Set<bigint>();
    for (let round = 0; round < 12; round++) {
      await burst(sender, 20);
      salts.add(sender.session!.salt);
      await clock.advance(250);
    }
    assertEquals(salts.size >= 2, true, `the client used ${salts.size} salt(s)`);
  } finally {
    sender.close();
    await emulator.close();
  }
});

for (const skewHours of [1, -1]) {
  Deno.test(`a client clock ${skewHours > 0 ? "an hour ahead" : "an hour behind"} is corrected by bad_msg_notification`, async () => {
    const emulator = await startEmulator({ port: 0, dcs: 1, log: quiet });
    const first = senderFor(emulator);
    try {
      await first.invoke(getConfig);
      // Resume the same key with a clock that is off: no key exchange to learn the time from.
      const skewed = senderFor(emulator, {
        authKey: first.authKey,
        salt: first.session!.salt,
        clock: skewedClock(systemClock, skewHours * 3600_000),
      });
      try {
        await burst(skewed, 50);
        assertEquals(Math.abs(skewed.session!.ids.offsetMs + skewHours * 3600_000) < 5000, true);
      } finally {
        skewed.close();
      }
    } finally {
      first.close();
      await emulator.close();
    }
  });
}

Deno.test("connections dropped by the server mid-burst lose no request and answer none twice", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: quiet, faults: { dropEvery: 37 } });
  const sender = senderFor(emulator);
  try {
    await burst(sender, 500, undefined, 10);
    assertEquals(sender.reconnects > 0, true, "the server never dropped the connection");
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("a connection dropped by the client mid-burst is re-established and every request answered", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: quiet });
  const sender = senderFor(emulator);
  try {
    await sender.invoke(getConfig);
    await burst(sender, 300, (index) => {
      if (index === 150) sender.dropConnection();
    }, 10);
    assertEquals(sender.reconnects, 1);
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("a server that forgets every session mid-burst starts a new one and still answers all", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: quiet });
  let newSessions = 0;
  const sender = senderFor(emulator, { onNewSession: () => newSessions++ });
  try {
    await sender.invoke(getConfig);
    assertEquals(newSessions, 1);
    await burst(sender, 200, (index) => {
      if (index === 100) {
        emulator.contexts[0].sessions.clear();
        for (const connection of emulator.listeners[0].connections) connection.close();
      }
    }, 10);
    await burst(sender, 10);
    assertEquals(newSessions, 2);
  } finally {
    sender.close();
    await emulator.close();
  }
});
