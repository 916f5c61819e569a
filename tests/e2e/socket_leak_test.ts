/**
 * Failed key exchanges must not leak sockets: each one's connection is closed by the client. The
 * exchanges run in a process of their own (tests/support/failed_exchanges.ts), where nothing else
 * opens sockets, so its descriptor count is exact.
 */

import { assertEquals } from "../assert.ts";

Deno.test("1000 failed key exchanges leave the TCP descriptor count where it started", async () => {
  const script = new URL("../support/failed_exchanges.ts", import.meta.url).pathname;
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "1000"],
  }).output();
  assertEquals(success, true);
  const { before, after, accepted } = JSON.parse(new TextDecoder().decode(stdout));
  assertEquals({ accepted, after }, { accepted: 1000, after: before });
});
