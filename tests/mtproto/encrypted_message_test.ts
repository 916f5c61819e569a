import { assertEquals, assertThrows } from "../assert.ts";
import { SecurityError } from "../../lib/errors.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import {
  decryptMessage,
  encryptMessage,
  makeAuthKey,
} from "../../lib/mtproto/encrypted_message.ts";
import { MessageIdGenerator } from "../../lib/mtproto/message_id.ts";
import { messageAesKeyIv, messageKey } from "../../lib/mtproto/message_key.ts";
import { igeEncrypt } from "../../lib/crypto/ige.ts";
import { packPlainMessage, unpackPlainMessage } from "../../lib/mtproto/plain_message.ts";

const authKey = makeAuthKey(secureRandom(256));
const header = { salt: -5n, sessionId: 0x1234567890abcdefn, messageId: 7n << 32n, seqNo: 3 };

Deno.test("a message encrypted by one side decrypts on the other, padding 12..1024 bytes", () => {
  for (const size of [0, 4, 16, 100, 1000, 4096]) {
    const body = secureRandom(size);
    const sealed = encryptMessage(authKey, header, body, "client", secureRandom, 256);
    assertEquals((sealed.length - 24) % 16, 0);
    const opened = decryptMessage(authKey, sealed, "client");
    assertEquals(opened, { ...header, body });
  }
});

Deno.test("trailing transport padding after the ciphertext is ignored", () => {
  const body = secureRandom(40);
  const sealed = encryptMessage(authKey, header, body, "server", secureRandom);
  const padded = new Uint8Array([...sealed, ...secureRandom(7)]);
  assertEquals(decryptMessage(authKey, padded, "server").body, body);
});

Deno.test("every tampering is refused: msg_key, auth_key_id, ciphertext, direction, length", () => {
  const sealed = encryptMessage(authKey, header, secureRandom(64), "client", secureRandom);
  const flip = (index: number) => {
    const copy = sealed.slice();
    copy[index] ^= 1;
    return copy;
  };
  assertThrows(
    () => decryptMessage(authKey, flip(3), "client"),
    SecurityError,
    "unknown auth_key_id",
  );
  assertThrows(() => decryptMessage(authKey, flip(10), "client"), SecurityError, "msg_key");
  assertThrows(() => decryptMessage(authKey, flip(60), "client"), SecurityError, "msg_key");
  assertThrows(() => decryptMessage(authKey, sealed, "server"), SecurityError, "msg_key");
  assertThrows(
    () => decryptMessage(makeAuthKey(secureRandom(256)), sealed, "client"),
    SecurityError,
    "auth_key_id",
  );
  assertThrows(
    () => decryptMessage(authKey, sealed.subarray(0, 40), "client"),
    SecurityError,
    "too short",
  );
});

/** Seals a hand-made plaintext with a correct msg_key, as only a holder of the auth key could. */
function seal(plaintext: Uint8Array): Uint8Array {
  const msgKey = messageKey(authKey.key, plaintext, "client");
  const { key, iv } = messageAesKeyIv(authKey.key, msgKey, "client");
  return new Uint8Array([...authKey.id, ...msgKey, ...igeEncrypt(plaintext, key, iv)]);
}

Deno.test("a declared body length that leaves padding outside 12..1024 is refused", () => {
  const plaintext = secureRandom(32 + 64 + 16);
  const view = new DataView(plaintext.buffer);
  view.setUint32(28, 64, true);
  assertEquals(
    decryptMessage(authKey, seal(plaintext), "client").body.length,
    64,
    "16 bytes of padding: fine",
  );
  view.setUint32(28, 72, true);
  assertThrows(
    () => decryptMessage(authKey, seal(plaintext), "client"),
    SecurityError,
    "8 bytes of padding",
  );
  view.setUint32(28, 4000, true);
  assertThrows(
    () => decryptMessage(authKey, seal(plaintext), "client"),
    SecurityError,
    "not 12..1024",
  );
  const long = secureRandom(32 + 16 + 1040);
  new DataView(long.buffer).setUint32(28, 16, true);
  assertThrows(
    () => decryptMessage(authKey, seal(long), "client"),
    SecurityError,
    "1040 bytes of padding",
  );
});

Deno.test("plain messages carry msg_id and length; a bad header is refused", () => {
  const packed = packPlainMessage(99n << 32n, Uint8Array.of(1, 2, 3, 4));
  assertEquals(unpackPlainMessage(packed), {
    messageId: 99n << 32n,
    body: Uint8Array.of(1, 2, 3, 4),
  });
  const wrongLength = packed.slice();
  wrongLength[16] = 200;
  assertThrows(() => unpackPlainMessage(wrongLength), SecurityError, "claims 200 bytes");
  const notPlain = packed.slice();
  notPlain[0] = 1;
  assertThrows(() => unpackPlainMessage(notPlain), SecurityError);
});

Deno.test("msg_ids increase strictly, follow the server clock, and have the side's residue", () => {
  let now = 1_700_000_000_000;
  const client = new MessageIdGenerator(() => now, "client");
  const server = new MessageIdGenerator(() => now, "server");
  const ids = Array.from({ length: 1000 }, () => client.next());
  assertEquals(ids.every((id, i) => id % 4n === 0n && (i === 0 || id > ids[i - 1])), true);
  assertEquals(server.next(true) % 4n, 1n);
  assertEquals(server.next(false) % 4n, 3n);
  client.synchronize(1_700_003_600); // the server is an hour ahead
  now += 1;
  assertEquals(client.next() >> 32n, 1_700_003_600n);
  client.synchronize(1_699_996_400); // and now an hour behind: ids still increase
  const after = client.next();
  assertEquals(after > ids[ids.length - 1], true);
});

Deno.test("in place, a message decrypts into its own payload, at any offset of its buffer", () => {
  for (const [size, offset] of [[0, 0], [100, 4], [4096, 1], [300_000, 7]]) {
    const body = secureRandom(size);
    const sealed = encryptMessage(authKey, header, body, "server", secureRandom);
    // As a transport hands it over: a view into a bigger read buffer, not always word-aligned.
    const buffer = new Uint8Array(offset + sealed.length + 5);
    buffer.set(sealed, offset);
    const payload = buffer.subarray(offset, offset + sealed.length);
    const opened = decryptMessage(authKey, payload, "server", { inPlace: true });
    assertEquals(opened, { ...header, body });
    if (offset % 4 === 0) assertEquals(opened.body.buffer, buffer.buffer);
    // The bytes around the payload are left alone.
    assertEquals(buffer.subarray(offset + sealed.length), new Uint8Array(5));
  }
});

Deno.test("without inPlace, the payload is left as it was (it may be read again)", () => {
  const sealed = encryptMessage(authKey, header, secureRandom(64), "client", secureRandom);
  const before = sealed.slice();
  decryptMessage(authKey, sealed, "client");
  assertEquals(sealed, before);
  assertEquals(decryptMessage(authKey, sealed, "client").seqNo, header.seqNo);
});

Deno.test("headroom leaves spare bytes before the message, whose bytes are the same", () => {
  const body = secureRandom(1000);
  const sealed = encryptMessage(authKey, header, body, "server", secureRandom, 0, 4);
  assertEquals(sealed.byteOffset, 4);
  assertEquals(sealed.buffer.byteLength, 4 + sealed.length);
  assertEquals(decryptMessage(authKey, sealed, "server"), { ...header, body });
});
