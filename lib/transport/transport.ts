/**
 * One side of a connection's transport, sans-IO: feed it received bytes, get whole MTProto
 * payloads; give it payloads, get bytes to write. The client chooses framing and obfuscation;
 * the server recognises them from the client's first bytes.
 *
 * @module
 */

import { TransportError } from "../errors.ts";
import type { RandomSource } from "../crypto/random.ts";
import type { AesCtr } from "../crypto/ctr.ts";
import { ByteQueue } from "./byte_queue.ts";
import {
  createFraming,
  type Framing,
  type PackOptions,
  TRANSPORT_MARKERS,
  type TransportKind,
} from "./framing.ts";
import { acceptObfuscationHeader, createObfuscationHeader } from "./obfuscated.ts";
import { type FramePool, framePool } from "../io/frame_pool.ts";
import type { TransportOptions } from "./transport_names.ts";

// The names apart, so that reading --transport before `serve` listens loads no cipher.
export {
  parseTransport,
  TRANSPORT_NAMES,
  transportName,
  type TransportOptions,
} from "./transport_names.ts";

/** "HEAD", "POST", "GET " and "OPTI" as little-endian words: how an HTTP request starts. */
const HTTP_FIRST_WORDS = new Set([0x44414548, 0x54534f50, 0x20544547, 0x4954504f]);

/** The client side of a transport. */
export class ClientTransport {
  readonly #framing: Framing;
  readonly #queue = new ByteQueue(framePool);
  #send?: AesCtr;
  #receive?: AesCtr;
  #opening: Uint8Array;
  /** The last readTarget() given out. */
  #target?: Uint8Array;

  /** Prepares the framing; the first `pack` also carries the transport marker or header. */
  constructor(readonly options: TransportOptions, random: RandomSource) {
    this.#framing = createFraming(options.kind, random);
    if (options.obfuscated) {
      if (options.kind === "full") {
        throw new TransportError("the full transport cannot be obfuscated");
      }
      const { header, send, receive } = createObfuscationHeader(
        options.kind,
        options.dcId ?? 2,
        random,
        options.secret,
      );
      this.#opening = header;
      this.#send = send;
      this.#receive = receive;
    } else {
      if (options.secret) {
        throw new TransportError("an MTProxy secret needs an obfuscated transport");
      }
      this.#opening = options.kind === "full" ? new Uint8Array(0) : TRANSPORT_MARKERS[options.kind];
    }
  }

