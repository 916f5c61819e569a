/**
 * A TCP relay that can partition one process from a server: while partitioned, no byte crosses
 * in either direction and new connections wait, yet every connection stays open, as when the
 * network between them drops packets; healed, what waited goes through, as TCP's retransmissions
 * would deliver it. A test points one instance's database URL at it to cut that instance alone.
 *
 * @module
 */

/** A relay on 127.0.0.1 in front of a server's port. */
export interface PartitionRelay {
  port: number;
  /** Stops every byte and new connection (held, not dropped). */
  partition(): void;
  /** Lets everything held go through, and what follows. */
  heal(): void;
  close(): void;
}

/** Starts a relay in front of 127.0.0.1:`port`. */
export function startPartitionRelay(port: number): PartitionRelay {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let healed = Promise.resolve();
  let heal = () => {};
  const pump = async (from: Deno.Conn, to: Deno.Conn) => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (let n; (n = await from.read(buffer)) !== null;) {
        await healed;
        for (let written = 0; written < n;) {
          written += await to.write(buffer.subarray(written, n));
        }
      }
    } catch {
      // either side closed
    }
    for (const conn of [from, to]) {
      try {
        conn.close();
      } catch {
        // closed already
      }
      open.delete(conn);
    }
  };
  let closed = false;
  const relay = async (client: Deno.Conn) => {
    open.add(client);
    await healed;
    if (closed) return client.close();
    const upstream = await Deno.connect({ hostname: "127.0.0.1", port });
    open.add(upstream);
    void pump(client, upstream);
    void pump(upstream, client);
  };
  (async () => {
    for await (const client of listener) relay(client).catch(() => client.close());
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    partition() {
      healed = new Promise((resolve) => heal = resolve);
    },
    heal() {
      heal();
    },
    close() {
      closed = true;
      heal();
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // closed already
        }
      }
      open.clear();
    },
  };
}
