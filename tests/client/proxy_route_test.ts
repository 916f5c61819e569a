// A client's route through an MTProxy with fake TLS (#19) takes its time from the client's own
// clock, as everything that reads time does: the ClientHello carries the wall time the client
// was given, not the machine's. An emulator whose clock is an hour ahead (its fake-TLS front
// accepts hellos within 10 min of its own time) lets in a client given the same clock, and refuses
// one on the machine's time.
import { assertEquals, assertRejects } from "../assert.ts";
import { ProxyError } from "../../lib/net/proxy_handshake.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { type Clock, skewedClock, systemClock } from "../../lib/io/clock.ts";
import { Client } from "../../lib/client/client.ts";
import { parseProxyUrl } from "../../lib/net/proxy_url.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";

const EE_SECRET = `ee${"0123456789abcdef".repeat(2)}${
  new TextEncoder().encode("example.com").toHex()
}`;
const APP = {
  apiId: 1,
  apiHash: "h",
  deviceModel: "t",
  systemVersion: "t",
  appVersion: "t",
  langCode: "en",
};

Deno.test("through an ee MTProxy the fake-TLS hello carries the client's clock: an hour-ahead client gets into an hour-ahead front, a client on the machine's time does not", async () => {
  const ahead = skewedClock(systemClock, 3_600_000);
  const emulator = await startEmulator({
    port: 0,
    dcs: 2,
    log: () => {},
    clock: ahead,
    mtproxy: { secrets: [EE_SECRET] },
  });
  const clientOn = (clock: Clock) =>
    new Client({
      schema: loadSchema(),
      server: {
        host: "127.0.0.1",
        port: emulator.dcs[1].port,
        dc: 2,
        publicKeys: [emulator.rsaKey],
        test: false,
        proxy: parseProxyUrl(emulator.mtproxy!.links[0]),
      },
      app: APP,
      clock,
      behaviour: { timeoutSeconds: 5, connectTimeoutSeconds: 3 },
      log: () => {},
    });
  const late = clientOn(systemClock);
  const onTime = clientOn(ahead);
  try {
    assertEquals((await onTime.call({ _cons: "help.getNearestDc" }))._cons, "nearestDc");
    assertEquals(emulator.mtproxy!.routed.get("DC 2"), 1);
    await assertRejects(
      () => late.call({ _cons: "help.getNearestDc" }),
      ProxyError,
      "a clock too far off",
    );
    assertEquals(emulator.mtproxy!.routed.get("DC 2"), 1);
  } finally {
    late.closeConnections();
    onTime.closeConnections();
    await emulator.close();
  }
});
