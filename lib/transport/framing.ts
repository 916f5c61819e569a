/**
 * The MTProto transports' framings: abridged, intermediate, padded intermediate and full. Each
 * turns one payload into bytes to send, and pulls whole payloads out of received bytes, saying
 * "need more" by returning `undefined`. No I/O.
 *
 * @module
 */

import { TransportError } from "../errors.ts";
import { crc32 } from "../tl/crc32.ts";
import type { RandomSource } from "../crypto/random.ts";
import type { ByteQueue } from "./byte_queue.ts";

/** The transports a connection can use. */
export type TransportKind = "abridged" | "intermediate" | "padded" | "full";

/** Frames larger than this are refused as corrupt rather than buffered. */
export const MAX_FRAME = 32 * 1024 * 1024;

/**
 * The spare bytes a payload needs before it for abridged and intermediate framing to write their
 * header in place (see {@link PackOptions.headroom}).
 */
export const FRAME_HEADROOM = 4;

/** How a payload is framed. */
export interface PackOptions {
  /** `false`: unpadded even on padded framing (transport error codes). */
  pad?: boolean;
  /**
   * How many bytes just before `payload` in its buffer are spare (from encryptMessage's
   * `headroom`): abridged and unpadded intermediate framing write their header there and return a
   * view instead of copying the payload, a file part's megabyte. The payload is left as it was.
   */
  headroom?: number;
}

/** One direction-independent framing. */
export interface Framing {
  /** Frames one payload for sending. */
  pack(payload: Uint8Array, options?: PackOptions): Uint8Array;
  /** Takes one whole payload from `queue`, or returns undefined until more bytes arrive. */
  unpack(queue: ByteQueue): Uint8Array | undefined;
}

/** The marker a client sends first on a plain (not obfuscated) connection. */
export const TRANSPORT_MARKERS: Record<Exclude<TransportKind, "full">, Uint8Array> = {
  abridged: Uint8Array.of(0xef),
  intermediate: Uint8Array.of(0xee, 0xee, 0xee, 0xee),
  padded: Uint8Array.of(0xdd, 0xdd, 0xdd, 0xdd),
};

/** The 4-byte tag inside an obfuscation header naming the framing within. */
export const OBFUSCATION_TAGS: Record<Exclude<TransportKind, "full">, number> = {
  abridged: 0xefefefef,
  intermediate: 0xeeeeeeee,
  padded: 0xdddddddd,
};

/** Abridged: the length in 4-byte words, in one byte, or 0x7f and three bytes. */
export class AbridgedFraming implements Framing {
  /** Frames one payload. */
  pack(payload: Uint8Array, { headroom = 0 }: PackOptions = {}): Uint8Array {
    const words = payload.length >>> 2;
    const header = words < 0x7f
      ? Uint8Array.of(words)
      : Uint8Array.of(0x7f, words, words >> 8, words >> 16);
    if (headroom >= header.length) return withHeader(payload, header);
    const out = new Uint8Array(header.length + payload.length);
    out.set(header);
    out.set(payload, header.length);
    return out;
  }

  /** Takes one payload, if whole. */
  unpack(queue: ByteQueue): Uint8Array | undefined {
    if (queue.length < 1) return undefined;
    let words = queue.peek(1)[0];
    let header = 1;
    // The top bit asks for a quick ack; the length is in the other seven.
    words &= 0x7f;
    if (words === 0x7f) {
      if (queue.length < 4) return undefined;
      const bytes = queue.peek(4);
      words = bytes[1] | (bytes[2] << 8) | (bytes[3] << 16);
      header = 4;
    }
    const length = words * 4;
    if (length > MAX_FRAME) {
      throw new TransportError(`abridged frame of ${length} bytes is too large`);
    }
    if (queue.length < header + length) {
      queue.reserve(header + length); // a big frame is gathered in one buffer as it comes
      return undefined;
    }
    queue.skip(header);
    return queue.take(length);
  }
}

