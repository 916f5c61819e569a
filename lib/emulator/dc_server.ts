/**
 * The emulator's only sockets: one TCP listener per emulated DC on 127.0.0.1, feeding each
 * connection's bytes to a {@link ServerConnection}.
 *
 * @module
 */

import { type DcContext, ServerConnection } from "./server_connection.ts";
import { acceptLoop, closeQuietly } from "../net/accept_loop.ts";
import { coalescingWriter } from "../net/coalescing_writer.ts";
import { readChunks } from "../net/read_chunks.ts";
import { releaseSendBuffer } from "./files/send_buffers.ts";
import { Mtproto2jsonError } from "../errors.ts";

/** A running DC listener. */
export interface DcListener {
  port: number;
  /** Connections currently open. */
  connections: Set<ServerConnection>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** A DC's port is taken (another emulator, or anything else listening there). */
export class PortInUseError extends Mtproto2jsonError {
  override name = "PortInUse";
}

/**
 * Listens for one DC on 127.0.0.1 (port 0 picks a free one); a port in use is a
 * {@link PortInUseError} naming it.
 */
export function listenDc(dc: DcContext, port: number): DcListener {
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: "127.0.0.1", port });
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    throw new PortInUseError(
      `cannot listen on 127.0.0.1:${port} for DC ${dc.dcId}: the address is already in use`,
    );
  }
  const connections = new Set<ServerConnection>();
  const sockets = new Set<Deno.TcpConn>();
  const serving = acceptLoop(
    listener,
    (socket) => {
      socket.setNoDelay(true);
      sockets.add(socket);
      let socketClosed = false;
      // The answers to one received chunk leave in one write, as a real server's would.
      const writer = coalescingWriter(async (bytes) => {
        for (let written = 0; written < bytes.length;) {
          written += await socket.write(bytes.subarray(written));
        }
        // A big message's buffer is made again for the next (see files/send_buffers.ts).
        releaseSendBuffer(bytes);
      }, () => closeSocket());
      const closeSocket = () => {
        if (socketClosed) return;
        socketClosed = true;
        sockets.delete(socket);
        // Let queued writes go out first.
        writer.drained().finally(() => {
          closeQuietly(socket);
        });
      };
      const connection = new ServerConnection(
        dc,
        (bytes) => writer.write(bytes),
        () => {
          connections.delete(connection);
          dc.holders?.disconnect(connection.id);
          closeSocket();
        },
      );
      connections.add(connection);
      dc.holders?.connect(
        connection.id,
        (socket.localAddr as Deno.NetAddr).port,
        (socket.remoteAddr as Deno.NetAddr).port,
      );
      (async () => {
        try {
          // An upload's part is read straight into the frame it is gathered in (readTarget),
          // not into a fresh 64 KiB chunk per read (socket.readable's) that is then copied.
          const chunks = readChunks(socket);
          for (
            let next = await chunks.next();
            !next.done;
            next = await chunks.next(connection.transport.readTarget())
          ) {
            connection.receiveBytes(next.value);
          }
        } catch {
          // reset by the peer
        }
        connection.close();
      })();
    },
    (line) => dc.log(`dc${dc.dcId}: ${line}`),
    dc.clock,
  );
  return {
    port: (listener.addr as Deno.NetAddr).port,
    connections,
    async close() {
      // Closing twice is harmless (a test may stop a DC, then clean up everything).
      closeQuietly(listener);
      for (const connection of connections) connection.close();
      for (const socket of sockets) {
        closeQuietly(socket);
      }
      await serving;
    },
  };
}
