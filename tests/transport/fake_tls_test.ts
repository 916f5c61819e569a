// Fake TLS (MTProxy ee secrets), sans-IO: the ClientHello a proxy checks (its HMAC and time at
// offset 11, its SNI, a well-formed TLS record), the server hello a client checks (its HMAC over
// the client's digest and itself; tampering refused), and the application-data records the
// stream travels in.

import { assertEquals, assertThrows } from "../assert.ts";
import { TransportError } from "../../lib/errors.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import {
  buildClientHello,
  checkClientHello,
  DIGEST_OFFSET,
  parseClientHello,
  x25519PublicKey,
} from "../../lib/transport/fake_tls_hello.ts";
import {
  buildServerHello,
  readServerHello,
  serverHelloVerifies,
} from "../../lib/transport/fake_tls_server_hello.ts";
import {
  alertRecord,
  CLIENT_RECORD_PAYLOAD,
  FakeTlsRecordReader,
  FakeTlsRecordWriter,
} from "../../lib/transport/fake_tls_records.ts";

const KEY = Uint8Array.fromHex("00112233445566778899aabbccddeeff");
const NOW = 1_767_225_600;

function hello(domain = "example.com", key = KEY, unixTime = NOW) {
  return buildClientHello({ key, domain, unixTime, random: secureRandom });
}

/** Walks a ClientHello record as a TLS parser would; returns its extension types in order. */
function extensionTypes(record: Uint8Array): number[] {
  const u16 = (at: number) => (record[at] << 8) | record[at + 1];
  assertEquals([...record.subarray(0, 3)], [0x16, 0x03, 0x01]);
  assertEquals(u16(3), record.length - 5, "record length");
  assertEquals(record[5], 0x01, "handshake type ClientHello");
  assertEquals((record[6] << 16) | u16(7), record.length - 9, "handshake length");
  assertEquals([...record.subarray(9, 11)], [0x03, 0x03]);
  let at = 11 + 32;
  at += 1 + record[at]; // session id
  at += 2 + u16(at); // cipher suites
  at += 1 + record[at]; // compression
  const end = at + 2 + u16(at);
  assertEquals(end, record.length, "extensions end the record");
  at += 2;
  const types: number[] = [];
  while (at < end) {
    types.push(u16(at));
    at += 4 + u16(at + 2);
  }
  assertEquals(at, end, "extension lengths add up");
  return types;
}

Deno.test("x25519 public keys match RFC 7748's vectors (the hello's key shares are curve points)", () => {
  const bob = Uint8Array.fromHex(
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
  );
  assertEquals(
    x25519PublicKey(bob).toHex(),
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
  );
});

Deno.test("a ClientHello is a well-formed TLS record, browser-sized, with the SNI domain", () => {
  const record = hello("www.example.org");
  const types = extensionTypes(record);
  // GREASE first and last (0x?a?a), SNI, key share, supported versions among them.
  assertEquals(types[0] & 0x0f0f, 0x0a0a);
  assertEquals(types.at(-1)! & 0x0f0f, 0x0a0a);
  for (const needed of [0x0000, 0x0033, 0x002b, 0x0010, 0xfe0d]) {
    assertEquals(types.includes(needed), true, `extension 0x${needed.toString(16)}`);
  }
  // Proxies take a handshake record of 512 bytes or more as TLS.
  assertEquals(record.length >= 517, true);
  assertEquals(parseClientHello(record).domain, "www.example.org");
  assertEquals(parseClientHello(record).sessionId.length, 32);
});

Deno.test("the ClientHello's digest is the HMAC of the hello with the time XORed into its last 4 bytes", () => {
  const record = hello();
  const checked = checkClientHello(record, KEY)!;
  assertEquals(checked.unixTime, NOW);
  assertEquals(checked.domain, "example.com");
  assertEquals(checked.digest, record.slice(DIGEST_OFFSET, DIGEST_OFFSET + 32));
  // Another key did not sign it; a changed byte anywhere breaks it.
  assertEquals(checkClientHello(record, new Uint8Array(16)), undefined);
  const tampered = record.slice();
  tampered[200] ^= 1;
  assertEquals(checkClientHello(tampered, KEY), undefined);
  // The time is only in the last 4 bytes: another time, the same first 28.
  const later = checkClientHello(hello("example.com", KEY, NOW + 5), KEY)!;
  assertEquals(later.unixTime, NOW + 5);
});

Deno.test("no two ClientHellos are alike: fresh randomness, shuffled extensions", () => {
  const hellos = Array.from({ length: 8 }, () => hello());
  assertEquals(new Set(hellos.map((record) => record.toHex())).size, 8);
  assertEquals(new Set(hellos.map((record) => extensionTypes(record).join())).size > 1, true);
});

