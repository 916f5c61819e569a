/**
 * An emulated DC reached through in-memory pipes instead of sockets: the client core's
 * `ByteConnection` on one side, the emulator's `ServerConnection` on the other, in one process.
 *
 * @module
 */

import type { ByteConnection } from "../../lib/net/tcp_connection.ts";
import { type DcContext, ServerConnection } from "../../lib/emulator/server_connection.ts";

/** Pipes to one DC, with switches a test flips. */
export interface MemoryDc {
  /** Opens a connection (a `connect` option for the sender). */
  connect(): Promise<ByteConnection>;
  /** Connections opened so far, and how many were closed. */
  opened: number;
  closed: number;
  /** When set, `connect` fails with this error. */
  refuse?: Error;
  /** When true, the server reads but never answers (a half-open connection). */
  mute: boolean;
  /** Closes every open connection from the server side. */
  drop(): void;
}

/** Pipes to the DC whose context is `dc` (e.g. `emulator.contexts[0]`). */
export function memoryDc(dc: DcContext): MemoryDc {
  const open = new Set<() => void>();
  const state: MemoryDc = {
    opened: 0,
    closed: 0,
    mute: false,
    drop() {
      for (const close of [...open]) close();
    },
    connect() {
      if (state.refuse) return Promise.reject(state.refuse);
      state.opened++;
      const chunks: Uint8Array[] = [];
      let wake: (() => void) | undefined;
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        state.closed++;
        open.delete(end);
        server.close();
        wake?.();
      };
      open.add(end);
      const server = new ServerConnection(dc, (bytes) => {
        if (state.mute || ended) return;
        chunks.push(bytes.slice());
        wake?.();
      }, end);
      const connection: ByteConnection = {
        readable: (async function* () {
          for (;;) {
            while (chunks.length) yield chunks.shift()!;
            if (ended) return;
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
          }
        })(),
        write(bytes) {
          if (ended) return Promise.reject(new Error("the connection is closed"));
          const copy = bytes.slice();
          queueMicrotask(() => ended || server.receiveBytes(copy));
          return Promise.resolve();
        },
        close: end,
      };
      return Promise.resolve(connection);
    },
  };
  return state;
}
