/**
 * The server's half of the fake-TLS handshake (MTProxy `ee` secrets), sans-IO: the answer to a
 * signed ClientHello — a ServerHello record, a ChangeCipherSpec record and one application-data
 * record of random bytes standing in for the encrypted certificate — whose ServerHello random is
 * HMAC-SHA256(secret, client digest ‖ the whole answer with that random zeroed); and the client's
 * reading and check of that answer, before it sends any byte of MTProto.
 *
 * @module
 */

import type { RandomSource } from "../crypto/random.ts";
import {
  concatBytes,
  DIGEST_LENGTH,
  DIGEST_OFFSET,
  hmacSha256,
  lengthPrefixed,
  x25519PublicKey,
} from "./fake_tls_hello.ts";
import { CHANGE_CIPHER_SPEC, RECORD_ALERT } from "./fake_tls_records.ts";

/** The answer's fixed starts: the ServerHello record, then ChangeCipherSpec and app data. */
const HANDSHAKE_START = Uint8Array.of(0x16, 0x03, 0x03);
const AFTER_HELLO = concatBytes(CHANGE_CIPHER_SPEC, Uint8Array.of(0x17, 0x03, 0x03));

/** The longest answer a client waits for (a real one is a few KiB). */
export const MAX_SERVER_HELLO = 64 * 1024;

/**
 * Builds the answer to a ClientHello that `key` signed: TLS 1.3 with TLS_AES_128_GCM_SHA256, an
 * X25519 key share, the client's session id echoed, and 1–4 KiB of random "encrypted" data.
 */
export function buildServerHello(
  options: {
    key: Uint8Array;
    clientDigest: Uint8Array;
    sessionId: Uint8Array;
    random: RandomSource;
  },
): Uint8Array {
  const { key, random } = options;
  const extensions = concatBytes(
    Uint8Array.of(0x00, 0x33, 0x00, 0x24, 0x00, 0x1d),
    lengthPrefixed(x25519PublicKey(random(32))),
    Uint8Array.of(0x00, 0x2b, 0x00, 0x02, 0x03, 0x04),
  );
  const hello = concatBytes(
    Uint8Array.of(0x03, 0x03),
    new Uint8Array(DIGEST_LENGTH),
    lengthPrefixed(options.sessionId, 1),
    Uint8Array.of(0x13, 0x01, 0x00),
    lengthPrefixed(extensions),
  );
  const sizeBytes = random(2);
  const fakeDataLength = 1024 + (((sizeBytes[0] << 8) | sizeBytes[1]) % 3072);
  const answer = concatBytes(
    HANDSHAKE_START,
    lengthPrefixed(concatBytes(Uint8Array.of(0x02), lengthPrefixed(hello, 3))),
    AFTER_HELLO,
    lengthPrefixed(random(fakeDataLength)),
  );
  answer.set(hmacSha256(key, options.clientDigest, answer), DIGEST_OFFSET);
  return answer;
}

/** How far the bytes received after a ClientHello go towards a server's answer. */
export type ServerHelloProgress =
  /** Not all of it yet: at least `missing` more bytes are needed. */
  | { status: "incomplete"; missing: number }
  /** The whole answer, and the bytes that came after it (records already). */
  | { status: "complete"; answer: Uint8Array; rest: Uint8Array }
  /** A TLS alert instead: the server refused the hello. */
  | { status: "alert"; description: number }
  /** Something that is not the answer of a fake-TLS server. */
  | { status: "invalid"; reason: string };

/**
 * Reads a server's answer from the bytes received so far: a handshake record, then the
 * ChangeCipherSpec record and an application-data record, as MTProxy servers answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readServerHello } from "./fake_tls_server_hello.ts";
 * assert.equal(readServerHello(Uint8Array.of(0x16, 3)).status, "incomplete");
 * assert.equal(readServerHello(Uint8Array.of(0x15, 3, 3, 0, 2, 2, 40)).status, "alert");
 * ```
 */
export function readServerHello(received: Uint8Array): ServerHelloProgress {
  let at = 0;
  for (const start of [HANDSHAKE_START, AFTER_HELLO]) {
    const available = Math.min(start.length, received.length - at);
    if (at === 0 && available >= 1 && received[0] === RECORD_ALERT) {
      if (received.length < 7) return { status: "incomplete", missing: 7 - received.length };
      return { status: "alert", description: received[6] };
    }
    for (let i = 0; i < available; i++) {
      if (received[at + i] !== start[i]) {
        return {
          status: "invalid",
          reason: at === 0
            ? `its first bytes ${hex(received.subarray(0, 3))} are not a TLS 1.2+ handshake record`
            : "its server hello is not followed by ChangeCipherSpec and application data",
        };
      }
    }
    if (received.length < at + start.length + 2) {
      return { status: "incomplete", missing: at + start.length + 2 - received.length };
    }
    at += start.length;
    const length = (received[at] << 8) | received[at + 1];
    at += 2 + length;
    if (at > MAX_SERVER_HELLO) {
      return { status: "invalid", reason: `its answer is longer than ${MAX_SERVER_HELLO} bytes` };
    }
    if (received.length < at) return { status: "incomplete", missing: at - received.length };
  }
  if (at < DIGEST_OFFSET + DIGEST_LENGTH + 9) {
    return { status: "invalid", reason: "its server hello is too short to carry a digest" };
  }
  return { status: "complete", answer: received.slice(0, at), rest: received.slice(at) };
}

/**
 * True when `answer` (from {@link readServerHello}) carries the HMAC of the client's digest and
 * itself, under the secret's 16-byte `key`: only a server holding the secret can make it.
 */
export function serverHelloVerifies(
  answer: Uint8Array,
  clientDigest: Uint8Array,
  key: Uint8Array,
): boolean {
  const zeroed = answer.slice();
  zeroed.fill(0, DIGEST_OFFSET, DIGEST_OFFSET + DIGEST_LENGTH);
  const expected = hmacSha256(key, clientDigest, zeroed);
  let difference = 0;
  for (let i = 0; i < DIGEST_LENGTH; i++) difference |= expected[i] ^ answer[DIGEST_OFFSET + i];
  return difference === 0;
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join(" ");
}
