/**
 * The client's half of the fake-TLS handshake (MTProxy `ee` secrets), sans-IO: a ClientHello
 * shaped like a current Chrome's (GREASE values, shuffled extensions, an X25519MLKEM768 and an
 * X25519 key share, a GREASE ECH extension, the proxy's domain as SNI) whose 32-byte random is
 * HMAC-SHA256(secret, hello) with the Unix time XORed into its last 4 bytes; and the server side's
 * check of such a hello. The random sits at offset 11: record header (5), handshake type (1) and
 * length (3), version (2).
 *
 * @module
 */

import { createHmac } from "node:crypto";
import type { RandomSource } from "../crypto/random.ts";

/** Where the hello's random (the digest) starts and how long it is. */
export const DIGEST_OFFSET = 11;
export const DIGEST_LENGTH = 32;

/** The longest domain a hello carries (it must keep the hello's lengths in range). */
export const MAX_DOMAIN_LENGTH = 182;

/** HMAC-SHA256 of the concatenation of `parts` under `key`. */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const hmac = createHmac("sha256", key);
  for (const part of parts) hmac.update(part);
  const digest = hmac.digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/** The concatenation of `parts`. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** `body` after its length in `size` big-endian bytes (TLS vectors). */
export function lengthPrefixed(body: Uint8Array, size: 1 | 2 | 3 = 2): Uint8Array {
  const out = new Uint8Array(size + body.length);
  for (let i = 0; i < size; i++) out[i] = (body.length >> (8 * (size - 1 - i))) & 0xff;
  out.set(body, size);
  return out;
}

/** An extension: its type and its length-prefixed body. */
function extension(type: number, body: Uint8Array | number[]): Uint8Array {
  return concatBytes(Uint8Array.of(type >> 8, type & 0xff), lengthPrefixed(Uint8Array.from(body)));
}

const P25519 = (1n << 255n) - 19n;

function mod(value: bigint): bigint {
  const rest = value % P25519;
  return rest < 0n ? rest + P25519 : rest;
}

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  for (base = mod(base); exponent > 0n; exponent >>= 1n) {
    if (exponent & 1n) result = (result * base) % P25519;
    base = (base * base) % P25519;
  }
  return result;
}

/**
 * The X25519 public key of a 32-byte private key (RFC 7748's ladder on the base point 9), so
 * that the hello's key shares are real curve points, as a browser's are. Not constant-time: the
 * keys are never used for a key agreement.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { x25519PublicKey } from "./fake_tls_hello.ts";
 * // RFC 7748 section 6.1, Alice.
 * const key = Uint8Array.fromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
 * assert.equal(x25519PublicKey(key).toHex(), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
 * ```
 */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  const clamped = privateKey.slice(0, 32);
  clamped[0] &= 248;
  clamped[31] = (clamped[31] & 127) | 64;
  let k = 0n;
  for (let i = 31; i >= 0; i--) k = (k << 8n) | BigInt(clamped[i]);
  let [x2, z2, x3, z3] = [1n, 0n, 9n, 1n];
  let swapped = 0n;
  for (let bit = 254n; bit >= 0n; bit--) {
    const set = (k >> bit) & 1n;
    if (swapped !== set) [x2, x3, z2, z3] = [x3, x2, z3, z2];
    swapped = set;
    const a = x2 + z2, b = x2 - z2, c = x3 + z3, d = x3 - z3;
    const aa = mod(a * a), bb = mod(b * b), e = aa - bb;
    const da = mod(d * a), cb = mod(c * b);
    x3 = mod((da + cb) ** 2n);
    z3 = mod(9n * mod((da - cb) ** 2n));
    x2 = mod(aa * bb);
    z2 = mod(e * (aa + 121665n * e));
  }
  if (swapped) [x2, z2] = [x3, z3];
  let x = mod(x2 * modPow(z2, P25519 - 2n));
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, x >>= 8n) out[i] = Number(x & 0xffn);
  return out;
}

/**
 * An ML-KEM-768 encapsulation key's shape: 768 coefficients below 3329, 12 bits each, then 32
 * bytes of seed. Only its look matters: nothing is ever encapsulated to it.
 */
function mlKem768Share(random: RandomSource): Uint8Array {
  const out = new Uint8Array(1184);
  const words = random(768 * 4);
  const view = new DataView(words.buffer, words.byteOffset, words.byteLength);
  for (let pair = 0; pair < 384; pair++) {
    const a = view.getUint32(pair * 8, true) % 3329;
    const b = view.getUint32(pair * 8 + 4, true) % 3329;
    out[pair * 3] = a & 0xff;
    out[pair * 3 + 1] = (a >> 8) | ((b & 0x0f) << 4);
    out[pair * 3 + 2] = b >> 4;
  }
  out.set(random(32), 1152);
  return out;
}

