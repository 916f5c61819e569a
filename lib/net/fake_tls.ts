/**
 * Fake TLS for MTProxy `ee` secrets, over a connection to the proxy: the ClientHello goes out,
 * the server's answer is read and its HMAC checked before a byte of MTProto is written (a
 * refusal or an answer that does not verify is a `ProxyError`, see proxy_handshake.ts); then
 * what is written goes out in application-data records and what arrives is taken out of them.
 *
 * @module
 */

import type { RandomSource } from "../crypto/random.ts";
import type { Clock } from "../io/clock.ts";
import { buildClientHello, DIGEST_LENGTH, DIGEST_OFFSET } from "../transport/fake_tls_hello.ts";
import {
  alertName,
  CLIENT_RECORD_PAYLOAD,
  FakeTlsRecordReader,
  FakeTlsRecordWriter,
} from "../transport/fake_tls_records.ts";
import { readServerHello, serverHelloVerifies } from "../transport/fake_tls_server_hello.ts";
import type { ProxyHandshake } from "./proxy_handshake.ts";
import type { ByteConnection } from "./tcp_connection.ts";

/** What the hello needs. */
export interface FakeTlsHelloOptions {
  /** The secret's 16 bytes. */
  key: Uint8Array;
  /** The SNI domain of the secret. */
  domain: string;
  random: RandomSource;
  /** The wall time in the hello's digest. */
  clock: Clock;
}

/**
 * Sends a fresh ClientHello through `handshake` (connected to the proxy) and reads the answer;
 * resolves once it verifies. Refusals (a TLS alert, an answer that does not verify, one that is
 * not a fake-TLS server's) throw `ProxyError` at the greeting step.
 */
export async function fakeTlsHello(
  handshake: ProxyHandshake,
  options: FakeTlsHelloOptions,
): Promise<void> {
  handshake.enter("greeting", `did not answer the fake-TLS hello for ${options.domain}`);
  const hello = buildClientHello({
    key: options.key,
    domain: options.domain,
    unixTime: Math.floor(options.clock.wall() / 1000),
    random: options.random,
  });
  const clientDigest = hello.slice(DIGEST_OFFSET, DIGEST_OFFSET + DIGEST_LENGTH);
  await handshake.write(hello);
  let received = await handshake.read(5);
  for (;;) {
    const progress = readServerHello(received);
    switch (progress.status) {
      case "incomplete": {
        const more = await handshake.read(progress.missing);
        const joined = new Uint8Array(received.length + more.length);
        joined.set(received);
        joined.set(more, received.length);
        received = joined;
        continue;
      }
      case "complete":
        if (!serverHelloVerifies(progress.answer, clientDigest, options.key)) {
          throw handshake.refused(
            "its fake-TLS server hello does not verify (HMAC-SHA256 with the secret): a wrong " +
              "secret, or not an MTProxy",
          );
        }
        return;
      case "alert":
        throw handshake.refused(
          `it refused the fake-TLS hello for ${options.domain} with a TLS alert, ${
            alertName(progress.description)
          }: a wrong secret or domain, or a clock too far off`,
        );
      case "invalid":
        throw handshake.refused(
          `it did not answer the fake-TLS hello as an MTProxy: ${progress.reason}`,
        );
    }
  }
}

/**
 * `connection` (past a verified hello) in application-data records: writes are cut into records
 * of at most the apps' size, the first after a ChangeCipherSpec record; reads are the records'
 * payloads (a TLS alert or a record that is not TLS fails the read with a TransportError).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fakeTlsRecords } from "./fake_tls.ts";
 * const written: Uint8Array[] = [];
 * const records = fakeTlsRecords({
 *   readable: (async function* () {
 *     yield Uint8Array.of(0x17, 3, 3, 0, 2, 7, 8);
 *   })(),
 *   write: (bytes) => Promise.resolve(void written.push(bytes)),
 *   close() {},
 * });
 * await records.write(Uint8Array.of(1));
 * assert.deepEqual([...written[0]], [0x14, 3, 3, 0, 1, 1, 0x17, 3, 3, 0, 1, 1]);
 * for await (const chunk of records.readable) assert.deepEqual([...chunk], [7, 8]);
 * ```
 */
export function fakeTlsRecords(connection: ByteConnection): ByteConnection {
  const records = new FakeTlsRecordWriter(CLIENT_RECORD_PAYLOAD, true);
  return {
    readable: (async function* () {
      const reader = new FakeTlsRecordReader();
      for await (const chunk of connection.readable) {
        const payload = reader.unpack(chunk);
        if (payload.length) yield payload;
      }
    })(),
    write: (bytes) => connection.write(records.pack(bytes)),
    close: () => connection.close(),
  };
}
