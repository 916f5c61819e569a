/**
 * The JSON protocol's test client over `serve --http`'s WebSocket (`/v1/ws`): the same
 * {@link JsonClient}, each line sent as one text frame and each frame received read as one line,
 * so that a test written for TCP runs over either front unchanged.
 *
 * @module
 */

import { JsonClient, type LineChannel } from "./json_client.ts";

/** How to open the WebSocket: headers a browser would send, or a Bearer token. */
export interface WsOptions {
  headers?: Record<string, string>;
}

/** Opens `url` (`ws://127.0.0.1:PORT/v1/ws`); rejects when the upgrade is refused. */
export function openWebSocket(url: string, options: WsOptions = {}): Promise<WebSocket> {
  // Deno's WebSocket takes headers, as a browser's does not (it sends Origin on its own).
  const socket = new WebSocket(url, { headers: options.headers ?? {} } as unknown as string[]);
  return new Promise((resolve, reject) => {
    socket.onopen = () => resolve(socket);
    socket.onerror = (event) =>
      reject(new Error(`WebSocket ${url}: ${(event as ErrorEvent).message ?? "refused"}`));
  });
}

/** A {@link LineChannel} over an open WebSocket: frames in are lines, lines out are frames. */
export function webSocketChannel(socket: WebSocket): LineChannel {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let pending = "";
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      socket.onmessage = (event) => controller.enqueue(encoder.encode(`${event.data}\n`));
      socket.onclose = () => {
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
    },
  });
  return {
    readable,
    write(bytes) {
      if (socket.readyState !== WebSocket.OPEN) {
        return Promise.reject(new Error("the WebSocket is closed"));
      }
      // A line may arrive in pieces; each whole one goes as one frame.
      pending += decoder.decode(bytes, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) socket.send(line);
      return Promise.resolve(bytes.length);
    },
    close: () => socket.close(),
  };
}

/** A JSON client over serve --http's WebSocket on `port`. */
export async function connectWebSocket(port: number, options: WsOptions = {}): Promise<JsonClient> {
  return JsonClient.over(
    webSocketChannel(await openWebSocket(`ws://127.0.0.1:${port}/v1/ws`, options)),
  );
}
