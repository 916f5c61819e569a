/**
 * Failed key exchanges must not leak sockets: each one's connection is closed by the client.
 */

import { assertEquals, assertRejects } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { TlCodec } from "../../lib/tl/codec.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { SecurityError } from "../../lib/errors.ts";
import { generateServerKey } from "../../lib/emulator/server_key.ts";
import { Sender } from "../../lib/net/sender.ts";
import { listenHostile } from "../support/hostile_dc.ts";

const codec = new TlCodec(loadSchema());
const quiet = () => {};

/**
 * Established TCP connections to `port` on this machine, from the kernel's table (read with
 * `cat`: Deno guards /proc from its own reads). Test files run in parallel in one process, so
 * counting the process's descriptors would count their sockets too; this counts only ours.
 */
async function establishedTo(port: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", { args: ["/proc/net/tcp"] }).output();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  return new TextDecoder().decode(stdout).split("\n").filter((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[2]?.endsWith(`:${hexPort}`) && fields[3] === "01";
  }).length;
}

Deno.test("1000 failed key exchanges leave no socket open", async () => {
  const { key } = await generateServerKey();
  const hostile = listenHostile("prime_pq", codec, key);
  try {
    const sender = () =>
      new Sender({
        host: "127.0.0.1",
        port: hostile.port,
        dcId: 1,
        publicKeys: [key],
        transport: { kind: "intermediate" },
        codec,
        random: secureRandom,
        pingIntervalMs: 0,
        log: quiet,
      });
    for (let round = 0; round < 1000; round++) {
      await assertRejects(
        () => sender().invoke(codec.encode({ _cons: "help.getConfig" })),
        SecurityError,
        "prime",
      );
    }
    // The fake DC closes its side once ours is closed; give both a moment to settle.
    for (let wait = 0; wait < 50 && (await establishedTo(hostile.port) || hostile.open()); wait++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assertEquals(hostile.accepted(), 1000);
    assertEquals(await establishedTo(hostile.port), 0);
    assertEquals(hostile.open(), 0);
  } finally {
    await hostile.close();
  }
});
