/**
 * Recovery in the large: a DC that restarts, many connections on one session line, and servers
 * that run out of file descriptors.
 */

import { assertEquals } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { PortInUseError } from "../../lib/emulator/dc_server.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInAlice, waitFor } from "../support/processes.ts";
import { until } from "../support/until.ts";

const schema = loadSchema();
const quiet = () => {};
const root = new URL("../../", import.meta.url).pathname;

function serveFor(line: unknown, timeoutSeconds = 5) {
  return serve({
    schema,
    server: serverFlag(JSON.stringify(line))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds },
    transport: { kind: "intermediate" },
    log: quiet,
  }, { host: "127.0.0.1", port: 0, maxLine: 1 << 20 });
}

/**
 * The DC again on its old port. Until the old sockets are gone, or while the client's own
 * reconnects hold that port (a connect to a closed loopback port can pick it as its local port and
 * meet itself), listening there fails with PortInUseError: that is retried, anything else is not.
 */
async function restartOn(
  port: number,
  rsaKey: Awaited<ReturnType<typeof startEmulator>>["rsaKey"],
) {
  let started: Awaited<ReturnType<typeof startEmulator>> | undefined;
  await until(
    async () => {
      try {
        started = await startEmulator({ port, dcs: 1, log: quiet, rsaKey, world: { homeDc: 1 } });
        return true;
      } catch (error) {
        if (error instanceof PortInUseError) return false;
        throw error;
      }
    },
    10_000,
    `port ${port} to be free again`,
  );
  return started!;
}

/**
 * A one-DC emulator on a port below Linux's ephemeral range (32768 and up): a port the system
 * handed out (`port: 0`) can be handed out again, as the local port of any process's outgoing
 * connection (the tests run in parallel), the moment the DC lets it go, and then the restart
 * waited for it in vain (CI, once: 10 s). Below the range only a listener asking for the very
 * number takes it.
 */
async function firstBelowEphemeral(): Promise<Awaited<ReturnType<typeof startEmulator>>> {
  for (let attempt = 0;; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    try {
      return await startEmulator({ port, dcs: 1, log: quiet, world: { homeDc: 1 } });
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= 50) throw error;
    }
  }
}

const messageOf = (line: Record<string, unknown>) => line.message as Record<string, unknown>;

Deno.test("after the DC restarts with no memory of the key, the connection says the session is dead and works again", async () => {
  const first = await firstBelowEphemeral();
  const port = first.dcs[0].port;
  const server = serveFor(first.serverLine());
  const client = await JsonClient.connect(server.port);
  let restarted: Awaited<ReturnType<typeof startEmulator>> | undefined;
  try {
    await signInAlice(client);
    const before = await client.request({
      id: 3,
      message: { _cons: "users.getUsers", id: [{ _cons: "inputUserSelf" }] },
    });
    assertEquals((messageOf(before) as unknown as Record<string, unknown>[]).length, 1);
    await first.close();
    restarted = await restartOn(port, first.rsaKey);
    // The first call after the restart meets the forgotten key: a named error, not a hang.
    const met = await client.request({ id: 4, message: { _cons: "help.getNearestDc" } });
    assertEquals(met.error, "AuthKeyUnknown", JSON.stringify(met));
    const dead = await client.next((line) =>
      line.id === 0 && (line.event as { type?: string })?.type === "session_dead"
    );
    assertEquals(dead.event, { type: "session_dead", reason: "AUTH_KEY_UNKNOWN", dc: 1 });
    // Then a new key: calls work again, and account calls say the sign-in is gone.
    const nearest = await client.request({ id: 5, message: { _cons: "help.getNearestDc" } });
    assertEquals(messageOf(nearest)._cons, "nearestDc");
    const me = await client.request({
      id: 6,
      message: { _cons: "users.getUsers", id: [{ _cons: "inputUserSelf" }] },
    });
    assertEquals(messageOf(me).error_message, "AUTH_KEY_UNREGISTERED");
    await signInAlice(client);
    const again = await client.request({
      id: 7,
      message: { _cons: "users.getUsers", id: [{ _cons: "inputUserSelf" }] },
    });
    assertEquals((messageOf(again) as unknown as Record<string, unknown>[]).length, 1);
  } finally {
    client.close();
    await server.close();
    await first.close();
    await restarted?.close();
  }
});

