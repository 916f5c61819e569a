/**
 * mtcute 0.30 beside us on the per-message, key-exchange and `serve` figures of issue #22, for
 * `deno task bench` (which runs this file and prints its lines; alone:
 * `deno run --no-lock -A scripts/bench_mtcute_peers.js`). Each line is one JSON object
 * `{"label", "value", "target"}` on stdout. Everything talks to 127.0.0.1 only.
 *
 * - Whole message, 1 KiB body: our `encryptMessage` / `decryptMessage` (in place, as our client
 *   decrypts what it receives) against mtcute's `AuthKey.encryptMessage` / `decryptMessage`
 *   steps, made here from its exported pieces (the class is not exported):
 *   `createAesIgeForMessage` and the `NodeCryptoProvider` (node:crypto hashes and random bytes,
 *   its WASM IGE). Rounds alternate in this process; the best round of each, in CPU time (the
 *   machine may be shared).
 * - Auth key over loopback: our `Sender.connect` (TCP and the key exchange) against a fresh
 *   `TelegramClient.connect` until it logs "authorization successful", alternating, against one
 *   `main.ts emulator` process; the median of 25 each.
 * - `serve`: one `help.getNearestDc` at a time through `serve` (as the serve bench reads it)
 *   against mtcute's `call` on the emulator directly, p50, taking turns call by call and in
 *   blocks of 100 calls a side; and 10 connections × 50 in flight
 *   through `serve` (the serve bench's lean load) against 10 mtcute clients × 50 in this process,
 *   in alternating half-second windows (six each, after one of warm-up), requests/s and each
 *   side's CPU per request (serve's process; mtcute's, this one).
 *
 * `MTPROTO2JSON_BENCH_PEERS=serve` runs the `serve` comparison alone.
 *
 * Like check_with_mtcute.js, mtcute stays out of the project's configuration and lock file
 * (inline `npm:` specifiers, `--no-lock`), and this file is JavaScript so that `deno check`
 * skips it. It needs the npm registry once, for mtcute.
 *
 * @module
 */

// deno-lint-ignore-file no-import-prefix

import process from "node:process";
import { MemoryStorage, TelegramClient } from "npm:@mtcute/node@0.30.3";
import { NodeCryptoProvider } from "npm:@mtcute/node@0.30.3/utils.js";
import { addPublicKey, createAesIgeForMessage } from "npm:@mtcute/core@0.30.3/utils.js";
import { typed, u8 } from "npm:@fuman/utils@0.0.20";
import { secureRandom } from "../lib/crypto/random.ts";
import { parsePublicKeyPem } from "../lib/crypto/rsa.ts";
import { decryptMessage, encryptMessage, makeAuthKey } from "../lib/mtproto/encrypted_message.ts";
import { Sender } from "../lib/net/sender.ts";
import { TlCodec } from "../lib/tl/codec.ts";
import { loadSchema } from "../lib/tl/default_schema.ts";
import { JsonClient } from "../tests/support/json_client.ts";
import { onlyLoopback, runIsolated } from "./loopback_only.ts";
import { startServeProcess, waitFor } from "../tests/support/processes.ts";
import {
  cpuMs as processCpuMs,
  LeanJsonLoad,
  MinimalJsonClient,
  percentile,
  rate,
  spawn,
  stop,
} from "./bench_serve.ts";

Deno.env.set("DENO_NO_UPDATE_CHECK", "1");
// mtcute has Telegram's addresses built in: this script runs where loopback is the only network
// (its modules, loaded above, came from the registry before).
if (!(await onlyLoopback())) {
  Deno.exit(await runIsolated(["run", "--no-lock", "-A", new URL(import.meta.url).pathname]));
}
const line = (label, value, target = "") => console.log(JSON.stringify({ label, value, target }));
const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/** Median CPU ms per call over ~20 ms batches of `fn`, after a warm-up. */
function measureCpu(fn, milliseconds) {
  for (const end = performance.now() + 50; performance.now() < end;) fn();
  const perCall = [];
  for (const end = performance.now() + milliseconds; performance.now() < end;) {
    let calls = 0;
    const start = performance.now(), cpu = cpuMs();
    while (performance.now() - start < 20) {
      fn();
      calls++;
    }
    perCall.push((cpuMs() - cpu) / calls);
  }
  return perCall.sort((a, b) => a - b)[perCall.length >> 1];
}

