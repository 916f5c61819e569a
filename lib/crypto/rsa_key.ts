/**
 * RSA public keys as PEM text: reading (PKCS#1 or SPKI) and writing (PKCS#1). Apart from rsa.ts,
 * whose hashing loads `node:crypto`, so that checking a `--server` line before `serve` listens
 * loads nothing heavy.
 *
 * @module
 */

import { SecurityError } from "../errors.ts";
import { bigintFromBytes } from "./bigint.ts";

/** An RSA public key. */
export interface RsaPublicKey {
  n: bigint;
  e: bigint;
}

const RSA_ENCRYPTION_OID = "2a864886f70d010101";

/**
 * Parses a PEM public key: `BEGIN RSA PUBLIC KEY` (PKCS#1) or `BEGIN PUBLIC KEY` (SPKI).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePublicKeyPem } from "./rsa_key.ts";
 * import { TELEGRAM_PUBLIC_KEYS } from "./public_keys.ts";
 * assert.equal(parsePublicKeyPem(TELEGRAM_PUBLIC_KEYS.production[0]).e, 65537n);
 * ```
 */
export function parsePublicKeyPem(pem: string): RsaPublicKey {
  // serve reads the same key from every session line: the last text's key is kept (one entry).
  if (lastParsed?.pem === pem) return { n: lastParsed.key.n, e: lastParsed.key.e };
  const key = readPublicKeyPem(pem);
  lastParsed = { pem, key: { n: key.n, e: key.e } };
  return key;
}

let lastParsed: { pem: string; key: RsaPublicKey } | undefined;

function readPublicKeyPem(pem: string): RsaPublicKey {
  const match = /-----BEGIN ((?:RSA )?PUBLIC KEY)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!match) throw new SecurityError("not a PEM public key (BEGIN RSA PUBLIC KEY or PUBLIC KEY)");
  let der: Uint8Array;
  try {
    der = Uint8Array.fromBase64(match[2].replace(/\s+/g, ""));
  } catch {
    throw new SecurityError("PEM public key: the body is not base64");
  }
  const reader = new DerReader(der);
  if (match[1] === "PUBLIC KEY") {
    const spki = new DerReader(reader.read(0x30));
    const algorithm = new DerReader(spki.read(0x30));
    if (algorithm.read(0x06).toHex() !== RSA_ENCRYPTION_OID) {
      throw new SecurityError("PEM public key: not an RSA key");
    }
    const bitString = spki.read(0x03);
    return readPkcs1(new DerReader(bitString.subarray(1)));
  }
  return readPkcs1(reader);
}

function readPkcs1(reader: DerReader): RsaPublicKey {
  const sequence = new DerReader(reader.read(0x30));
  return { n: bigintFromBytes(sequence.read(0x02)), e: bigintFromBytes(sequence.read(0x02)) };
}

/** Just enough DER to read RSA public keys. */
class DerReader {
  #offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  read(tag: number): Uint8Array {
    const bytes = this.bytes;
    if (bytes[this.#offset] !== tag) {
      throw new SecurityError(
        `PEM public key: expected DER tag ${tag}, got ${bytes[this.#offset]}`,
      );
    }
    let length = bytes[this.#offset + 1];
    let header = 2;
    if (length & 0x80) {
      const count = length & 0x7f;
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + bytes[this.#offset + 2 + i];
      header += count;
    }
    const start = this.#offset + header;
    if (start + length > bytes.length) throw new SecurityError("PEM public key: truncated DER");
    this.#offset = start + length;
    return bytes.subarray(start, start + length);
  }
}

/**
 * Serializes a public key as PKCS#1 PEM (`BEGIN RSA PUBLIC KEY`), the form Telegram publishes.
 * Built as hex text and decoded once, and the last key's text kept: `serve` writes the server's
 * key into every session object it answers (a session line's load among them), and the byte
 * arrays spread into arrays this was before cost ~66 KB of garbage per call, a quarter of what a
 * connection allocated while it connected through `serve`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePublicKeyPem, publicKeyToPem } from "./rsa_key.ts";
 * const pem = publicKeyToPem({ n: 3233n, e: 17n });
 * assert.equal(pem, "-----BEGIN RSA PUBLIC KEY-----\nMAcCAgyhAgER\n-----END RSA PUBLIC KEY-----\n");
 * assert.deepEqual(parsePublicKeyPem(pem), { n: 3233n, e: 17n });
 * ```
 */
export function publicKeyToPem(key: RsaPublicKey): string {
  // Every connection of a serve names the same server's key, as a new object parsed from its
  // session line: the last key's text is kept by value (two bigint compares), one entry only, so
  // that keys a client makes up cost nothing kept.
  if (lastPem && lastPem.n === key.n && lastPem.e === key.e) return lastPem.text;
  const base64 = Uint8Array.fromHex(derHex(0x30, integerHex(key.n) + integerHex(key.e)))
    .toBase64();
  let body = base64.slice(0, 64);
  for (let at = 64; at < base64.length; at += 64) body += "\n" + base64.slice(at, at + 64);
  const text = `-----BEGIN RSA PUBLIC KEY-----\n${body}\n-----END RSA PUBLIC KEY-----\n`;
  lastPem = { n: key.n, e: key.e, text };
  return text;
}

let lastPem: { n: bigint; e: bigint; text: string } | undefined;

/** A DER INTEGER of a non-negative value, as hex: a leading zero byte keeps it positive. */
function integerHex(value: bigint): string {
  let hex = value.toString(16);
  if (hex.length % 2) hex = "0" + hex;
  if (hex.charCodeAt(0) >= 0x38) hex = "00" + hex; // "8" and above: the top bit is set
  return derHex(0x02, hex);
}

/** A DER element of `tag` around `content` (hex), its length in the short or long form. */
function derHex(tag: number, content: string): string {
  const length = content.length / 2;
  const header = length < 128
    ? [tag, length]
    : length < 256
    ? [tag, 0x81, length]
    : [tag, 0x82, length >> 8, length & 0xff];
  return header.map((byte) => byte.toString(16).padStart(2, "0")).join("") + content;
}
