/**
 * The only place the client touches sockets: a TCP connection as a write function and a stream
 * of received chunks.
 *
 * @module
 */

import { readChunks } from "./read_chunks.ts";

/** A byte pipe to a server; tests may supply one built on anything. */
export interface ByteConnection {
  /** Received chunks, ending when the connection closes. */
  readable: AsyncIterable<Uint8Array>;
  write(bytes: Uint8Array): Promise<void>;
  close(): void;
}

/** Opens a TCP connection. */
export async function connectTcp(host: string, port: number): Promise<ByteConnection> {
  const connection = await Deno.connect({ hostname: host, port });
  connection.setNoDelay(true);
  let closed = false;
  return {
    readable: (async function* () {
      try {
        yield* readChunks(connection);
      } catch (error) {
        if (!closed) throw error;
      }
    })(),
    async write(bytes) {
      for (let written = 0; written < bytes.length;) {
        written += await connection.write(bytes.subarray(written));
      }
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        connection.close();
      } catch {
        // already closed by the peer
      }
    },
  };
}