async function messages() {
  const provider = new NodeCryptoProvider();
  await provider.initialize();
  const key = secureRandom(256);
  const clientSalt = key.subarray(88, 120);
  const keyId = provider.sha1(key).subarray(-8);
  // mtcute's AuthKey.encryptMessage, step for step.
  const theirEncrypt = (message, salt, sessionId) => {
    let padding = (16 + message.length + 12) % 16;
    padding = 12 + (padding ? 16 - padding : 0);
    const buffer = u8.alloc(16 + message.length + padding);
    const view = typed.toDataView(buffer);
    view.setInt32(0, salt.low, true);
    view.setInt32(4, salt.high, true);
    view.setInt32(8, sessionId.low, true);
    view.setInt32(12, sessionId.high, true);
    buffer.set(message, 16);
    provider.randomFill(buffer.subarray(16 + message.length));
    const messageKey = provider.sha256(u8.concat2(clientSalt, buffer)).subarray(8, 24);
    const ige = createAesIgeForMessage(provider, key, messageKey, true);
    return u8.concat3(keyId, messageKey, ige.encrypt(buffer));
  };
  // …and decryptMessage up to the header fields it reads (as the receiving side of a client
  // message: the same work as mtcute's own direction).
  const theirDecrypt = (data) => {
    const messageKey = data.subarray(8, 24);
    const ige = createAesIgeForMessage(provider, key, messageKey, true);
    const inner = ige.decrypt(data.subarray(24));
    const expected = provider.sha256(u8.concat2(clientSalt, inner)).subarray(8, 24);
    if (!typed.equal(messageKey, expected)) throw new Error("mtcute's msg_key check failed");
    const view = typed.toDataView(inner);
    return [view.getInt32(16, true), view.getInt32(20, true), view.getUint32(28, true)];
  };
  // mtcute's message: msg_id, seq_no, length, then the body.
  const theirMessage = secureRandom(16 + 1024), salt = { low: 1, high: 2 };
  const theirSealed = theirEncrypt(theirMessage, salt, salt);
  const authKey = makeAuthKey(key), body = secureRandom(1024);
  const header = { salt: 1n, sessionId: 2n, messageId: 3n, seqNo: 1 };
  const sealed = encryptMessage(authKey, header, body, "client", secureRandom);
  // Ours decrypts as the client's receive path does (lib/net/sender.ts): in place, in the bytes
  // the socket was read into. The sealed message is copied into them first each time, which that
  // path does not pay; mtcute's decrypt makes its output array, as its own receive path does.
  const received = new Uint8Array(sealed.length);
  const runs = {
    theirEncrypt: () => theirEncrypt(theirMessage, salt, salt),
    ourEncrypt: () => encryptMessage(authKey, header, body, "client", secureRandom),
    theirDecrypt: () => theirDecrypt(theirSealed),
    ourDecrypt: () => {
      received.set(sealed);
      return decryptMessage(authKey, received, "client", { inPlace: true });
    },
  };
  const best = {};
  for (let round = 0; round < 6; round++) {
    for (const [name, fn] of Object.entries(runs)) {
      best[name] = Math.min(best[name] ?? Infinity, measureCpu(fn, 200) * 1000);
    }
  }
  for (const what of ["Encrypt", "Decrypt"]) {
    const ours = best[`our${what}`], theirs = best[`their${what}`];
    line(
      `  whole message 1 KiB, ${what.toLowerCase()}: ours / mtcute (CPU µs)`,
      `${ours.toFixed(1)} / ${theirs.toFixed(1)} (${(ours / theirs).toFixed(2)}×)`,
      "target ≤ 0.7×",
    );
  }
}

function mtcuteClient(server, options = {}) {
  const client = new TelegramClient({
    apiId: 12345,
    apiHash: "0123456789abcdef0123456789abcdef",
    storage: new MemoryStorage(),
    logLevel: 0,
    disableUpdates: true,
    defaultDcs: {
      main: { id: server.dc, ipAddress: "127.0.0.1", port: server.port },
      media: { id: server.dc, ipAddress: "127.0.0.1", port: server.port },
    },
    ...options,
  });
  addPublicKey(client.crypto ?? client._client?.crypto ?? client.mt?.crypto, server.rsa);
  return client;
}

