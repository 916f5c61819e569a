/**
 * A TCP relay that does nothing but copy bytes, for the benches' floor of what any process between
 * a client and its server costs a call: `deno run --allow-net=127.0.0.1 scripts/bare_relay.ts
 * PORT` listens on 127.0.0.1 (a port of its own, printed as the first line of stdout) and joins
 * each connection to 127.0.0.1:PORT, with Nagle's delay off on both sides, reading into one
 * buffer per direction and writing it out whole.
 *
 * @module
 */

/** Copies `from` to `to` until `from` ends, then closes `to`. */
async function pump(from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (let count; (count = await from.read(buffer)) !== null;) {
      for (let written = 0; written < count;) {
        written += await to.write(buffer.subarray(written, count));
      }
    }
  } catch { /* either side closed */ }
  try {
    to.close();
  } catch { /* closed already */ }
}

if (import.meta.main) {
  const target = Number(Deno.args[0]);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(listener.addr.port);
  for await (const inbound of listener) {
    inbound.setNoDelay(true);
    Deno.connect({ hostname: "127.0.0.1", port: target }).then((outbound) => {
      outbound.setNoDelay(true);
      pump(inbound, outbound);
      pump(outbound, inbound);
    }, () => inbound.close());
  }
}
