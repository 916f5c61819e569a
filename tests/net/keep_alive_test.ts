// The keep-alives of many connections share one timer per clock: acks still go out within 200 ms
// and each connection still pings on its own schedule, and the timer ends with the last of them.
import { assertEquals } from "../assert.ts";
import { KeepAlive, type KeepAliveHost } from "../../lib/net/keep_alive.ts";
import type { ClientSession } from "../../lib/mtproto/session.ts";
import type { ByteConnection } from "../../lib/net/tcp_connection.ts";
import type { TlCodec } from "../../lib/tl/codec.ts";
import { FakeClock } from "../support/fake_clock.ts";

function connection(clock: FakeClock, pingIntervalMs: number) {
  const seen = { flushes: 0, pings: [] as number[], outgoing: false };
  const host: KeepAliveHost = {
    clock,
    options: {
      codec: { encode: () => new Uint8Array(4) } as unknown as TlCodec,
      pingIntervalMs,
    },
    session: () => ({ hasOutgoing: seen.outgoing }) as ClientSession,
    connection: () => ({}) as ByteConnection,
    flush: () => {
      seen.flushes++;
      seen.outgoing = false;
    },
    invoke: () => {
      seen.pings.push(clock.now());
      return new Promise(() => {});
    },
    log: () => {},
  };
  return { keepAlive: new KeepAlive(host), seen };
}

Deno.test("a thousand connections' keep-alives run on one timer; acks and pings keep their pace", async () => {
  const clock = new FakeClock(0);
  const start = clock.now();
  const all = Array.from({ length: 1000 }, (_, i) => connection(clock, i === 0 ? 30_000 : 60_000));
  for (const { keepAlive } of all) keepAlive.start();
  assertEquals(clock.pending, 1);
  // An ack waiting goes out within 200 ms; a connection with nothing to ack writes nothing.
  all[5].seen.outgoing = true;
  await clock.advance(200);
  assertEquals(all.map(({ seen }) => seen.flushes).reduce((a, b) => a + b), 1);
  assertEquals(all[5].seen.flushes, 1);
  // Each pings on its own interval.
  await clock.advance(60_000 - 200);
  assertEquals(all[0].seen.pings.map((at) => at - start), [30_000, 60_000]);
  assertEquals(all[1].seen.pings.map((at) => at - start), [60_000]);
  // A stopped one neither acks nor pings; the timer ends with the last.
  all[0].keepAlive.stop();
  all[0].seen.outgoing = true;
  await clock.advance(30_000);
  assertEquals([all[0].seen.flushes, all[0].seen.pings.length], [0, 2]);
  for (const { keepAlive } of all) keepAlive.stop();
  assertEquals(clock.pending, 0);
  // Started again (a reconnect), it is back on a timer.
  all[1].keepAlive.start();
  assertEquals(clock.pending, 1);
  all[1].keepAlive.stop();
  assertEquals(clock.pending, 0);
});