async function authKeys(server) {
  const codec = new TlCodec(loadSchema());
  const key = parsePublicKeyPem(server.rsa);
  const ours = async () => {
    const start = performance.now();
    const sender = new Sender({
      host: "127.0.0.1",
      port: server.port,
      dcId: server.dc,
      publicKeys: [key],
      transport: { kind: "intermediate" },
      codec,
      random: secureRandom,
      pingIntervalMs: 0,
    });
    await sender.connect();
    const ms = performance.now() - start;
    sender.close();
    return ms;
  };
  const theirs = async () => {
    const client = mtcuteClient(server, { logLevel: 5 });
    let resolve;
    const authorized = new Promise((done) => resolve = done);
    client.log.mgr.handler = (_color, _level, _tag, format) => {
      if (format.includes("authorization successful")) resolve(performance.now());
    };
    const start = performance.now();
    client.connect().catch(() => {});
    const end = await authorized;
    await client.destroy().catch(() => {});
    return end - start;
  };
  for (let i = 0; i < 3; i++) await ours(), await theirs();
  const our = [], their = [];
  for (let i = 0; i < 25; i++) {
    our.push(await ours());
    their.push(await theirs());
  }
  const a = percentile(our.sort((x, y) => x - y), 0.5);
  const b = percentile(their.sort((x, y) => x - y), 0.5);
  line(
    "  auth key over 127.0.0.1 (emulator process): ours / mtcute on Deno, median of 25",
    `${a.toFixed(1)} / ${b.toFixed(1)} ms (${(a / b).toFixed(2)}×)`,
    "target ≤ 0.5×",
  );
}

