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
  // One round first, so that what is opened once (the DNS-free loopback path, buffers) is in
  // the baseline.
  await fail();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = await openDescriptors();
  for (let round = 0; round < count; round++) await fail();
  let after = await openDescriptors();
  for (let wait = 0; wait < 100 && after > before; wait++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    after = await openDescriptors();
  }
  console.log(JSON.stringify({ before, after, accepted: hostile.accepted() - 1 }));
  await hostile.close();
}
