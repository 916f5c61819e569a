/**
 * Accepting TCP connections for as long as the listener is open. A failed accept (most often
 * EMFILE: out of file descriptors) is logged and retried after a growing pause, instead of ending
 * the loop and leaving a server that never serves anyone again.
 *
 * @module
 */

import { type Clock, systemClock } from "../io/clock.ts";

/** Longest pause between failed accepts, in milliseconds. */
const MAX_PAUSE_MS = 1000;

/**
 * Hands every accepted connection to `handle` until the listener is closed; resolves then.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acceptLoop } from "./accept_loop.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const loop = acceptLoop(listener, (socket) => socket.close(), () => {});
 * listener.close();
 * await loop; // ends once the listener is closed
 * assert.ok(true);
 * ```
 */
export async function acceptLoop(
  listener: Deno.Listener<Deno.TcpConn>,
  handle: (socket: Deno.TcpConn) => void,
  log: (line: string) => void,
  clock: Clock = systemClock,
): Promise<void> {
  let pauseMs = 0;
  let lastLogged = -Infinity;
  for (;;) {
    let socket: Deno.TcpConn;
    try {
      socket = await listener.accept();
    } catch (error) {
      if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
        return; // the listener was closed
      }
      pauseMs = Math.min(MAX_PAUSE_MS, pauseMs ? pauseMs * 2 : 10);
      // One line a second at most: a server out of descriptors must not flood its log too.
      if (clock.now() - lastLogged >= 1000) {
        lastLogged = clock.now();
        log(`accept failed: ${(error as Error).message}; still listening, retrying`);
      }
      await clock.sleep(pauseMs);
      continue;
    }
    pauseMs = 0;
    handle(socket);
  }
}

/**
 * Closes a socket or listener that the other side (or an earlier call) may have closed already.
 *
 * @example
 * ```ts
 * import { closeQuietly } from "./accept_loop.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * closeQuietly(listener);
 * closeQuietly(listener); // no error the second time
 * ```
 */
export function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // closed already
  }
}