async function serveCalls(line0) {
  const server = line0.server;
  const { child: proxy, port } = await startServeProcess(line0);
  const nearest = { _cons: "help.getNearestDc" };
  try {
    const json = await JsonClient.connect(port);
    const client = mtcuteClient(server);
    await client.call({ _: "help.getNearestDc" });
    await json.request({ id: 1, message: nearest });
    const theirs = [], ours = [];
    for (let i = 0; i < 2000; i++) {
      let start = performance.now();
      await client.call({ _: "help.getNearestDc" });
      theirs.push(performance.now() - start);
      start = performance.now();
      await json.request({ id: i + 2, message: nearest });
      ours.push(performance.now() - start);
    }
    // The same in blocks of 100 calls a side (the first 10 of each left out): taking turns call by
    // call, each side's call follows the other's and finds its caches cold, which measured both
    // about twice as slow as a program that makes one call after another (and flattered serve).
    const warmOurs = [], warmTheirs = [], warmLean = [];
    // CPU ms over the blocks: serve's process during ours; this one (mtcute) during theirs.
    const blockCpu = { serve: 0, mtcute: 0 };
    // A third side: the same calls through serve from a minimal client (a socket, one read
    // buffer, JSON.stringify and JSON.parse), to tell serve's share from JsonClient's (a test
    // client: a timer per request, Web streams reading 64 KiB buffers, line splitting).
    const lean = await MinimalJsonClient.connect(port);
    await lean.call(1);
    // A fourth: mtcute through a relay process that only copies bytes (scripts/bare_relay.ts),
    // what any process between a client and the server costs a call, work or none.
    const relay = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net=127.0.0.1",
        new URL("./bare_relay.ts", import.meta.url).pathname,
        String(server.port),
      ],
      stdout: "piped",
    }).spawn();
    const relayPort = Number((await waitFor(relay.stdout, /^(\d+)\n/))[1]);
    const relayed = mtcuteClient({ ...server, port: relayPort });
    await relayed.call({ _: "help.getNearestDc" });
    const warmRelayed = [];
    let id = 2002;
    for (let block = 0; block < 20; block++) {
      for (let j = 0; j < 100; j++) {
        const start = performance.now();
        await lean.call(id++);
        if (j >= 10) warmLean.push(performance.now() - start);
      }
      for (let j = 0; j < 100; j++) {
        const start = performance.now();
        await relayed.call({ _: "help.getNearestDc" });
        if (j >= 10) warmRelayed.push(performance.now() - start);
      }
      let cpu = cpuMs();
      for (let j = 0; j < 100; j++) {
        const start = performance.now();
        await client.call({ _: "help.getNearestDc" });
        if (j >= 10) warmTheirs.push(performance.now() - start);
      }
      blockCpu.mtcute += cpuMs() - cpu;
      cpu = processCpuMs(proxy.pid);
      for (let j = 0; j < 100; j++) {
        const start = performance.now();
        await json.request({ id: id++, message: nearest });
        if (j >= 10) warmOurs.push(performance.now() - start);
      }
      blockCpu.serve += processCpuMs(proxy.pid) - cpu;
    }
    json.close();
    lean.close();
    await client.destroy();
    await relayed.destroy();
    await stop(relay);
    for (
      const [label, our, their] of [
        ["one call at a time, p50, turn by turn", ours, theirs],
        ["one call at a time, p50, in blocks of 100", warmOurs, warmTheirs],
        ["the same from a minimal JSON client, not JsonClient", warmLean, warmTheirs],
      ]
    ) {
      const a = percentile(our.sort((x, y) => x - y), 0.5);
      const b = percentile(their.sort((x, y) => x - y), 0.5);
      line(
        `  ${label}: through serve / mtcute direct`,
        `${(a * 1000).toFixed(0)} / ${(b * 1000).toFixed(0)} µs (${(a / b).toFixed(2)}×)`,
        "target ≤ 1.0×",
      );
    }
    {
      const a = percentile(warmRelayed.sort((x, y) => x - y), 0.5);
      const b = percentile(warmTheirs, 0.5);
      line(
        "    the floor of any process between: mtcute through a bare relay / mtcute direct",
        `${(a * 1000).toFixed(0)} / ${(b * 1000).toFixed(0)} µs (${(a / b).toFixed(2)}×)`,
      );
    }
    // Where a lone call's time goes: serve's CPU for one (two sockets, the JSON and the MTProto
    // work) against all mtcute spends on one in its process (/proc ticks of 10 ms: ~2000 calls).
    line(
      "    CPU per lone call (blocks): serve's process / mtcute's",
      `${(blockCpu.serve * 1000 / 2000).toFixed(0)} / ${
        (blockCpu.mtcute * 1000 / 2000).toFixed(0)
      } µs`,
    );
    // 10 × 50 on each side in alternating half-second windows, so that both meet the same
    // machine: on a shared one, rates measured a few seconds apart swung 0.5-1.9× between runs.
    const clients = Array.from({ length: 10 }, () => mtcuteClient(server));
    await Promise.all(clients.map((c) => c.call({ _: "help.getNearestDc" })));
    const sockets = await Promise.all(clients.map(() => LeanJsonLoad.connect(port)));
    await Promise.all(sockets.map((socket) => socket.call(1)));
    const sides = {
      // CPU ms of this process (mtcute's) or of serve's while `measure` runs.
      theirs: {
        calls: clients.map((c) => () => c.call({ _: "help.getNearestDc" })),
        cpuOf: async (measure) => {
          const start = cpuMs();
          const requests = await measure();
          return [requests, cpuMs() - start];
        },
      },
      ours: {
        calls: sockets.map((socket) => (id) => socket.call(id + 1)),
        cpuOf: async (measure) => {
          const start = processCpuMs(proxy.pid);
          const requests = await measure();
          return [requests, processCpuMs(proxy.pid) - start];
        },
      },
    };
    const totals = {
      ours: { requests: 0, ms: 0, cpuMs: 0 },
      theirs: { requests: 0, ms: 0, cpuMs: 0 },
    };
    for (let round = -2; round < 12; round++) {
      const name = round % 2 === 0 ? "ours" : "theirs";
      const start = performance.now();
      const [requests, cpu] = await sides[name].cpuOf(async () =>
        (await rate(sides[name].calls, 50, 500)) * (performance.now() - start) / 1000
      );
      if (round < 0) continue; // a warm-up window each
      totals[name].requests += requests;
      totals[name].ms += performance.now() - start;
      totals[name].cpuMs += cpu;
    }
    await Promise.all(clients.map((c) => c.destroy()));
    for (const socket of sockets) socket.close();
    const ourRate = totals.ours.requests / (totals.ours.ms / 1000);
    const theirRate = totals.theirs.requests / (totals.theirs.ms / 1000);
    const ourUs = totals.ours.cpuMs * 1000 / totals.ours.requests;
    const theirUs = totals.theirs.cpuMs * 1000 / totals.theirs.requests;
    line(
      "  10 × 50 in flight: requests/s through serve / mtcute direct",
      `${ourRate.toFixed(0)} / ${theirRate.toFixed(0)} (${(ourRate / theirRate).toFixed(2)}×)`,
      "target ≥ 1.3×",
    );
    line(
      "    CPU per request: serve's process / mtcute's",
      `${ourUs.toFixed(1)} / ${theirUs.toFixed(1)} µs`,
    );
  } finally {
    await stop(proxy);
  }
}

// MTPROTO2JSON_BENCH_PEERS=serve runs the serve comparison alone (comparing trees side by side).
const serveOnly = Deno.env.get("MTPROTO2JSON_BENCH_PEERS") === "serve";
if (!serveOnly) await messages();
const emulator = spawn(["emulator", "--port", "0"], "stdout");
try {
  const line0 = JSON.parse((await waitFor(emulator.stdout, /^.*\n/))[0]);
  if (!serveOnly) await authKeys(line0.server);
  await serveCalls(line0);
} finally {
  await stop(emulator);
}
Deno.exit(0);
