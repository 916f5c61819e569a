/**
 * A client that sends and never reads: `serve` stops reading it instead of queueing its answers
 * without bound, and once it leaves, everything it held is let go at once.
 */

import { assertEquals } from "../assert.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { JsonClient } from "../support/json_client.ts";
import { rssMb, signInAlice, startServeProcess } from "../support/processes.ts";

Deno.test("a client that never reads 20,000 answers keeps serve's memory bounded; once it leaves, others are served at once", async () => {
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: () => {},
    world: { homeDc: 1, filesDc: 1 },
  });
  const { child: serve, port } = await startServeProcess(emulator.serverLine(1));
  const clients: JsonClient[] = [];
  let hog: Deno.TcpConn | undefined;
  try {
    const owner = await JsonClient.connect(port);
    clients.push(owner);
    const session = await signInAlice(owner, 1);
    const before = await rssMb(serve.pid);

    // The hog: its session, then 20,000 file downloads, and it never reads a byte.
    hog = await Deno.connect({ hostname: "127.0.0.1", port });
    const location = {
      _cons: "inputDocumentFileLocation",
      id: "9000001",
      access_hash: "9100000000000000001",
      file_reference: "",
      thumb_size: "",
    };
    const lines = [JSON.stringify({ id: 1, session })];
    for (let id = 2; id <= 20_001; id++) {
      lines.push(JSON.stringify({
        id,
        message: { _cons: "upload.getFile", location, offset: 0, limit: 1048576 },
      }));
    }
    const bytes = new TextEncoder().encode(lines.join("\n") + "\n");
    const socket = hog;
    const writing = (async () => {
      for (let at = 0; at < bytes.length;) at += await socket.write(bytes.subarray(at));
    })().catch(() => {});
    // Serve's memory, sampled every 100 ms for 3 s while the hog writes: a measurement window,
    // not a wait for an event. A serve that stops reading the hog and one that is still queueing
    // its answers look alike at any instant; only memory over a span tells them apart.
    let peak = 0;
    for (let sample = 0; sample < 30; sample++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      peak = Math.max(peak, await rssMb(serve.pid));
    }
    console.log(`serve RSS: ${before.toFixed(0)} MB before, peak ${peak.toFixed(0)} MB`);
    assertEquals(peak < 200, true, `peak RSS ${peak} MB`);

    // The hog leaves; a neighbour's request is answered within a second.
    const neighbour = await JsonClient.connect(port);
    clients.push(neighbour);
    hog.close();
    hog = undefined;
    await writing;
    const started = performance.now();
    const pong = await neighbour.request({ id: 1, message: { _cons: "ping", ping_id: 1 } }, 5000);
    const took = performance.now() - started;
    console.log(`neighbour answered ${took.toFixed(0)} ms after the hog left`);
    assertEquals((pong.message as Record<string, unknown>)._cons, "pong");
    assertEquals(took < 1000, true, `${took} ms`);
  } finally {
    hog?.close();
    for (const client of clients) client.close();
    serve.kill("SIGTERM");
    await serve.status;
    await serve.stderr.cancel().catch(() => {});
    await emulator.close();
  }
});
