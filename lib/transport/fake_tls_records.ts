/**
 * The record layer of fake TLS (MTProxy `ee` secrets), sans-IO: once the hellos are exchanged,
 * the obfuscated MTProto stream travels as the payload of TLS application-data records (type
 * 0x17, version 0x0303), which is all a network observer sees of it. The client's first record
 * is preceded by a ChangeCipherSpec record, as a TLS 1.3 client in middlebox-compatibility mode
 * sends one.
 *
 * @module
 */

import { TransportError } from "../errors.ts";
import { ByteQueue } from "./byte_queue.ts";

/** Largest payload of a client's record: the size Telegram's apps (TDLib) cut their stream to. */
export const CLIENT_RECORD_PAYLOAD = 2878;

/** Largest payload of a server's record (TLS's plaintext limit, as proxies send). */
export const SERVER_RECORD_PAYLOAD = 16384;

/** Largest record payload accepted: TLS's ciphertext limit (2^14 + 2048), never more. */
export const MAX_RECORD_PAYLOAD = 16384 + 2048;

/** Record content types. */
export const RECORD_HANDSHAKE = 0x16;
export const RECORD_CHANGE_CIPHER_SPEC = 0x14;
export const RECORD_ALERT = 0x15;
export const RECORD_APPLICATION_DATA = 0x17;

/** The ChangeCipherSpec record a client sends before its first application-data record. */
export const CHANGE_CIPHER_SPEC = Uint8Array.of(0x14, 0x03, 0x03, 0x00, 0x01, 0x01);

/** Names of the TLS alerts a refusing server is likely to send (RFC 8446 §6). */
const ALERT_NAMES: Record<number, string> = {
  0: "close_notify",
  10: "unexpected_message",
  20: "bad_record_mac",
  40: "handshake_failure",
  42: "bad_certificate",
  47: "illegal_parameter",
  50: "decode_error",
  51: "decrypt_error",
  70: "protocol_version",
  80: "internal_error",
  86: "inappropriate_fallback",
  109: "missing_extension",
  112: "unrecognized_name",
};

/** An alert description by name, e.g. `handshake_failure (40)`. */
export function alertName(description: number): string {
  return `${ALERT_NAMES[description] ?? "alert"} (${description})`;
}

/** A fatal alert record (TLS 1.2 framing, as servers send before the handshake completes). */
export function alertRecord(description: number): Uint8Array {
  return Uint8Array.of(RECORD_ALERT, 0x03, 0x03, 0x00, 0x02, 0x02, description);
}

/**
 * Cuts a byte stream into application-data records of at most `maxPayload` bytes each; the
 * client's writer puts the ChangeCipherSpec record before the first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakeTlsRecordReader, FakeTlsRecordWriter } from "./fake_tls_records.ts";
 * const writer = new FakeTlsRecordWriter(4, true);
 * const wire = writer.pack(Uint8Array.of(1, 2, 3, 4, 5));
 * assert.deepEqual([...wire.subarray(0, 6)], [0x14, 3, 3, 0, 1, 1]);
 * assert.deepEqual([...new FakeTlsRecordReader().unpack(wire)], [1, 2, 3, 4, 5]);
 * ```
 */
export class FakeTlsRecordWriter {
  #first: boolean;

  /** Records of at most `maxPayload` bytes; `client` puts the ChangeCipherSpec record first. */
  constructor(readonly maxPayload: number, client: boolean) {
    if (maxPayload < 1 || maxPayload > MAX_RECORD_PAYLOAD) {
      throw new RangeError(`a record payload must be 1..${MAX_RECORD_PAYLOAD} bytes`);
    }
    this.#first = client;
  }

  /** The records carrying `bytes` (none for no bytes). */
  pack(bytes: Uint8Array): Uint8Array {
    const records = Math.ceil(bytes.length / this.maxPayload);
    const prefix = this.#first && records > 0 ? CHANGE_CIPHER_SPEC.length : 0;
    const out = new Uint8Array(prefix + records * 5 + bytes.length);
    if (prefix) {
      out.set(CHANGE_CIPHER_SPEC);
      this.#first = false;
    }
    let at = prefix;
    for (let offset = 0; offset < bytes.length; offset += this.maxPayload) {
      const part = bytes.subarray(offset, offset + this.maxPayload);
      out[at] = RECORD_APPLICATION_DATA;
      out[at + 1] = 0x03;
      out[at + 2] = 0x03;
      out[at + 3] = part.length >> 8;
      out[at + 4] = part.length & 0xff;
      out.set(part, at + 5);
      at += 5 + part.length;
    }
    return out;
  }
}

/**
 * Takes the payloads out of received records: application data is handed on in order,
 * ChangeCipherSpec records are skipped, an alert or anything else that is not a TLS 1.2/1.3
 * record is a {@link TransportError}.
 */
export class FakeTlsRecordReader {
  readonly #queue = new ByteQueue();

  /** Feeds received bytes; returns the payload bytes now whole (possibly none). */
  unpack(chunk: Uint8Array): Uint8Array {
    this.#queue.push(chunk);
    const parts: Uint8Array[] = [];
    let total = 0;
    while (this.#queue.length >= 5) {
      const header = this.#queue.peek(5);
      const type = header[0];
      const length = (header[3] << 8) | header[4];
      if (header[1] !== 0x03 || header[2] !== 0x03) {
        throw new TransportError(
          `fake TLS: a record of version ${header[1]}.${header[2]}, not 3.3`,
        );
      }
      if (length > MAX_RECORD_PAYLOAD) {
        throw new TransportError(`fake TLS: a record of ${length} bytes is too large`);
      }
      if (this.#queue.length < 5 + length) break;
      this.#queue.skip(5);
      const payload = this.#queue.take(length);
      if (type === RECORD_APPLICATION_DATA) {
        parts.push(payload);
        total += payload.length;
      } else if (type === RECORD_ALERT) {
        throw new TransportError(
          `fake TLS: the peer sent an alert${
            length >= 2 ? `: ${alertName(payload[1])}` : ""
          } and ended the stream`,
        );
      } else if (type !== RECORD_CHANGE_CIPHER_SPEC) {
        throw new TransportError(`fake TLS: an unexpected record of type 0x${type.toString(16)}`);
      }
    }
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}
