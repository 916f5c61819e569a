import { createCipheriv, createDecipheriv } from "node:crypto";
import { assertEquals, assertThrows } from "../assert.ts";
import { AES_ROUNDS_PATH, aesRoundsSource } from "../../scripts/generate_aes_rounds.ts";
import { igeDecrypt, igeEncrypt } from "../../lib/crypto/ige.ts";
import { secureRandom } from "../../lib/crypto/random.ts";

const hex = (text: string) => Uint8Array.fromHex(text);

// The AES-IGE test vectors published with the mode's description (and in OpenSSL's igetest).
const VECTORS = [
  {
    key: "000102030405060708090a0b0c0d0e0f",
    iv: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    plain: "0000000000000000000000000000000000000000000000000000000000000000",
    cipher: "1a8519a6557be652e9da8e43da4ef4453cf456b4ca488aa383c79c98b34797cb",
  },
  {
    key: "5468697320697320616e20696d706c65",
    iv: "6d656e746174696f6e206f6620494745206d6f646520666f72204f70656e5353",
    plain: "99706487a1cde613bc6de0b6f24b1c7aa448c8b9c3403e3467a8cad89340f53b",
    cipher: "4c2e204c6574277320686f70652042656e20676f74206974207269676874210a",
  },
];

Deno.test("AES-IGE matches the published test vectors both ways", () => {
  for (const vector of VECTORS) {
    const encrypted = igeEncrypt(hex(vector.plain), hex(vector.key), hex(vector.iv));
    assertEquals(encrypted.toHex(), vector.cipher);
    assertEquals(
      igeDecrypt(hex(vector.cipher), hex(vector.key), hex(vector.iv)).toHex(),
      vector.plain,
    );
  }
});

/** IGE built by hand on node:crypto's AES-256-ECB, one block at a time: an independent reference. */
function referenceIge(
  data: Uint8Array,
  key: Uint8Array,
  iv: Uint8Array,
  encrypt: boolean,
): Uint8Array {
  const out = new Uint8Array(data.length);
  let x = iv.slice(encrypt ? 0 : 16, encrypt ? 16 : 32);
  let y = iv.slice(encrypt ? 16 : 0, encrypt ? 32 : 16);
  for (let i = 0; i < data.length; i += 16) {
    const block = data.slice(i, i + 16);
    const mixed = block.map((byte, j) => byte ^ x[j]);
    const cipher = encrypt
      ? createCipheriv("aes-256-ecb", key, null).setAutoPadding(false)
      : createDecipheriv("aes-256-ecb", key, null).setAutoPadding(false);
    const transformed = new Uint8Array(cipher.update(mixed));
    x = transformed.map((byte, j) => byte ^ y[j]);
    out.set(x, i);
    y = block;
  }
  return out;
}

Deno.test("AES-256-IGE agrees with node:crypto's AES-256-ECB chained by hand on random data", () => {
  for (const length of [16, 32, 1024, 4096 + 48]) {
    const key = secureRandom(32), iv = secureRandom(32), data = secureRandom(length);
    const encrypted = igeEncrypt(data, key, iv);
    assertEquals(encrypted, referenceIge(data, key, iv, true));
    assertEquals(igeDecrypt(encrypted, key, iv), data);
    assertEquals(referenceIge(encrypted, key, iv, false), data);
  }
});

Deno.test("IGE works on unaligned views and rejects partial blocks", () => {
  const key = secureRandom(32), iv = secureRandom(32);
  const backing = secureRandom(33);
  const unaligned = backing.subarray(1);
  assertEquals(igeEncrypt(unaligned, key, iv), igeEncrypt(unaligned.slice(), key, iv));
  assertThrows(() => igeEncrypt(new Uint8Array(15), key, iv), RangeError, "multiple of 16");
});

Deno.test("IGE writes into a caller's array, in place or misaligned, with the same bytes", () => {
  const key = secureRandom(32), iv = secureRandom(32), data = secureRandom(4096 + 48);
  const encrypted = referenceIge(data, key, iv, true);
  for (const direction of ["encrypt", "decrypt"] as const) {
    const [from, to] = direction === "encrypt" ? [data, encrypted] : [encrypted, data];
    const run = direction === "encrypt" ? igeEncrypt : igeDecrypt;
    const inPlace = from.slice();
    assertEquals(run(inPlace, key, iv, inPlace) === inPlace, true);
    assertEquals(inPlace, to);
    const misaligned = new Uint8Array(from.length + 3).subarray(3);
    run(from, key, iv, misaligned);
    assertEquals(misaligned, to);
  }
  assertThrows(() => igeEncrypt(data, key, iv, new Uint8Array(16)), RangeError, "output");
});

Deno.test("AES-128 blocks (the published IGE vectors' key size) agree with node:crypto", () => {
  const key = secureRandom(16), data = secureRandom(16 * 64), iv = new Uint8Array(32);
  // With a zero IV, IGE's first block is plain ECB; the chain then checks the rest.
  const expected = new Uint8Array(16 * 64);
  let x = new Uint8Array(16), y = new Uint8Array(16);
  for (let i = 0; i < data.length; i += 16) {
    const block = data.slice(i, i + 16);
    const mixed = block.map((byte, j) => byte ^ x[j]);
    const cipher = createCipheriv("aes-128-ecb", key, null).setAutoPadding(false);
    x = new Uint8Array(cipher.update(mixed)).map((byte, j) => byte ^ y[j]);
    expected.set(x, i);
    y = block;
  }
  assertEquals(igeEncrypt(data, key, iv), expected);
  assertEquals(igeDecrypt(expected, key, iv), data);
});

Deno.test("the unrolled AES rounds are exactly what their generator writes", async () => {
  const committed = await Deno.readTextFile(new URL(`../../${AES_ROUNDS_PATH}`, import.meta.url));
  assertEquals(committed, aesRoundsSource());
});