/** Intermediate (and padded intermediate): a 4-byte little-endian length, then the payload. */
export class IntermediateFraming implements Framing {
  /** `random` given: padded intermediate, appending 0–15 random bytes to every payload. */
  constructor(private readonly random?: RandomSource) {}

  /** Frames one payload, padded unless `pad` is false (transport error codes go unpadded). */
  pack(payload: Uint8Array, { pad = true, headroom = 0 }: PackOptions = {}): Uint8Array {
    const padding = this.random && pad ? this.random(1)[0] & 15 : 0;
    if (padding === 0 && headroom >= 4) {
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, payload.length, true);
      return withHeader(payload, header);
    }
    const out = new Uint8Array(4 + payload.length + padding);
    new DataView(out.buffer).setUint32(0, payload.length + padding, true);
    out.set(payload, 4);
    if (padding) out.set(this.random!(padding), 4 + payload.length);
    return out;
  }

  /** Takes one payload, if whole (with its padding: the MTProto layer knows its own length). */
  unpack(queue: ByteQueue): Uint8Array | undefined {
    if (queue.length < 4) return undefined;
    const header = queue.peek(4);
    // Only the top bit of a length may carry the quick-ack flag; a negative code is 4 bytes long.
    const length = (header[0] | (header[1] << 8) | (header[2] << 16) | (header[3] << 24)) &
      0x7fffffff;
    if (length > MAX_FRAME) {
      throw new TransportError(`intermediate frame of ${length} bytes is too large`);
    }
    if (queue.length < 4 + length) {
      queue.reserve(4 + length); // a big frame is gathered in one buffer as it comes
      return undefined;
    }
    queue.skip(4);
    return queue.take(length);
  }
}

/** Full: length, sequence number, payload, CRC32 — each direction counting its own frames. */
export class FullFraming implements Framing {
  #sendSeq = 0;
  #receiveSeq = 0;

  /** Frames one payload. */
  pack(payload: Uint8Array): Uint8Array {
    const length = payload.length + 12;
    const out = new Uint8Array(length);
    const view = new DataView(out.buffer);
    view.setUint32(0, length, true);
    view.setUint32(4, this.#sendSeq++, true);
    out.set(payload, 8);
    view.setUint32(length - 4, crc32(out.subarray(0, length - 4)), true);
    return out;
  }

  /** Takes one payload, checking its sequence number and CRC32. */
  unpack(queue: ByteQueue): Uint8Array | undefined {
    if (queue.length < 4) return undefined;
    const length = new DataView(queue.peek(4).slice().buffer).getUint32(0, true);
    if (length < 12 || length > MAX_FRAME) {
      throw new TransportError(`full frame length ${length} is out of range`);
    }
    if (queue.length < length) {
      queue.reserve(length); // a big frame is gathered in one buffer as it comes
      return undefined;
    }
    const frame = queue.take(length);
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const seq = view.getUint32(4, true);
    if (seq !== this.#receiveSeq) {
      throw new TransportError(`full frame sequence ${seq}, expected ${this.#receiveSeq}`);
    }
    if (view.getUint32(length - 4, true) !== crc32(frame.subarray(0, length - 4))) {
      throw new TransportError(`full frame ${seq} fails its CRC32`);
    }
    this.#receiveSeq++;
    return frame.slice(8, length - 4);
  }
}

/** Writes `header` into the spare bytes just before `payload`: the frame, without a copy. */
function withHeader(payload: Uint8Array, header: Uint8Array): Uint8Array {
  const frame = new Uint8Array(
    payload.buffer,
    payload.byteOffset - header.length,
    header.length + payload.length,
  );
  frame.set(header);
  return frame;
}

/** Creates the framing for a transport kind. */
export function createFraming(kind: TransportKind, random: RandomSource): Framing {
  switch (kind) {
    case "abridged":
      return new AbridgedFraming();
    case "intermediate":
      return new IntermediateFraming();
    case "padded":
      return new IntermediateFraming(random);
    case "full":
      return new FullFraming();
  }
}
