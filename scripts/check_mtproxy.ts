/**
 * By hand (issue #19): `serve --proxy tg://proxy?...` end to end, with plain, dd and ee secrets,
 * through two MTProxy servers in front of the emulator — the emulator's own front
 * (`--mtproxy`), and alexbers/mtprotoproxy (Python), an MTProxy server this project did not
 * write. For each: Alice signs in, Bob signs in with 2FA, `{"server": {}}` shows the proxy with
 * its secret hidden, Alice downloads a 10 MB file from DC 3 and every byte is checked, and
 * serve's only outgoing connections are to the proxy. One line per step; the exit status says
 * whether all passed.
 *
 * ```sh
 * bash scripts/check_mtproxy.sh [MTPROTOPROXY_DIR]   # runs this (and mtcute's check) isolated
 * ```
 *
 * mtprotoproxy dials Telegram's DC addresses and looks up its public IP at start: it is run only
 * where the network has nothing but loopback (`unshare -n`, as check_mtproxy.sh does), with its
 * DC table pointed at the emulator's ports on 127.0.0.1 by a small wrapper, and its masking
 * (connecting to the TLS domain) off. Needs python3 with the `cryptography` module
 * (Debian: python3-cryptography) and a checkout of https://github.com/alexbers/mtprotoproxy.
 *
 * @module
 */

import { type Emulator, startEmulator } from "../lib/emulator/emulator.ts";
import { generatedFileSha256 } from "../lib/emulator/files/generated_bytes.ts";
import {
  answerOf,
  fileMessage,
  hex,
  type LineClient,
  MiB,
  sha256Of,
} from "../tests/support/files.ts";
import { JsonClient } from "../tests/support/json_client.ts";
import { signInAlice, signInBob, startServeProcess } from "../tests/support/processes.ts";
import { freePort, remotePortsOf } from "../tests/support/real_proxies.ts";
import { until } from "../tests/support/until.ts";

type Line = Record<string, unknown>;
const FILE_ID = "7401";
const SIZE = 10 * MiB + 4321;
const KEY = crypto.getRandomValues(new Uint8Array(16)).toHex();
const DOMAIN = "example.com";
const SECRETS: Record<string, string> = {
  plain: KEY,
  dd: `dd${KEY}`,
  ee: `ee${KEY}${new TextEncoder().encode(DOMAIN).toHex()}`,
};

let failures = 0;

/** Runs one step and prints it: ok with what it returned, or FAILED with why. */
async function step(name: string, run: () => Promise<string | void>): Promise<void> {
  try {
    const said = await run();
    console.log(`ok      ${name}${said ? `: ${said}` : ""}`);
  } catch (error) {
    failures++;
    console.log(`FAILED  ${name}: ${(error as Error).message}`);
  }
}

