/**
 * `GET /v1/ws`: the line protocol over a WebSocket, run by `serveLines` exactly as a TCP
 * connection is. A text frame is a line; each line written is a frame. Frames that arrive while
 * the session reads are handed over together (one batch, as a TCP read would), the session's
 * back-pressure stops reading them, and since a WebSocket cannot be paused, a client that goes on
 * sending far past that is closed (1008). Output waits while the socket's buffer is full, so a
 * client that does not read its answers is not read from either. Pings keep it alive.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type { LogFields } from "../io/log_format.ts";
import type { ProxyDefaults } from "../proxy/proxy_connection.ts";
import { serveLines } from "../proxy/serve_lines.ts";
import { HttpError, utf8Length } from "./http_answers.ts";
import type { RouteContext, WebRoute } from "./routes.ts";

/** Output waits while more than this many bytes are buffered for the client… */
export const WS_OUTPUT_HIGH_WATER = 4 * 1024 * 1024;
/** …until they are down to this many. */
const WS_OUTPUT_LOW_WATER = 1024 * 1024;

let connections = 0;

function newlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) count++;
  return count;
}

function serveSocket(context: RouteContext, token: string | undefined): Response {
  const front = context.front;
  const { socket, response } = Deno.upgradeWebSocket(context.request, {
    idleTimeout: front.pingSeconds,
  });
  const release = context.keepOpen();
  front.sockets.add(socket);
  const tally = front.defaults.metrics?.opened("ws");
  const encoder = new TextEncoder();
  // Frames as they came, each a line: encoded together when the session takes them.
  const frames: string[] = [];
  let queued = 0;
  // Input the session has not taken yet may hold a frame past the longest line (answered
  // LineTooLong, as on TCP) and one longest line, and a little more.
  const inputLimit = 2 * front.maxLine + 1024 * 1024;
  let ended = false;
  let wake: (() => void) | undefined;
  // Frames come one event each: the session is woken a turn later, so that the frames of one
  // read (a client's lines sent together) reach it together, as a TCP read's lines do, and its
  // calls share MTProto writes (woken at once, it took about five frames at a time under load).
  let poked = false;
  const poke = () => {
    if (poked) return;
    poked = true;
    setImmediate(() => {
      poked = false;
      wake?.();
      wake = undefined;
    });
  };
  socket.onmessage = (event) => {
    const data = event.data;
    const text = typeof data === "string" ? data : new TextDecoder().decode(data as ArrayBuffer);
    // A frame is one line: newlines in it can only be JSON whitespace.
    const line = text.includes("\n") ? text.replace(/\r?\n/g, " ") : text;
    const size = utf8Length(line) + 1;
    tally?.received(size - 1);
    queued += size;
    if (queued > inputLimit) {
      socket.close(1008, "too much input sent without reading the answers");
      ended = true;
    } else frames.push(line);
    poke();
  };
  socket.onclose = () => {
    front.sockets.delete(socket);
    tally?.closed();
    ended = true;
    poke();
  };
  socket.onerror = () => {};
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (frames.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
      if (frames.length === 0) return controller.close();
      // Everything queued goes over at once: lines sent together travel together.
      const chunk = encoder.encode(frames.join("\n") + "\n");
      frames.length = 0;
      queued -= chunk.length;
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
  const write = async (text: string) => {
    if (socket.readyState !== WebSocket.OPEN) throw new Error("the WebSocket is closed");
    // One frame per line: what the session wrote together is sent without a wait in between.
    for (let start = 0, end; start < text.length; start = end + 1) {
      end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      if (end > start) socket.send(text.slice(start, end));
    }
    // Payload bytes: the lines without their newlines.
    tally?.sent(utf8Length(text) - newlines(text));
    while (socket.bufferedAmount > WS_OUTPUT_HIGH_WATER) {
      if (socket.readyState !== WebSocket.OPEN) throw new Error("the WebSocket is closed");
      await front.clock.sleep(5);
      if (socket.bufferedAmount <= WS_OUTPUT_LOW_WATER) break;
    }
  };
  const connection = ++connections;
  const tagged = (log?: (line: string, fields?: LogFields) => void) =>
    log && ((line: string, fields?: LogFields) => log(line, { ...fields, connection }));
  const defaults: ProxyDefaults = {
    ...front.defaults,
    health: front.health,
    ...(front.defaults.log ? { log: tagged(front.defaults.log) } : {}),
    ...(front.defaults.verbose ? { verbose: tagged(front.defaults.verbose) } : {}),
  };
  socket.onopen = () => {
    serveLines(defaults, {
      readable,
      write,
      maxLine: front.maxLine,
      ...(token ? { token } : {}),
      ...(front.guard ? { guard: front.guard, address: context.address } : {}),
    }).then((authorized) => {
      if (socket.readyState === WebSocket.OPEN) {
        socket.close(authorized ? 1000 : 1008, authorized ? "" : "unauthorized");
      }
    }).finally(release);
  };
  return response;
}

/** `GET /v1/ws`: serve's token as a Bearer header, or as the first frame as on TCP. */
export const WS_ROUTE: WebRoute = {
  method: "GET",
  path: "/v1/ws",
  auth: "open",
  async handle(context) {
    if (context.request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      throw new HttpError(426, "UpgradeRequired", "/v1/ws is a WebSocket endpoint", {
        upgrade: "websocket",
      });
    }
    // Browsers cannot send headers on an upgrade: without one, the first frame has the token.
    const presented = context.request.headers.get("authorization") !== null;
    if (presented) await context.front.checkToken(context.request, context.address);
    return serveSocket(context, presented ? undefined : context.front.token);
  },
};
