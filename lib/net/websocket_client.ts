/**
 * An RFC 6455 WebSocket client over any byte pipe (a TCP socket with `TCP_NODELAY`, a proxy's
 * tunnel, TLS over either): every WebSocket MTProto goes over (see websocket_connection.ts). The opening
 * handshake with its `Sec-WebSocket-Accept` check, masked binary frames out, data frames in
 * (fragments joined into the byte stream: frame boundaries mean nothing to MTProto), pings
 * answered with pongs, the closing handshake.
 *
 * @module
 */

import { sha1 } from "../crypto/hash.ts";
import { type RandomSource, secureRandom } from "../crypto/random.ts";
import { ByteQueue } from "../transport/byte_queue.ts";
import { ConnectionFailedError } from "./sender_errors.ts";
import type { ConnectAttempt } from "./sender_options.ts";
import type { ByteConnection } from "./tcp_connection.ts";

/** The subprotocol Telegram's endpoints require. */
export const WEBSOCKET_PROTOCOL = "binary";

/**
 * What a close means: a normal one (Telegram always closes with 1000 and puts its error code in
 * the reason, which may be ignored) ends the stream; any other is an error naming it.
 */
export function closeError(
  url: string,
  event: { code: number; reason: string },
  failure?: string,
): Error | undefined {
  if (event.code === 1000 || event.code === 1005) return undefined;
  const reason = event.reason ? ` (${event.reason.slice(0, 100)})` : "";
  return new ConnectionFailedError(
    `the WebSocket ${url} closed with code ${event.code}${reason}${failure ? `: ${failure}` : ""}`,
  );
}

/** The error of an attempt given up while the WebSocket was opening. */
export function givenUp(url: string): ConnectionFailedError {
  return new ConnectionFailedError(
    `the WebSocket ${url} was given up (the connect deadline passed, or the connection closed)`,
  );
}

/** The GUID RFC 6455 appends to the key before hashing it into `Sec-WebSocket-Accept`. */
const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The longest handshake answer read. */
const MAX_ANSWER = 16 * 1024;

/**
 * A WebSocket (subprotocol `binary`) over `stream`, a byte pipe to the server (a proxy's tunnel,
 * TLS already over it for `wss://`): the opening handshake, then a connection whose writes are
 * one masked binary frame each and whose readable yields the data frames' bytes. A refused
 * handshake is {@link ConnectionFailedError} naming the URL and the reason; `attempt`'s abort
 * closes the stream.
 */
export async function webSocketOver(
  stream: ByteConnection,
  url: URL,
  options: { attempt?: ConnectAttempt; random?: RandomSource } = {},
): Promise<ByteConnection> {
  const random = options.random ?? secureRandom;
  const { attempt } = options;
  // Aborted already (while the TCP connect or TLS finished): a listener would never hear it.
  if (attempt?.signal.aborted) {
    stream.close();
    throw givenUp(url.href);
  }
  const onAbort = () => stream.close();
  attempt?.signal.addEventListener("abort", onAbort, { once: true });
  const reader = stream.readable[Symbol.asyncIterator]();
  try {
    const key = random(16).toBase64();
    const request = [
      `GET ${url.pathname}${url.search} HTTP/1.1`,
      `Host: ${url.host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${key}`,
      "Sec-WebSocket-Version: 13",
      `Sec-WebSocket-Protocol: ${WEBSOCKET_PROTOCOL}`,
    ];
    attempt?.waiting(`the WebSocket ${url.href} did not answer the opening handshake`);
    await stream.write(new TextEncoder().encode(request.join("\r\n") + "\r\n\r\n"));
    const answer = new ByteQueue();
    let end = -1;
    while (end < 0) {
      const next = await reader.next();
      if (attempt?.signal.aborted) throw givenUp(url.href);
      if (next.done) throw refused(url, "the server closed the connection");
      answer.push(next.value);
      const text = new TextDecoder("latin1").decode(answer.peek(answer.length));
      end = text.indexOf("\r\n\r\n");
      if (end < 0 && answer.length > MAX_ANSWER) throw refused(url, "its answer is too long");
    }
    const head = new TextDecoder("latin1").decode(answer.take(end + 4));
    const [status, ...lines] = head.slice(0, end).split("\r\n");
    if (!/^HTTP\/1\.1 101(?: |$)/.test(status)) {
      throw refused(url, `it answered ${JSON.stringify(status.slice(0, 200))}`);
    }
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    const expected = sha1(new TextEncoder().encode(key + ACCEPT_GUID)).toBase64();
    if (
      headers.get("upgrade")?.toLowerCase() !== "websocket" ||
      !/\bupgrade\b/i.test(headers.get("connection") ?? "")
    ) throw refused(url, "its answer is not a WebSocket upgrade");
    if (headers.get("sec-websocket-accept") !== expected) {
      throw refused(url, "its Sec-WebSocket-Accept does not match the key sent");
    }
    const protocol = headers.get("sec-websocket-protocol");
    if (protocol !== undefined && protocol !== WEBSOCKET_PROTOCOL) {
      throw refused(url, `it chose the subprotocol ${JSON.stringify(protocol)}`);
    }
    const early = answer.length ? answer.take(answer.length) : undefined;
    return framedConnection(stream, reader, early, url.href, random);
  } catch (error) {
    stream.close();
    if (attempt?.signal.aborted) throw givenUp(url.href);
    if (error instanceof ConnectionFailedError) throw error;
    throw refused(url, (error as Error).message);
  } finally {
    attempt?.signal.removeEventListener("abort", onAbort);
  }
}