/** Five GREASE values (RFC 8701: 0x?A?A), the two extension ones different from each other. */
function greaseValues(random: RandomSource): number[] {
  const values = [...random(5)].map((byte) => ((byte & 0xf0) | 0x0a) * 0x101);
  if (values[2] === values[3]) values[3] ^= 0x1010;
  return values;
}

/** Shuffles in place (Fisher–Yates) with `random`. */
function shuffle<T>(items: T[], random: RandomSource): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const word = random(4);
    const j = (((word[0] << 24) | (word[1] << 16) | (word[2] << 8) | word[3]) >>> 0) % (i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

const u16 = (value: number) => [value >> 8, value & 0xff];

/** Chrome's cipher suites, after a GREASE one. */
const CIPHER_SUITES = [
  0x1301,
  0x1302,
  0x1303,
  0xc02b,
  0xc02f,
  0xc02c,
  0xc030,
  0xcca9,
  0xcca8,
  0xc013,
  0xc014,
  0x009c,
  0x009d,
  0x002f,
  0x0035,
];

/** Signature algorithms as Chrome lists them. */
const SIGNATURE_ALGORITHMS = [
  0x0403,
  0x0804,
  0x0401,
  0x0503,
  0x0805,
  0x0501,
  0x0806,
  0x0601,
];

/** ALPN protocol names, each after its length: "h2", then "http/1.1". */
const ALPN_H2 = [0x02, 0x68, 0x32];
const ALPN_H2_HTTP11 = [...ALPN_H2, 0x08, ...new TextEncoder().encode("http/1.1")];

/**
 * Builds the ClientHello record for an MTProxy `ee` secret: `key` is the secret's 16 bytes,
 * `domain` its SNI, `unixTime` the client's wall time in seconds (XORed into the digest's last 4
 * bytes, little-endian). Every call draws fresh randomness: no two hellos are alike.
 */
export function buildClientHello(
  options: { key: Uint8Array; domain: string; unixTime: number; random: RandomSource },
): Uint8Array {
  const { key, random } = options;
  const domain = new TextEncoder().encode(options.domain);
  if (domain.length === 0 || domain.length > MAX_DOMAIN_LENGTH) {
    throw new RangeError(`a fake-TLS domain must be 1..${MAX_DOMAIN_LENGTH} bytes`);
  }
  const grease = greaseValues(random);
  const x25519 = () => x25519PublicKey(random(32));
  const echPayload = 144 + 32 * (random(1)[0] & 3);
  const extensions = shuffle([
    extension(0x0000, lengthPrefixed(concatBytes(Uint8Array.of(0), lengthPrefixed(domain)))),
    extension(0x0005, [0x01, 0, 0, 0, 0]),
    extension(
      0x000a,
      lengthPrefixed(Uint8Array.from([grease[1], 0x11ec, 0x001d, 0x0017, 0x0018].flatMap(u16))),
    ),
    extension(0x000b, [0x01, 0x00]),
    extension(0x000d, lengthPrefixed(Uint8Array.from(SIGNATURE_ALGORITHMS.flatMap(u16)))),
    extension(0x0010, lengthPrefixed(Uint8Array.from(ALPN_H2_HTTP11))),
    extension(0x0012, []),
    extension(0x0017, []),
    extension(0x001b, [0x02, 0x00, 0x02]),
    extension(0x0023, []),
    extension(0x002b, [0x06, ...u16(grease[4]), 0x03, 0x04, 0x03, 0x03]),
    extension(0x002d, [0x01, 0x01]),
    extension(
      0x0033,
      lengthPrefixed(concatBytes(
        Uint8Array.of(...u16(grease[1]), 0x00, 0x01, 0x00),
        Uint8Array.of(0x11, 0xec),
        lengthPrefixed(concatBytes(mlKem768Share(random), x25519())),
        Uint8Array.of(0x00, 0x1d),
        lengthPrefixed(x25519()),
      )),
    ),
    extension(0x44cd, lengthPrefixed(Uint8Array.from(ALPN_H2))),
    extension(
      0xfe0d,
      concatBytes(
        Uint8Array.of(0x00, 0x00, 0x01, 0x00, 0x01),
        random(1),
        lengthPrefixed(random(32)),
        lengthPrefixed(random(echPayload)),
      ),
    ),
    extension(0xff01, [0x00]),
  ], random);
  const body = (padding: Uint8Array[]) =>
    concatBytes(
      Uint8Array.of(0x03, 0x03),
      new Uint8Array(DIGEST_LENGTH),
      lengthPrefixed(random(32), 1),
      lengthPrefixed(Uint8Array.from([grease[0], ...CIPHER_SUITES].flatMap(u16))),
      Uint8Array.of(0x01, 0x00),
      lengthPrefixed(concatBytes(
        extension(grease[2], []),
        ...extensions,
        extension(grease[3], [0x00]),
        ...padding,
      )),
    );
  let hello = body([]);
  // Hellos shorter than 512 bytes get a padding extension, as browsers pad theirs.
  if (hello.length + 9 < 517) {
    hello = body([extension(0x0015, new Uint8Array(Math.max(0, 517 - 9 - 4 - hello.length)))]);
  }
  const record = concatBytes(
    Uint8Array.of(0x16, 0x03, 0x01),
    lengthPrefixed(concatBytes(Uint8Array.of(0x01), lengthPrefixed(hello, 3))),
  );
  const digest = hmacSha256(key, record);
  const view = new DataView(digest.buffer, digest.byteOffset, DIGEST_LENGTH);
  view.setUint32(28, (view.getUint32(28, true) ^ options.unixTime) >>> 0, true);
  record.set(digest, DIGEST_OFFSET);
  return record;
}

/** What a server learns from a ClientHello that its secret signed. */
export interface CheckedClientHello {
  /** The 32 bytes at offset 11, as sent: the server hello's HMAC covers them. */
  digest: Uint8Array;
  /** The client's Unix time, from the digest. */
  unixTime: number;
  /** The legacy session id, echoed in the server hello. */
  sessionId: Uint8Array;
  /** The SNI host name, when the hello has one. */
  domain?: string;
}

/**
 * Checks a whole ClientHello record (`16 03 01 len …`) against a 16-byte key: the digest must be
 * the HMAC of the hello (digest zeroed) in all but its last 4 bytes, which hold the time.
 * Returns undefined when `key` did not sign it; a malformed hello throws RangeError.
 */
export function checkClientHello(
  record: Uint8Array,
  key: Uint8Array,
): CheckedClientHello | undefined {
  if (record.length < DIGEST_OFFSET + DIGEST_LENGTH + 1 || record[0] !== 0x16) {
    throw new RangeError("not a TLS handshake record");
  }
  const digest = record.slice(DIGEST_OFFSET, DIGEST_OFFSET + DIGEST_LENGTH);
  const zeroed = record.slice();
  zeroed.fill(0, DIGEST_OFFSET, DIGEST_OFFSET + DIGEST_LENGTH);
  const expected = hmacSha256(key, zeroed);
  let difference = 0;
  for (let i = 0; i < 28; i++) difference |= expected[i] ^ digest[i];
  if (difference !== 0) return undefined;
  const time = new DataView(expected.buffer, expected.byteOffset, 32).getUint32(28, true) ^
    new DataView(digest.buffer, digest.byteOffset, 32).getUint32(28, true);
  const { sessionId, domain } = parseClientHello(record);
  return { digest, unixTime: time >>> 0, sessionId, ...(domain !== undefined ? { domain } : {}) };
}

/** The session id and SNI host name of a ClientHello record; RangeError when malformed. */
export function parseClientHello(record: Uint8Array): { sessionId: Uint8Array; domain?: string } {
  let at = 9 + 2 + DIGEST_LENGTH;
  const need = (count: number) => {
    if (at + count > record.length) throw new RangeError("a truncated ClientHello");
  };
  const u16At = (offset: number) => (record[offset] << 8) | record[offset + 1];
  need(1);
  const sessionLength = record[at];
  need(1 + sessionLength);
  const sessionId = record.slice(at + 1, at + 1 + sessionLength);
  at += 1 + sessionLength;
  need(2);
  at += 2 + u16At(at); // cipher suites
  need(1);
  at += 1 + record[at]; // compression methods
  need(2);
  const end = at + 2 + u16At(at);
  at += 2;
  if (end > record.length) throw new RangeError("a truncated ClientHello");
  while (at + 4 <= end) {
    const type = u16At(at);
    const length = u16At(at + 2);
    at += 4;
    need(length);
    if (type === 0x0000 && length >= 5) {
      // server_name_list: its length, then one entry of type 0 (host_name) and its length.
      const nameLength = u16At(at + 3);
      if (record[at + 2] === 0 && 5 + nameLength <= length) {
        const domain = new TextDecoder().decode(record.subarray(at + 5, at + 5 + nameLength));
        return { sessionId, domain };
      }
    }
    at += length;
  }
  return { sessionId };
}
