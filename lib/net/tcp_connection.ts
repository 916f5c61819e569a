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
  const chunks = readChunks(connection);
  return {
    // An iterator over readChunks' own rather than a generator around it: the generator's frame
    // held the last chunk while it waited for the next, a buffer per idle connection.
    readable: {
      [Symbol.asyncIterator]: () => ({
        // A read target (the rest of a big frame) goes on to readChunks.
        next: (target?: Uint8Array) =>
          chunks.next(target).catch((error): IteratorResult<Uint8Array> => {
            if (!closed) throw error;
            return { done: true, value: undefined };
          }),
        return: () => chunks.return(),
      }),
    },
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
