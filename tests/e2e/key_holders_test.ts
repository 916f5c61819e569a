/**
 * The emulator's record of who drives each auth key (issue #21's evidence that no account is ever
 * driven by two instances at once): an account of `--users` signed in through one `serve` process
 * and then used through a second one while the first still holds it shows up as one moment naming
 * both processes; one process's own connections never do.
 */

import { assertEquals } from "../assert.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInByCode, startServeProcess } from "../support/processes.ts";
import { startInstancesBed } from "../support/instances_bed.ts";

Deno.test("an account of --users used through two serve processes at once is recorded as driven by both; through one, it is not", async () => {
  const bed = await startInstancesBed({ users: 3 });
  const serves: Awaited<ReturnType<typeof startServeProcess>>[] = [];
  const clients: JsonClient[] = [];
  try {
    const a = await startServeProcess(bed.serverLine);
    serves.push(a);
    const b = await startServeProcess(bed.serverLine);
    serves.push(b);
    const onA = await JsonClient.connect(a.port);
    clients.push(onA);
    const onB = await JsonClient.connect(b.port);
    clients.push(onB);
    const session = await signInByCode(onA, "+15551000003");
    const self = await onA.request({
      id: 1,
      message: { _cons: "users.getUsers", id: [{ _cons: "inputUserSelf" }] },
    });
    const user = (self.message as Record<string, unknown>[])[0];
    assertEquals([user.phone, user.first_name, user.last_name], ["15551000003", "User", "3"]);

    // The same key from a second process, while the first still has its connection open.
    await onB.request({ id: 1, session });
    const nearest = await onB.request({ id: 2, message: { _cons: "help.getNearestDc" } });
    assertEquals((nearest.message as Record<string, unknown>)._cons, "nearestDc");
    onA.close();
    onB.close();
    for (const serve of [a, b]) {
      serve.child.kill("SIGTERM");
      await serve.child.status;
    }
    const moments = await bed.keysDrivenTwice();
    assertEquals(moments.length, 1, moments.join("\n"));
    assertEquals(moments[0].endsWith(`: ${a.child.pid} and ${b.child.pid}`), true, moments[0]);
  } finally {
    for (const client of clients) client.close();
    for (const serve of serves) {
      try {
        serve.child.kill("SIGTERM");
      } catch { /* stopped */ }
      await serve.child.status;
    }
    await bed.close();
  }
});
