/**
 * A TCP relay between the browser and `serve --http` that can drop every connection and hold new
 * ones for a while — a proxy restarting or a network blip as a page sees it — so that the browser
 * test can show `EventSource` resuming by `Last-Event-ID` by itself.
 *
 * @module
 */

/** A relay on 127.0.0.1 in front of `port`. */
export interface Relay {
  port: number;
  /** Closes every relayed connection and holds new ones until {@link Relay.release}. */
  cutAndHold(): void;
  /** Relays the held connections and new ones again. */
  release(): void;
  close(): void;
}

/** Starts a relay in front of 127.0.0.1:`port`. */
export function startRelay(port: number): Relay {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let held: (() => void) | undefined;
  let holding: Promise<void> | undefined;
  const closeAll = () => {
    for (const conn of open) {
      try {
        conn.close();
      } catch {
        // closed already
      }
    }
    open.clear();
  };
  const relay = async (client: Deno.Conn) => {
    open.add(client);
    await holding;
    if (!open.has(client)) return;
    const upstream = await Deno.connect({ hostname: "127.0.0.1", port });
    open.add(upstream);
    client.readable.pipeTo(upstream.writable).catch(() => {});
    upstream.readable.pipeTo(client.writable).catch(() => {});
  };
  (async () => {
    for await (const client of listener) relay(client).catch(() => {});
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    cutAndHold() {
      holding ??= new Promise((resolve) => held = resolve);
      closeAll();
    },
    release() {
      held?.();
      held = undefined;
      holding = undefined;
    },
    close() {
      this.release();
      closeAll();
      listener.close();
    },
  };
}