function refused(url: URL, reason: string): ConnectionFailedError {
  return new ConnectionFailedError(`the WebSocket handshake with ${url.href} failed: ${reason}`);
}

const OP_CONTINUATION = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10;

/** The largest frame accepted (MTProto's own messages stay far below it). */
const MAX_FRAME = 16 << 20;

/** What the server's frames carry. */
type FrameEvent =
  | { kind: "data"; payload: Uint8Array }
  | { kind: "ping"; payload: Uint8Array }
  | { kind: "close"; code: number; reason: string };

/** Server frames, parsed as bytes arrive (sans-IO). */
class FrameReader {
  readonly #queue = new ByteQueue();

  /** Feeds received bytes; the frames now whole. Throws on a frame RFC 6455 forbids. */
  push(chunk: Uint8Array): FrameEvent[] {
    const queue = this.#queue;
    queue.push(chunk);
    const events: FrameEvent[] = [];
    while (queue.length >= 2) {
      const [first, second] = queue.peek(2);
      let length = second & 0x7f;
      let header = 2;
      if (length === 126) {
        if (queue.length < 4) break;
        const bytes = queue.peek(4);
        length = (bytes[2] << 8) | bytes[3];
        header = 4;
      } else if (length === 127) {
        if (queue.length < 10) break;
        const bytes = queue.peek(10);
        const big = new DataView(bytes.buffer, bytes.byteOffset, 10).getBigUint64(2);
        if (big > BigInt(MAX_FRAME)) throw new Error(`a frame of ${big} bytes`);
        length = Number(big);
        header = 10;
      }
      if (length > MAX_FRAME) throw new Error(`a frame of ${length} bytes`);
      if (first & 0x70) throw new Error("a frame with reserved bits set");
      if (second & 0x80) throw new Error("the server masked a frame");
      const opcode = first & 0x0f;
      if (opcode >= OP_CLOSE && (!(first & 0x80) || length > 125)) {
        throw new Error("a fragmented or long control frame");
      }
      if (queue.length < header + length) break;
      queue.skip(header);
      const payload = queue.take(length);
      if (opcode === OP_BINARY || opcode === OP_CONTINUATION) {
        if (payload.length) events.push({ kind: "data", payload });
      } else if (opcode === OP_PING) events.push({ kind: "ping", payload });
      else if (opcode === OP_CLOSE) {
        const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
        const reason = new TextDecoder().decode(payload.subarray(2));
        events.push({ kind: "close", code, reason });
        break;
      } else if (opcode === OP_TEXT) throw new Error("a text frame");
      else if (opcode !== OP_PONG) throw new Error(`a frame of unknown opcode ${opcode}`);
    }
    return events;
  }
}

/** One client frame: FIN, `opcode`, masked with 4 fresh random bytes as RFC 6455 requires. */
function clientFrame(opcode: number, payload: Uint8Array, random: RandomSource): Uint8Array {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = new Uint8Array(header + 4 + length);
  frame[0] = 0x80 | opcode;
  if (header === 2) frame[1] = 0x80 | length;
  else if (header === 4) {
    frame[1] = 0x80 | 126;
    frame[2] = length >> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(length));
  }
  const mask = random(4);
  frame.set(mask, header);
  const body = header + 4;
  for (let index = 0; index < length; index++) {
    frame[body + index] = payload[index] ^ mask[index & 3];
  }
  return frame;
}

/** The connection over an accepted handshake: frames out, data frames in, control handled. */
function framedConnection(
  stream: ByteConnection,
  reader: AsyncIterator<Uint8Array>,
  early: Uint8Array | undefined,
  url: string,
  random: RandomSource,
): ByteConnection {
  const frames = new FrameReader();
  let closed = false;
  let writing = Promise.resolve();
  // One frame at a time on the stream, in the order written.
  const send = (opcode: number, payload: Uint8Array) => {
    const frame = clientFrame(opcode, payload, random);
    const sent = writing.then(() => stream.write(frame));
    writing = sent.catch(() => {});
    return sent;
  };
  const closeWith = (code: number) => {
    if (closed) return;
    closed = true;
    send(OP_CLOSE, Uint8Array.of(code >> 8, code & 0xff)).catch(() => {}).finally(() =>
      stream.close()
    );
  };
  return {
    readable: (async function* () {
      try {
        for (let chunk = early;;) {
          for (const event of chunk ? frames.push(chunk) : []) {
            if (event.kind === "data") yield event.payload;
            else if (event.kind === "ping") send(OP_PONG, event.payload).catch(() => {});
            else {
              // The closing handshake: the server's code sent back, then the stream closed.
              closeWith(event.code === 1005 ? 1000 : event.code);
              const error = closeError(url, event);
              if (error) throw error;
              return;
            }
          }
          if (closed) return;
          const next = await reader.next();
          if (next.done) {
            if (closed) return;
            throw new ConnectionFailedError(`the WebSocket ${url} ended without a close frame`);
          }
          chunk = next.value;
        }
      } catch (error) {
        if (closed && !(error instanceof ConnectionFailedError)) return;
        stream.close();
        if (error instanceof ConnectionFailedError) throw error;
        throw new ConnectionFailedError(`the WebSocket ${url} failed: ${(error as Error).message}`);
      }
    })(),
    async write(bytes) {
      if (closed) throw new ConnectionFailedError(`the WebSocket ${url} is closed`);
      await send(OP_BINARY, bytes);
    },
    close() {
      closeWith(1000);
    },
  };
}