/** The whole flow through `serve --proxy link`. */
async function serveThrough(emulator: Emulator, what: string, link: string, proxyPort: number) {
  const dir = await Deno.makeTempDir({ prefix: "check_mtproxy_" });
  const serve = await startServeProcess(emulator.serverLine(2), [
    "--files",
    dir,
    "--proxy",
    link,
  ]);
  const alice = await JsonClient.connect(serve.port);
  const bob = await JsonClient.connect(serve.port);
  try {
    await alice.request({ id: 1, options: { longs_as_strings: true } });
    await bob.request({ id: 1, options: { longs_as_strings: true } });
    await step(`${what}: Alice signs in, Bob signs in with 2FA`, async () => {
      await signInAlice(alice);
      await signInBob(bob);
    });
    await step(`${what}: {"server": {}} shows the proxy, its secret hidden`, async () => {
      const server = (await alice.request({ id: 2, server: {} })).server as Line;
      const shown = String(server.proxy);
      if (shown.includes(KEY) || !shown.includes("secret=***")) throw new Error(shown);
      return shown;
    });
    await step(`${what}: a call`, async () => {
      const answer = await alice.request({ id: 3, message: { _cons: "help.getNearestDc" } });
      return String((answer.message as Line)?._cons);
    });
    await step(`${what}: a ${SIZE >> 20} MB download from DC 3, every byte checked`, async () => {
      const started = performance.now();
      await download(alice, dir);
      return `${Math.round(performance.now() - started)} ms`;
    });
    await step(`${what}: serve's only outgoing connections are to the proxy`, async () => {
      const ports = await remotePortsOf(serve.child.pid, [serve.port]);
      const around = ports.filter((port) => port !== proxyPort);
      if (ports.length === 0 || around.length) throw new Error(`ports ${ports}`);
      return `${ports.length} to ${proxyPort}`;
    });
  } finally {
    alice.close();
    bob.close();
    serve.child.kill("SIGTERM");
    await serve.child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

async function download(client: LineClient, dir: string) {
  const { media } = await fileMessage(client, FILE_ID);
  await client.send({ id: 30, download: { media, to: "big.bin" } });
  const done = await answerOf(client, 30, 120_000);
  const expected = hex(generatedFileSha256(BigInt(FILE_ID), SIZE));
  const got = (done.download as Line | undefined)?.sha256;
  if (got !== expected) throw new Error(JSON.stringify(done).slice(0, 300));
  if (await sha256Of(`${dir}/big.bin`) !== expected) throw new Error("the file on disk differs");
}

/** True when the only network interface is loopback (a namespace of our own). */
function isolated(): boolean {
  // /proc/net/dev lists this network namespace's interfaces (sysfs may show the host's).
  const interfaces = Deno.readTextFileSync("/proc/net/dev").split("\n").slice(2)
    .map((line) => line.split(":")[0].trim()).filter((name) => name);
  return interfaces.length > 0 && interfaces.every((name) => name === "lo");
}

/** alexbers/mtprotoproxy from `dir`, its DCs pointed at the emulator's; resolves once it listens. */
async function startMtprotoproxy(dir: string, emulator: Emulator) {
  const port = freePort();
  const work = await Deno.makeTempDir({ prefix: "mtprotoproxy_" });
  const ports = Object.fromEntries(emulator.dcs.map((dc) => [`dc${dc.id}.emulator`, dc.port]));
  await Deno.writeTextFile(
    `${work}/config.py`,
    [
      `PORT = ${port}`,
      `USERS = {"check": "${KEY}"}`,
      `MODES = {"classic": True, "secure": True, "tls": True}`,
      `TLS_DOMAIN = "${DOMAIN}"`,
      // Never connect to the TLS domain (masking) or Telegram's middle proxies.
      `MASK = False`,
      `USE_MIDDLE_PROXY = False`,
      `PREFER_IPV6 = False`,
      `LISTEN_ADDR_IPV4 = "127.0.0.1"`,
      `LISTEN_ADDR_IPV6 = ""`,
      `STATS_PRINT_PERIOD = 3600`,
    ].join("\n") + "\n",
  );
  // The proxy reaches DC n at TG_DATACENTERS_V4[n - 1] on one port: name each DC, and open the
  // emulator's port of that DC instead.
  await Deno.writeTextFile(
    `${work}/run.py`,
    `import json, sys
sys.path.insert(0, ${JSON.stringify(dir)})
import mtprotoproxy as proxy
ports = json.loads(${JSON.stringify(JSON.stringify(ports))})
proxy.TG_DATACENTERS_V4 = ["dc%d.emulator" % n for n in range(1, ${emulator.dcs.length + 1})]
opened = proxy.TgConnectionPool.open_tg_connection
async def to_emulator(self, host, port, init_func=None):
    return await opened(self, "127.0.0.1", ports[host], init_func)
proxy.TgConnectionPool.open_tg_connection = to_emulator
sys.argv = [sys.argv[0], ${JSON.stringify(`${work}/config.py`)}]
proxy.main()
`,
  );
  const child = new Deno.Command("python3", {
    args: [`${work}/run.py`],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const printed: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    (async () => {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) printed.push(text);
    })().catch(() => {});
  }
  await until(
    async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        return true;
      } catch {
        return false;
      }
    },
    30_000,
    `mtprotoproxy listening on ${port} (${printed.join("")})`,
  );
  return {
    port,
    printed,
    async close() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(work, { recursive: true });
    },
  };
}

const emulator = await startEmulator({
  port: 0,
  log: Deno.env.get("VERBOSE") ? (line) => console.error(`[emulator] ${line}`) : () => {},
  world: { homeDc: 2, files: [{ id: FILE_ID, size: SIZE, dc: 3 }] },
  mtproxy: { secrets: Object.values(SECRETS) },
});
try {
  console.log("\nserve --proxy through the emulator's own MTProxy front");
  const front = emulator.mtproxy!;
  for (const [index, mode] of ["plain", "dd", "ee"].entries()) {
    await serveThrough(emulator, `front, ${mode}`, front.links[index], front.port);
  }
  await step("front: file traffic went to DC 3's media-only port (negative DC id)", () => {
    const routed = Object.fromEntries(front.routed);
    if (!routed["DC 3 media"]) throw new Error(JSON.stringify(routed));
    return Promise.resolve(JSON.stringify(routed));
  });

  console.log("\nserve --proxy through alexbers/mtprotoproxy");
  const dir = Deno.args[0] ?? Deno.env.get("MTPROTOPROXY_DIR");
  if (!dir) {
    console.log("not run: give the mtprotoproxy checkout as the argument or MTPROTOPROXY_DIR");
  } else if (!isolated()) {
    console.log("not run: mtprotoproxy runs only in a network namespace with loopback alone");
  } else {
    const proxy = await startMtprotoproxy(dir, emulator);
    try {
      for (const mode of ["plain", "dd", "ee"]) {
        const link = `tg://proxy?server=127.0.0.1&port=${proxy.port}&secret=${SECRETS[mode]}`;
        await serveThrough(emulator, `mtprotoproxy, ${mode}`, link, proxy.port);
      }
    } finally {
      if (Deno.env.get("VERBOSE")) console.error(proxy.printed.join(""));
      await proxy.close();
    }
  }
} finally {
  await emulator.close();
}
console.log(failures ? `\n${failures} step(s) FAILED` : "\nall steps passed");
Deno.exit(failures ? 1 : 0);
