/**
 * The emulator's WebSocket front (`emulator --websocket`): for each DC an HTTP server on
 * 127.0.0.1 that upgrades `GET /apiws` (subprotocol `binary`, as Telegram's web endpoints demand)
 * and feeds the binary frames' bytes to a connection of that DC exactly as a TCP socket's bytes;
 * what the DC answers goes back in binary frames. Frame boundaries mean nothing to either side.
 *
 * @module
 */

import { type DcContext, ServerConnection } from "./server_connection.ts";

/** The path Telegram's WebSocket endpoints serve. */
export const WEBSOCKET_PATH = "/apiws";

/** How the front is run. */
export interface WebSocketFrontOptions {
  /** The DCs to serve, each on a port of its own. */
  dcs: DcContext[];
  /** The port of the first DC's front, the next ones after it; 0 (default): any free ports. */
  port?: number;
  log: (line: string) => void;
}

/** One DC's WebSocket endpoint. */
export interface WebSocketEndpoint {
  dc: number;
  port: number;
  /** `ws://127.0.0.1:PORT/apiws`. */
  url: string;
  /** Its DC connections open now (closing one closes its WebSocket). */
  connections: Set<ServerConnection>;
  /** WebSockets accepted so far. */
  accepted: number;
}

/** A running front. */
export interface WebSocketFront {
  endpoints: WebSocketEndpoint[];
  /** Stops listening and closes every WebSocket. */
  close(): Promise<void>;
}

/** Starts one WebSocket server per DC; each listens once this returns. */
export function startWebSocketFront(options: WebSocketFrontOptions): WebSocketFront {
  const servers: Deno.HttpServer<Deno.NetAddr>[] = [];
  const sockets = new Set<WebSocket>();
  const endpoints = options.dcs.map((dc, index): WebSocketEndpoint => {
    const connections = new Set<ServerConnection>();
    const server = Deno.serve(
      {
        hostname: "127.0.0.1",
        port: options.port ? options.port + index : 0,
        onListen: () => {},
        onError: (error) => {
          options.log(`websocket dc${dc.dcId}: ${(error as Error).message}`);
          return new Response("internal error", { status: 500 });
        },
      },
      (request) => {
        const response = upgrade(request, dc, connections, sockets);
        if (response.status === 101) endpoint.accepted++;
        return response;
      },
    );
    servers.push(server);
    const port = server.addr.port;
    const url = `ws://127.0.0.1:${port}${WEBSOCKET_PATH}`;
    const endpoint = { dc: dc.dcId, port, url, connections, accepted: 0 };
    return endpoint;
  });
  return {
    endpoints,
    async close() {
      for (const endpoint of endpoints) {
        for (const connection of endpoint.connections) connection.close();
      }
      for (const socket of sockets) {
        if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      }
      await Promise.all(servers.map((server) => server.shutdown()));
    },
  };
}

/** Answers one HTTP request: a WebSocket to the DC for `GET /apiws` asking for `binary`. */
function upgrade(
  request: Request,
  dc: DcContext,
  connections: Set<ServerConnection>,
  sockets: Set<WebSocket>,
): Response {
  if (new URL(request.url).pathname !== WEBSOCKET_PATH) {
    return new Response("not found\n", { status: 404 });
  }
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("a WebSocket endpoint\n", {
      status: 426,
      headers: { upgrade: "websocket" },
    });
  }
  const asked = (request.headers.get("sec-websocket-protocol") ?? "").split(",")
    .map((name) => name.trim());
  if (!asked.includes("binary")) {
    return new Response('the subprotocol "binary" is required\n', { status: 400 });
  }
  const { socket, response } = Deno.upgradeWebSocket(request, { protocol: "binary" });
  socket.binaryType = "arraybuffer";
  sockets.add(socket);
  const connection = new ServerConnection(
    dc,
    (bytes) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(bytes);
    },
    () => {
      connections.delete(connection);
      sockets.delete(socket);
      // Telegram closes with 1000 whatever the reason; the send queue goes out first.
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
    },
  );
  connections.add(connection);
  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      dc.log(`dc${dc.dcId} websocket: a text message, closing`);
      connection.close();
      return;
    }
    connection.receiveBytes(new Uint8Array(event.data as ArrayBuffer));
  };
  socket.onclose = () => connection.close();
  return response;
}
