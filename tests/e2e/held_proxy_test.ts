// A held account goes through the proxy its connection named, also after serve restarts
// (issue #19: a proxy per connection; issue #16: held sessions).
import { assertEquals } from "../assert.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInAlice, startServeProcess } from "../support/processes.ts";
import { remotePortsOf, startMicrosocks } from "../support/real_proxies.ts";
import { until } from "../support/until.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signIn } from "../support/raw_calls.ts";

type Line = Record<string, unknown>;
const isSynced = (line: Line) => line.id === 0 && (line.event as Line)?.type === "synced";
const textOf = (line: Line) =>
  (((line.message as TlObject | undefined)?.updates as TlObject[])?.[0]?.message as TlObject)
    ?.message as string | undefined;

Deno.test("an account held through its connection's own proxy stays behind it, also after serve is killed and restarted without --proxy; the password is never shown", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const socks = await startMicrosocks({ username: "alice", password: "s3cret-proxy" });
  const dir = await Deno.makeTempDir();
  const sender = emulatedSender(emulator, 1);
  const bob = rawCaller(sender, codec);
  const alice = emulator.world.users.get(1000001)!;
  const toAlice = { _cons: "inputPeerUser", user_id: alice.id, access_hash: alice.accessHash };
  let random = 1n;
  const send = (text: string) =>
    bob({ _cons: "messages.sendMessage", peer: toAlice, message: text, random_id: random++ });
  // serve's connections other than its clients': all of them to the proxy, and at least one.
  const onlyThroughProxy = async (pid: number, port: number) => {
    const ports = await remotePortsOf(pid, [port]);
    return ports.length > 0 && ports.every((remote) => remote === socks.port);
  };
  let serve = await startServeProcess(emulator.serverLine(1), ["--state", dir]);
  try {
    await signIn(bob, "+15550000002", "hunter2");
    const first = await JsonClient.connect(serve.port);
    const shown = await first.request({ id: 1, server: { proxy: socks.url } });
    assertEquals(JSON.stringify(shown).includes("s3cret-proxy"), false);
    const session = await signInAlice(first) as Line;
    assertEquals(JSON.stringify(session).includes("s3cret-proxy"), false);
    await first.next(isSynced);
    await send("before");
    await until(() => first.updates.some((line) => textOf(line) === "before"));
    const cursor = first.updates.find((line) => textOf(line) === "before")!.cursor;
    assertEquals(await onlyThroughProxy(serve.child.pid, serve.port), true);
    first.close();

    serve.child.kill("SIGKILL");
    await serve.child.status;
    for (let i = 0; i < 5; i++) await send(`while away ${i}`);
    serve = await startServeProcess(emulator.serverLine(1), ["--state", dir]);
    // Restored from the store, the account connects before any client comes: through the proxy.
    await until(
      () => onlyThroughProxy(serve.child.pid, serve.port),
      15_000,
      "the restored account to connect through the proxy",
    );

    const back = await JsonClient.connect(serve.port);
    try {
      await back.request({ id: 1, session: { ...session, updates_cursor: cursor } });
      await back.next(isSynced, 20_000);
      assertEquals(
        back.updates.map(textOf).filter((text) => text !== undefined),
        Array.from({ length: 5 }, (_, i) => `while away ${i}`),
      );
      // The held account's server, as this connection sees it: the proxy, redacted.
      const server = (await back.request({ id: 2, server: {} })).server as Line;
      assertEquals(server.proxy, socks.url.replace("s3cret-proxy", "***"));
      await send("after");
      await until(() => back.updates.some((line) => textOf(line) === "after"));
      assertEquals(await onlyThroughProxy(serve.child.pid, serve.port), true);
    } finally {
      back.close();
    }
    assertEquals(serve.stderr().includes("s3cret-proxy"), false, serve.stderr());
  } finally {
    sender.close();
    serve.child.kill("SIGTERM");
    await serve.child.status;
    await socks.close();
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});
