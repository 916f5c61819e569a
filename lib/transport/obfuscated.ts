/**
 * Obfuscated2: a 64-byte header that carries AES-256-CTR keys for both directions, the inner
 * framing's tag and the DC id, after which every byte is encrypted, so that the stream looks
 * random. Used around abridged, intermediate or padded intermediate framing. Through an MTProxy
 * the header's key bytes are mixed with the proxy's 16-byte secret: each direction's key is then
 * SHA-256(key bytes ‖ secret), so that only holders of the secret can read the stream.
 *
 * @module
 */

import { TransportError } from "../errors.ts";
import { AesCtr } from "../crypto/ctr.ts";
import { sha256 } from "../crypto/hash.ts";
import type { RandomSource } from "../crypto/random.ts";
import { OBFUSCATION_TAGS, type TransportKind } from "./framing.ts";

/** The two keystreams of one side of an obfuscated connection. */
export interface ObfuscationStreams {
  /** Encrypts what this side sends. */
  send: AesCtr;
  /** Decrypts what this side receives. */
  receive: AesCtr;
}

// First words a header must not start with, lest it look like another protocol or transport:
// "HEAD", "POST", "GET ", "OPTI", a TLS record start, and the plain transports' markers.
const FORBIDDEN_FIRST_WORDS = new Set([
  0x44414548,
  0x54534f50,
  0x20544547,
  0x4954504f,
  0x02010316,
  0xdddddddd,
  0xeeeeeeee,
]);

/**
 * A keystream from 48 header bytes (32 of key, 16 of IV); with an MTProxy `secret`, the key is
 * SHA-256(key bytes ‖ secret).
 */
function keystream(keyAndIv: Uint8Array, secret: Uint8Array | undefined): AesCtr {
  const key = keyAndIv.subarray(0, 32);
  return new AesCtr(secret ? sha256(key, secret) : key, keyAndIv.subarray(32, 48));
}

/**
 * Builds a client's header: random bytes, with the framing tag at 56 and the DC id at 60, of
 * which bytes 56..64 are sent encrypted. Returns the header and this client's keystreams (the
 * sending one has already consumed the header's 64 bytes). With an MTProxy's 16-byte `secret`
 * the keys are derived with it, and `dcId` is the signed DC id the proxy routes by (negative for
 * a media connection, +10000 for a test DC).
 */
export function createObfuscationHeader(
  kind: Exclude<TransportKind, "full">,
  dcId: number,
  random: RandomSource,
  secret?: Uint8Array,
): { header: Uint8Array } & ObfuscationStreams {
  let init: Uint8Array;
  for (;;) {
    init = random(64);
    const view = new DataView(init.buffer, init.byteOffset, 64);
    if (init[0] === 0xef) continue;
    if (FORBIDDEN_FIRST_WORDS.has(view.getUint32(0, true))) continue;
    if (view.getUint32(4, true) === 0) continue;
    view.setUint32(56, OBFUSCATION_TAGS[kind], true);
    view.setInt16(60, dcId, true);
    break;
  }
  const reversed = init.slice().reverse();
  const send = keystream(init.subarray(8, 56), secret);
  const receive = keystream(reversed.subarray(8, 56), secret);
  const encrypted = send.process(init);
  const header = init.slice();
  header.set(encrypted.subarray(56, 64), 56);
  return { header, send, receive };
}

/**
 * Reads a client's header on the server side: derives the keystreams (mirrored; with an MTProxy's
 * `secret`, as the client derived them with it), decrypts the tag and DC id, and refuses an
 * unknown tag — which is also what a header made with another secret decrypts to.
 */
export function acceptObfuscationHeader(
  header: Uint8Array,
  secret?: Uint8Array,
): { kind: Exclude<TransportKind, "full">; dcId: number } & ObfuscationStreams {
  if (header.length !== 64) throw new TransportError("obfuscation header must be 64 bytes");
  const reversed = header.slice().reverse();
  const receive = keystream(header.subarray(8, 56), secret);
  const send = keystream(reversed.subarray(8, 56), secret);
  const decrypted = receive.process(header);
  const view = new DataView(decrypted.buffer);
  const tag = view.getUint32(56, true);
  const kind = (Object.keys(OBFUSCATION_TAGS) as Exclude<TransportKind, "full">[]).find((name) =>
    OBFUSCATION_TAGS[name] === tag
  );
  if (!kind) throw new TransportError(`obfuscation header has unknown tag 0x${tag.toString(16)}`);
  return { kind, dcId: view.getInt16(60, true), send, receive };
}
