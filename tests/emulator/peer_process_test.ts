/**
 * Which process is on the far end of a loopback connection, from /proc: a child process's
 * connection names the child, this process's own names this process, and a connection nobody
 * has is unknown.
 */

import { assertEquals } from "../assert.ts";
import { clientSocketOpen, peerProcessFinder } from "../../lib/emulator/peer_process.ts";

Deno.test("a connection from a child process names the child; one of our own names us; none is unknown", async () => {
  if (Deno.build.os !== "linux") throw new Error("this test reads Linux's /proc");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `const c = await Deno.connect({ hostname: "127.0.0.1", port: ${port} });
       await c.read(new Uint8Array(1));`,
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const fromChild = await listener.accept();
  const own = await Deno.connect({ hostname: "127.0.0.1", port });
  const fromUs = await listener.accept();
  try {
    const find = peerProcessFinder();
    const [childPid, ownPid, nobody] = await Promise.all([
      find(port, (fromChild.remoteAddr as Deno.NetAddr).port),
      find(port, (fromUs.remoteAddr as Deno.NetAddr).port),
      find(port, 1),
    ]);
    assertEquals([childPid, ownPid, nobody], [child.pid, Deno.pid, undefined]);
  } finally {
    fromChild.close();
    own.close();
    fromUs.close();
    listener.close();
    await child.status;
  }
});

Deno.test("a connection is open until its client closes it, whether or not the server has read the end yet", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  const server = await listener.accept();
  try {
    const clientPort = (client.localAddr as Deno.NetAddr).port;
    assertEquals(clientSocketOpen(port, clientPort), true);
    client.close();
    // The server has not read anything: its own view would still say open.
    assertEquals(clientSocketOpen(port, clientPort), false);
    assertEquals(clientSocketOpen(port, 1), false);
  } finally {
    server.close();
    listener.close();
  }
});