Deno.test("a server hello verifies against the client's digest and the secret only", () => {
  const client = checkClientHello(hello(), KEY)!;
  const answer = buildServerHello({
    key: KEY,
    clientDigest: client.digest,
    sessionId: client.sessionId,
    random: secureRandom,
  });
  const trailing = Uint8Array.of(0x17, 0x03, 0x03, 0x00, 0x01, 0x42);
  const progress = readServerHello(new Uint8Array([...answer, ...trailing]));
  if (progress.status !== "complete") throw new Error(`not complete: ${progress.status}`);
  assertEquals(progress.answer, answer);
  assertEquals(progress.rest, trailing);
  assertEquals(serverHelloVerifies(answer, client.digest, KEY), true);
  // The session id is echoed, as TLS 1.3 servers in compatibility mode do.
  assertEquals(answer.subarray(44, 76), client.sessionId);
  // Another secret, another client digest (a replayed answer), a tampered byte: refused.
  assertEquals(serverHelloVerifies(answer, client.digest, new Uint8Array(16)), false);
  assertEquals(serverHelloVerifies(answer, new Uint8Array(32), KEY), false);
  for (const at of [0, 20, 60, answer.length - 1]) {
    const tampered = answer.slice();
    tampered[at] ^= 0x80;
    const read = readServerHello(tampered);
    assertEquals(
      read.status === "complete" && serverHelloVerifies(read.answer, client.digest, KEY),
      false,
      `byte ${at} changed`,
    );
  }
});

Deno.test("a server's answer is read whole however it is split, and alerts and other protocols are told apart", () => {
  const client = checkClientHello(hello(), KEY)!;
  const answer = buildServerHello({
    key: KEY,
    clientDigest: client.digest,
    sessionId: client.sessionId,
    random: secureRandom,
  });
  // Every prefix is incomplete, and says how much more at least is needed.
  for (let length = 0; length < answer.length; length += 1 + (length % 37)) {
    const progress = readServerHello(answer.subarray(0, length));
    if (progress.status !== "incomplete") throw new Error(`${length}: ${progress.status}`);
    assertEquals(progress.missing >= 1 && length + progress.missing <= answer.length, true);
  }
  assertEquals(readServerHello(alertRecord(40)), { status: "alert", description: 40 });
  assertEquals(readServerHello(new TextEncoder().encode("HTTP/1.1 400")).status, "invalid");
  const noChangeCipherSpec = answer.slice();
  noChangeCipherSpec[5 + ((answer[3] << 8) | answer[4])] = 0x17;
  assertEquals(readServerHello(noChangeCipherSpec).status, "invalid");
});

Deno.test("records: any stream crosses whole in records of at most the apps' size, the first after ChangeCipherSpec", () => {
  const writer = new FakeTlsRecordWriter(CLIENT_RECORD_PAYLOAD, true);
  const reader = new FakeTlsRecordReader();
  const sent = [1, 2877, 2878, 2879, 70_000, 64].map((size) => secureRandom(size));
  const wire = sent.map((bytes) => writer.pack(bytes));
  assertEquals([...wire[0].subarray(0, 6)], [0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
  assertEquals(wire[1][0], 0x17, "only the first write has ChangeCipherSpec");
  // Every record: type 0x17, version 3.3, at most 2878 bytes.
  const all = new Uint8Array(wire.reduce((sum, bytes) => sum + bytes.length, 0));
  wire.reduce((at, bytes) => (all.set(bytes, at), at + bytes.length), 0);
  for (let at = 6; at < all.length;) {
    assertEquals([...all.subarray(at, at + 3)], [0x17, 0x03, 0x03]);
    const length = (all[at + 3] << 8) | all[at + 4];
    assertEquals(length >= 1 && length <= CLIENT_RECORD_PAYLOAD, true);
    at += 5 + length;
  }
  // Read back in uneven pieces.
  const received: number[] = [];
  for (let at = 0; at < all.length;) {
    const size = 1 + (secureRandom(2)[0] * 7);
    received.push(...reader.unpack(all.slice(at, at + size)));
    at += size;
  }
  assertEquals(new Uint8Array(received), new Uint8Array(sent.flatMap((bytes) => [...bytes])));
  assertEquals(writer.pack(new Uint8Array(0)).length, 0);
});

Deno.test("records: an alert, another record type or version, or an oversized record is a TransportError", () => {
  assertThrows(
    () => new FakeTlsRecordReader().unpack(alertRecord(40)),
    TransportError,
    "handshake_failure",
  );
  assertThrows(
    () => new FakeTlsRecordReader().unpack(Uint8Array.of(0x16, 3, 3, 0, 1, 0)),
    TransportError,
    "type 0x16",
  );
  assertThrows(
    () => new FakeTlsRecordReader().unpack(Uint8Array.of(0x17, 3, 1, 0, 1, 0)),
    TransportError,
    "version",
  );
  assertThrows(
    () => new FakeTlsRecordReader().unpack(Uint8Array.of(0x17, 3, 3, 0xff, 0xff)),
    TransportError,
    "too large",
  );
});
