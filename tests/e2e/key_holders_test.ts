/**
 * The emulator's record of who drives each auth key (issue #21's evidence that no account is ever
 * driven by two instances at once): an account of `--users` signed in through one `serve` process
 * and then used through a second one while the first still holds it shows up as one overlap
 * naming both processes; one process's own connections never do.
 */

import { assertEquals } from "../assert.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInByCode, startServeProcess } from "../support/processes.ts";

Deno.test("an account of --users used through two serve processes at once is recorded as driven by both; through one, it is not", async () => {
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: () => {},
    world: { homeDc: 1, users: 3 },
    keyHolders: true,
  });
  const a = await startServeProcess(emulator.serverLine(1));
  const b = await startServeProcess(emulator.serverLine(1));
  const onA = await JsonClient.connect(a.port);
  const onB = await JsonClient.connect(b.port);
  try {
    const session = await signInByCode(onA, "+15551000003");
    const self = await onA.request({
      id: 1,
      message: { _cons: "users.getUsers", id: [{ _cons: "inputUserSelf" }] },
    });
    const user = (self.message as Record<string, unknown>[])[0];
    assertEquals([user.phone, user.first_name, user.last_name], ["15551000003", "User", "3"]);
    await emulator.holders!.settled();
    assertEquals(emulator.holders!.overlaps, []);

    // The same key from a second process, while the first still has its connection open.
    await onB.request({ id: 1, session });
    const config = await onB.request({ id: 2, message: { _cons: "help.getNearestDc" } });
    assertEquals((config.message as Record<string, unknown>)._cons, "nearestDc");
    await emulator.holders!.settled();
    const overlaps = emulator.holders!.overlaps;
    assertEquals(overlaps.length, 1);
    assertEquals(overlaps[0].processes, [a.child.pid, b.child.pid]);
  } finally {
    onA.close();
    onB.close();
    for (const serve of [a, b]) {
      serve.child.kill("SIGTERM");
      await serve.child.status;
    }
    await emulator.close();
  }
});
