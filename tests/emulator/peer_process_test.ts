/**
 * Which process is on the far end of a loopback connection, from /proc: a child process's
 * connection names the child, this process's own names this process, and a connection nobody has
 * is unknown; a connection is open until its client closes it, whether or not the server read its
 * end. Deno grants /proc only with all permissions, which the tests do not have: the checks run in
 * a process of their own started with -A, as the emulator is.
 */

import { assertEquals } from "../assert.ts";

const module = new URL("../../lib/emulator/peer_process.ts", import.meta.url).href;

/** Runs `code` (with the module's exports in scope) under `deno eval`, and parses what it prints. */
async function withAllPermissions(code: string): Promise<unknown> {
  const { code: status, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { clientSocketOpen, peerProcessFinder, procReadable } from "${module}";\n${code}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  assertEquals(status, 0, new TextDecoder().decode(stderr));
  return JSON.parse(text);
}

Deno.test("a connection from a child process names the child; one of our own names us; none is unknown", async () => {
  if (Deno.build.os !== "linux") throw new Error("this test reads Linux's /proc");
  const found = await withAllPermissions(`
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", \`const c = await Deno.connect({ hostname: "127.0.0.1", port: \${port} });
        await c.read(new Uint8Array(1));\`],
      stdout: "null",
    }).spawn();
    const fromChild = await listener.accept();
    const own = await Deno.connect({ hostname: "127.0.0.1", port });
    const fromUs = await listener.accept();
    const find = peerProcessFinder();
    const pids = await Promise.all([
      find(port, fromChild.remoteAddr.port),
      find(port, fromUs.remoteAddr.port),
      find(port, 1),
    ]);
    console.log(JSON.stringify({
      readable: procReadable(),
      pids: pids.map((pid) => pid ?? null),
      expected: [child.pid, Deno.pid, null],
    }));
    fromChild.close(), own.close(), fromUs.close(), listener.close();
    await child.status;
  `) as { readable: boolean; pids: unknown[]; expected: unknown[] };
  assertEquals(found.readable, true);
  assertEquals(found.pids, found.expected);
});

Deno.test("a connection is open until its client closes it, whether or not the server has read the end yet", async () => {
  const states = await withAllPermissions(`
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    const client = await Deno.connect({ hostname: "127.0.0.1", port });
    const server = await listener.accept();
    const clientPort = client.localAddr.port;
    const before = clientSocketOpen(port, clientPort);
    client.close();
    // The server has not read anything: its own view would still say open.
    const after = clientSocketOpen(port, clientPort);
    console.log(JSON.stringify([before, after, clientSocketOpen(port, 1)]));
    server.close(), listener.close();
  `);
  assertEquals(states, [true, false, false]);
});
