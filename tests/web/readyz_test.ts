// GET /readyz as a load balancer reads it under serve --state: ready while every held account has
// its connection to its DC up, 503 (with held_connected below held_accounts) once the DC is gone,
// while /healthz still says the process is alive.

import { assertEquals } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import type { ProxyDefaults } from "../../lib/proxy/proxy_connection.ts";
import { HeldAccounts } from "../../lib/proxy/held_accounts.ts";
import { openSqliteStore } from "../../lib/store/sqlite.ts";
import { serveFronts } from "../support/serve_fronts.ts";
import { signInAlice } from "../support/processes.ts";
import { until } from "../support/until.ts";

Deno.test("/readyz is 503 while a held account is not connected to its DC, /healthz stays 200", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const dir = await Deno.makeTempDir();
  const store = await openSqliteStore(`${dir}/state`);
  const defaults: ProxyDefaults = {
    schema: loadSchema(),
    server: serverFlag(JSON.stringify(emulator.serverLine(1)))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds: 5 },
    transport: { kind: "intermediate" },
    log: () => {},
  };
  const held = new HeldAccounts(defaults, store, { log: () => {} });
  defaults.held = held;
  const fronts = serveFronts(defaults);
  const probe = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${fronts.httpPort}${path}`);
    return { status: response.status, body: await response.json() };
  };
  const alice = await fronts.connect("tcp");
  try {
    // Nothing held yet: ready.
    assertEquals((await probe("/readyz")).status, 200);
    await signInAlice(alice);
    await until(async () => (await probe("/readyz")).body.held_accounts === 1);
    const ready = await probe("/readyz");
    assertEquals([ready.status, ready.body.held_connected], [200, 1]);

    // The DC goes away: the held account's connection drops and cannot come back.
    await emulator.close();
    await until(async () => (await probe("/readyz")).status === 503, 15_000, "readyz 503");
    const down = await probe("/readyz");
    assertEquals([down.body.held_accounts, down.body.held_connected], [1, 0]);
    const alive = await probe("/healthz");
    assertEquals([alive.status, alive.body.held_connected], [200, 0]);
  } finally {
    alice.close();
    await fronts.close();
    await held.close();
    await store.close();
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});
