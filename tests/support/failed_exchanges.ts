/**
 * Run as a process of its own: fails `COUNT` key exchanges against the fake DC's prime `pq` and
 * prints `{"before": N, "after": N, "accepted": N}`: this process's open TCP socket descriptors
 * before and after (nothing else runs here, so the count is exact). Only TCP sockets are counted:
 * Deno's runtime opens a Unix socket pair of its own at some point of a long run.
 *
 * @module
 */

import { loadSchema } from "../../lib/tl/default_schema.ts";
import { TlCodec } from "../../lib/tl/codec.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { generateServerKey } from "../../lib/emulator/server_key.ts";
import { Sender } from "../../lib/net/sender.ts";
import { listenHostile } from "./hostile_dc.ts";
import { until } from "./until.ts";

async function output(command: string, ...args: string[]): Promise<string> {
  return new TextDecoder().decode((await new Deno.Command(command, { args }).output()).stdout);
}

/** Descriptors of this process that are TCP sockets (by inode, in the kernel's TCP tables). */
async function openDescriptors(): Promise<number> {
  const inodes = [
    ...(await output("ls", "-l", `/proc/${Deno.pid}/fd`)).matchAll(/socket:\[(\d+)\]/g),
  ]
    .map((match) => match[1]);
  const tables = (await output("cat", "/proc/net/tcp", "/proc/net/tcp6")).split("\n")
    .map((line) => line.trim().split(/\s+/)[9]);
  return inodes.filter((inode) => tables.includes(inode)).length;
}

if (import.meta.main) {
  const count = Number(Deno.args[0] ?? 1000);
  const codec = new TlCodec(loadSchema());
  const { key } = await generateServerKey();
  const hostile = listenHostile("prime_pq", codec, key);
  const fail = () =>
    new Sender({
      host: "127.0.0.1",
      port: hostile.port,
      dcId: 1,
      publicKeys: [key],
      transport: { kind: "intermediate" },
      codec,
      random: secureRandom,
      pingIntervalMs: 0,
      log: () => {},
    }).invoke(codec.encode({ _cons: "help.getConfig" })).catch(() => {});
  // The count of a quiet moment: once the fake DC has closed its end of every connection (the
  // client closed its own before the call failed), and a descriptor on its way out has had a
  // bounded while to go (whatever is still open then is counted, and the test compares).
  const quiet = async (what: string, target: number) => {
    await until(() => hostile.open() === 0, 15_000, `the fake DC to close ${what}`);
    let open = 0;
    await until(async () => (open = await openDescriptors()) <= target, 2_000, what)
      .catch(() => {});
    return open;
  };
  // One round first, so that what is opened once (the DNS-free loopback path, buffers) is in
  // the baseline.
  const start = await openDescriptors();
  await fail();
  const before = await quiet("the first connection", start);
  for (let round = 0; round < count; round++) await fail();
  const after = await quiet("every connection", before);
  console.log(JSON.stringify({ before, after, accepted: hostile.accepted() - 1 }));
  await hostile.close();
}