  /**
   * Frames a payload; the first call's bytes start with the marker or obfuscation header.
   * `headroom` as for {@link PackOptions.headroom}.
   */
  pack(payload: Uint8Array, { headroom = 0 }: { headroom?: number } = {}): Uint8Array {
    let framed = this.#framing.pack(payload, { headroom });
    if (this.#send) framed = this.#send.process(framed);
    if (this.#opening.length === 0) return framed;
    const out = new Uint8Array(this.#opening.length + framed.length);
    out.set(this.#opening);
    out.set(framed, this.#opening.length);
    this.#opening = new Uint8Array(0);
    return out;
  }

  /**
   * Where the next received bytes may be read into while a big frame is being gathered (see
   * ByteQueue.readTarget): reading there and passing a view of it from its start to
   * {@link ClientTransport.unpack} copies nothing. Undefined: read into a buffer of your own.
   */
  readTarget(): Uint8Array | undefined {
    return this.#target = this.#queue.readTarget();
  }

  /**
   * Feeds received bytes and returns the whole payloads now available. A 4-byte payload holding
   * a negative number is the server's transport error and throws {@link TransportError}.
   */
  unpack(chunk: Uint8Array): Uint8Array[] {
    pushReceived(this.#queue, chunk, this.#target, this.#receive);
    this.#target = undefined;
    const payloads: Uint8Array[] = [];
    for (let payload; (payload = this.#framing.unpack(this.#queue));) {
      if (payload.length === 4) {
        const code = new DataView(payload.buffer, payload.byteOffset, 4).getInt32(0, true);
        if (code < 0) throw new TransportError(`server transport error ${code}`, -code);
      }
      payloads.push(payload);
    }
    return payloads;
  }
}

/**
 * Puts received bytes on `queue`, deobfuscated by `receive` when the transport has one: where they
 * lie when they were read into the queue's last read target (the queue's own bytes), else into a
 * copy.
 */
function pushReceived(
  queue: ByteQueue,
  chunk: Uint8Array,
  target: Uint8Array | undefined,
  receive: AesCtr | undefined,
): void {
  const own = target !== undefined && chunk.buffer === target.buffer &&
    chunk.byteOffset === target.byteOffset;
  queue.push(receive ? receive.process(chunk, own ? chunk : undefined) : chunk);
}

/** The server side of a transport: recognises the client's choice, then frames replies alike. */
export class ServerTransport {
  readonly #queue: ByteQueue;
  #framing?: Framing;
  #send?: AesCtr;
  #receive?: AesCtr;
  /** What the client chose, once known. */
  kind?: TransportKind;
  obfuscated = false;
  /** The DC id from the obfuscation header, when there was one. */
  dcId?: number;

  /** The last readTarget() given out. */
  #target?: Uint8Array;

  /**
   * Creates the server side; `random` pads replies on padded intermediate. With `pool`, big
   * frames (an upload's parts) are gathered in buffers lent by it, given back by the caller
   * once it has handled the payload (see ByteQueue).
   */
  constructor(private readonly random: RandomSource, pool?: FramePool) {
    this.#queue = new ByteQueue(pool);
  }

  /**
   * Where the next received bytes may be read into while a big frame (an upload's part) is being
   * gathered, as {@link ClientTransport.readTarget}: the emulator reads a part there instead of
   * into a fresh chunk per read that is then copied. Undefined: read into a buffer of your own.
   */
  readTarget(): Uint8Array | undefined {
    return this.#target = this.#queue.readTarget();
  }

  /** Feeds received bytes and returns the whole payloads now available. */
  unpack(chunk: Uint8Array): Uint8Array[] {
    pushReceived(this.#queue, chunk, this.#target, this.#receive);
    this.#target = undefined;
    if (!this.#framing && !this.#detect()) return [];
    const payloads: Uint8Array[] = [];
    for (let payload; (payload = this.#framing!.unpack(this.#queue));) payloads.push(payload);
    return payloads;
  }

  /** Frames a reply (`options` as for {@link PackOptions}). */
  pack(payload: Uint8Array, options?: PackOptions): Uint8Array {
    if (!this.#framing) {
      throw new TransportError("cannot reply before the client chose a transport");
    }
    const framed = this.#framing.pack(payload, options);
    return this.#send ? this.#send.process(framed) : framed;
  }

  /** Frames a transport error code (e.g. 404) as the server sends it: a negative 4-byte payload. */
  packError(code: number): Uint8Array {
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setInt32(0, -code, true);
    return this.pack(payload, { pad: false });
  }

  #detect(): boolean {
    const queue = this.#queue;
    if (queue.length < 1) return false;
    if (queue.peek(1)[0] === 0xef) return this.#choose("abridged", 1);
    if (queue.length < 8) return false;
    const first = queue.peek(8);
    const word = new DataView(first.buffer, first.byteOffset, 8).getUint32(0, true);
    if (HTTP_FIRST_WORDS.has(word)) {
      // Obfuscation headers never start with these words, so this is an HTTP client (HTTP
      // transport or a WebSocket upgrade), or a browser, or a probe.
      throw new TransportError(
        "an HTTP request: this server speaks MTProto's TCP transports only (not HTTP or WebSocket)",
      );
    }
    if (word === 0xeeeeeeee) return this.#choose("intermediate", 4);
    if (word === 0xdddddddd) return this.#choose("padded", 4);
    // A full-transport frame starts with its length and sequence number 0.
    if (new DataView(first.buffer, first.byteOffset, 8).getUint32(4, true) === 0) {
      return this.#choose("full", 0);
    }
    if (queue.length < 64) return false;
    const accepted = acceptObfuscationHeader(queue.take(64));
    this.obfuscated = true;
    this.dcId = accepted.dcId;
    this.#send = accepted.send;
    this.#receive = accepted.receive;
    // Bytes that arrived with the header are still encrypted: decrypt them now.
    const rest = queue.length ? queue.take(queue.length) : new Uint8Array(0);
    this.#queue.push(this.#receive.process(rest));
    return this.#choose(accepted.kind, 0);
  }

  #choose(kind: TransportKind, markerLength: number): boolean {
    this.#queue.skip(markerLength);
    this.kind = kind;
    this.#framing = createFraming(kind, this.random);
    return true;
  }
}
