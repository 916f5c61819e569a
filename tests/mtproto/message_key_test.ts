import { assertEquals } from "../assert.ts";
import { sha256 } from "../../lib/crypto/hash.ts";
import { igeDecrypt, igeEncrypt } from "../../lib/crypto/ige.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { messageAesKeyIv, messageKey } from "../../lib/mtproto/message_key.ts";

const authKey = Uint8Array.from({ length: 256 }, (_, i) => i);

Deno.test("msg_key is bytes 8..24 of SHA-256 over auth_key[88+x..120+x] and the plaintext", () => {
  const plaintext = secureRandom(64);
  assertEquals(
    messageKey(authKey, plaintext, "client"),
    sha256(authKey.slice(88, 120), plaintext).slice(8, 24),
  );
  assertEquals(
    messageKey(authKey, plaintext, "server"),
    sha256(authKey.slice(96, 128), plaintext).slice(8, 24),
  );
});

Deno.test("key and IV interleave the two SHA-256 halves as the 2.0 KDF specifies", () => {
  const msgKey = secureRandom(16);
  const a = sha256(msgKey, authKey.slice(8, 44));
  const b = sha256(authKey.slice(48, 84), msgKey);
  const { key, iv } = messageAesKeyIv(authKey, msgKey, "server");
  assertEquals(key, new Uint8Array([...a.slice(0, 8), ...b.slice(8, 24), ...a.slice(24, 32)]));
  assertEquals(iv, new Uint8Array([...b.slice(0, 8), ...a.slice(8, 24), ...b.slice(24, 32)]));
});

Deno.test("the receiver recomputes the same key from msg_key and decrypts", () => {
  const plaintext = secureRandom(1024);
  const msgKey = messageKey(authKey, plaintext, "client");
  const sender = messageAesKeyIv(authKey, msgKey, "client");
  const encrypted = igeEncrypt(plaintext, sender.key, sender.iv);
  const receiver = messageAesKeyIv(authKey, msgKey, "client");
  const decrypted = igeDecrypt(encrypted, receiver.key, receiver.iv);
  assertEquals(decrypted, plaintext);
  assertEquals(messageKey(authKey, decrypted, "client"), msgKey);
  // The other direction's keys do not open it.
  const wrong = messageAesKeyIv(authKey, msgKey, "server");
  assertEquals(igeDecrypt(encrypted, wrong.key, wrong.iv).toHex() === plaintext.toHex(), false);
});