Deno.test("20 connections loading one session line, 100 requests each: every answer to its own request", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: quiet, world: { homeDc: 1 } });
  const server = serveFor(emulator.serverLine(), 20);
  const clients: JsonClient[] = [];
  try {
    const owner = await JsonClient.connect(server.port);
    clients.push(owner);
    await signInAlice(owner);
    const { session } = await owner.request({ id: 2, session: {} });
    const names = ["alice", "bob_example", "example_channel", "nobody_here"];
    const expected = (name: string, answer: Record<string, unknown>) => {
      if (name === "nobody_here") return answer.error_message === "USERNAME_NOT_OCCUPIED";
      const peer = answer.peer as Record<string, unknown>;
      const id = name === "alice" ? 1000001 : name === "bob_example" ? 1000002 : 3000001;
      return (peer.user_id ?? peer.channel_id) === id;
    };
    let wrong = 0, answered = 0;
    await Promise.all(Array.from({ length: 20 }, async () => {
      const client = await JsonClient.connect(server.port);
      clients.push(client);
      const loaded = await client.request({ id: 1, session });
      assertEquals(loaded.error, undefined);
      await Promise.all(Array.from({ length: 100 }, async (_, index) => {
        const name = names[index % names.length];
        const line = await client.request({
          id: 10 + index,
          message: { _cons: "contacts.resolveUsername", username: name },
        }, 30_000);
        answered++;
        if (!expected(name, messageOf(line))) wrong++;
      }));
    }));
    assertEquals({ answered, wrong }, { answered: 2000, wrong: 0 });
  } finally {
    for (const client of clients) client.close();
    await server.close();
    await emulator.close();
  }
});

/** Starts a subcommand with at most 256 file descriptors. */
function spawnLimited(args: string[]) {
  return new Deno.Command("sh", {
    args: [
      "-c",
      `ulimit -n 256 && exec "$0" run -A ${root}main.ts "$@"`,
      Deno.execPath(),
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Everything `stream` prints, read as it comes: `text()` is what came so far. */
function drain(stream: ReadableStream<Uint8Array>) {
  let text = "";
  const reading = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  })().catch(() => {});
  return { text: () => text, reading };
}

/**
 * Opens `count` connections to `port` and keeps them open until `release` is called; resolves
 * once the server says it failed to accept one (EMFILE: beyond its limit), seen in `log()`.
 */
async function exhaust(port: number, count: number, log: () => string) {
  const failedBefore = failedAccepts(log());
  const sockets: Deno.TcpConn[] = [];
  for (let i = 0; i < count; i++) {
    sockets.push(await Deno.connect({ hostname: "127.0.0.1", port }));
  }
  await until(
    () => failedAccepts(log()) > failedBefore,
    15_000,
    `the server on port ${port} to run out of file descriptors`,
  );
  return () => sockets.forEach((socket) => socket.close());
}

const failedAccepts = (log: string) => log.match(/accept failed/g)?.length ?? 0;

Deno.test("with ulimit -n 256, 300 connections do not stop the emulator or serve accepting", async () => {
  const emulator = spawnLimited(["emulator", "--port", "0", "--dcs", "1"]);
  const emulatorLog = drain(emulator.stderr);
  const proxy = { child: undefined as Deno.ChildProcess | undefined };
  try {
    const line = JSON.parse((await waitFor(emulator.stdout, /^.*\n/))[0]);
    proxy.child = spawnLimited(["serve", "--port", "0", "--server", JSON.stringify(line)]);
    const serveLog: string[] = [];
    const servePort = Number(
      (await waitFor(proxy.child.stderr, /listening on [\d.]+:(\d+)/, serveLog))[1],
    );
    const logs = [emulatorLog.text, () => serveLog.join("")];
    for (const [index, port] of [line.server.port, servePort].entries()) {
      const release = await exhaust(port, 300, logs[index]);
      release();
    }
    // Both accept again (each after its pause, at most a second): a call through serve reaches
    // the emulator.
    const client = await JsonClient.connect(servePort);
    try {
      const answer = await client.request({ id: 1, message: { _cons: "help.getNearestDc" } });
      assertEquals(messageOf(answer)._cons, "nearestDc");
    } finally {
      client.close();
    }
  } finally {
    for (const child of [proxy.child, emulator]) {
      if (!child) continue;
      child.kill("SIGTERM");
      await child.status;
      await child.stdout.cancel().catch(() => {});
      if (child !== emulator) await child.stderr.cancel().catch(() => {});
    }
    await emulatorLog.reading;
  }
});
