// The owner closing a client (closeConnections: its JSON connection went away) while a call waits
// to connect again: the call ends as rpc_timeout, and no connection is opened after the close.
import { assertEquals } from "../assert.ts";
import { Client } from "../../lib/client/client.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { generateServerKey } from "../../lib/emulator/server_key.ts";
import { acceptLoop, closeQuietly } from "../../lib/net/accept_loop.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { until } from "../support/until.ts";

Deno.test("closing the client while a call waits to connect again ends it, and opens nothing after", async () => {
  // Every connection is closed by the server as soon as the key exchange starts. Each accepted
  // connection is known by its client-side port.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted: number[] = [];
  const serving = acceptLoop(listener, async (socket) => {
    accepted.push((socket.remoteAddr as Deno.NetAddr).port);
    await socket.read(new Uint8Array(4096)).catch(() => null);
    closeQuietly(socket);
  }, () => {});
  const { key } = await generateServerKey();
  // The client's waits (between connection attempts, the call's deadline) run on a fake clock.
  const clock = new FakeClock();
  const client = new Client({
    schema: loadSchema(),
    server: {
      host: "127.0.0.1",
      port,
      dc: 2,
      publicKeys: [key],
      test: false,
      transport: { kind: "intermediate" },
    },
    app: { deviceModel: "t", systemVersion: "t", appVersion: "t", langCode: "en" },
    behaviour: { timeoutSeconds: 8 },
    clock,
  });
  const sentinel: Deno.TcpConn[] = [];
  try {
    const call = client.call({ _cons: "help.getNearestDc" });
    let ended = false;
    call.finally(() => (ended = true));
    // Time moves in steps of 50 ms (shorter than any wait between attempts after the first)
    // while the connections fail, until the call has tried again.
    await until(
      async () => {
        await clock.advance(50);
        return accepted.length >= 2;
      },
      15_000,
      "a second connection attempt",
    );
    client.closeConnections();
    await until(
      async () => {
        await clock.advance(50);
        return ended;
      },
      60_000,
      "the call to end",
    );
    const result = await call;
    assertEquals(result._cons, "rpc_timeout", JSON.stringify(result));
    assertEquals(result.maybe_executed, false);
    assertEquals(/closed before an answer came/.test(String(result.error_message)), true);
    assertEquals(clock.now() < 8000, true, "ended at the close, not the timeout");
    const seen = accepted.length;
    // Past every wait the client could still have (the backoff's cap, the call's deadline): a
    // connection opened when one ran out is accepted before one opened after it.
    await clock.advance(60_000);
    sentinel.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    const sentinelPort = (sentinel[0].localAddr as Deno.NetAddr).port;
    await until(() => accepted.includes(sentinelPort), 15_000, "the sentinel connection");
    assertEquals(accepted.slice(seen), [sentinelPort], "no connection after the close");
  } finally {
    for (const socket of sentinel) closeQuietly(socket);
    closeQuietly(listener);
    await serving;
  }
});
