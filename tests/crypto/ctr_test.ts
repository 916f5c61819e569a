import { createCipheriv } from "node:crypto";
import { assertEquals, assertThrows } from "../assert.ts";
import {
  AesCtr,
  KEEP_NATIVE_AFTER,
  NATIVE_FROM,
  NATIVE_FROM_UNKEPT,
} from "../../lib/crypto/ctr.ts";
import { secureRandom } from "../../lib/crypto/random.ts";

const hex = (text: string) => Uint8Array.fromHex(text);

/** node:crypto's AES-CTR over the whole buffer in one call: the reference. */
function reference(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createCipheriv(`aes-${key.length * 8}-ctr`, key, iv).update(data));
}

/** Pseudo-random piece lengths (seeded) that sum to `total`, mixing tiny, odd and large pieces. */
function pieceLengths(total: number, seed: number): number[] {
  const lengths: number[] = [];
  let state = seed;
  for (let left = total; left > 0;) {
    state = (state * 1103515245 + 12345) >>> 0;
    const sizes = [1, 3, 15, 16, 17, 31, 333, 4096 + 5, 20000 + 7];
    const length = Math.min(left, sizes[state % sizes.length] + (state >>> 24) % 5);
    lengths.push(length);
    left -= length;
  }
  return lengths;
}

Deno.test("AES-CTR in pieces of odd lengths equals one call over the whole buffer", () => {
  for (const keyLength of [32, 16]) {
    const key = secureRandom(keyLength), iv = secureRandom(16);
    const data = secureRandom(100_000);
    const expected = reference(key, iv, data);
    for (const seed of [1, 2, 3]) {
      const stream = new AesCtr(key, iv);
      const out = new Uint8Array(data.length);
      let at = 0;
      for (const length of pieceLengths(data.length, seed)) {
        out.set(stream.process(data.subarray(at, at + length)), at);
        at += length;
      }
      assertEquals(out, expected);
    }
  }
});

Deno.test("AES-CTR works in place and on misaligned views, chunk by chunk", () => {
  const key = secureRandom(32), iv = secureRandom(16);
  // Longer than the aligned scratch that misaligned views go through.
  const data = secureRandom(70_000);
  const expected = reference(key, iv, data);

  const inPlace = data.slice();
  const stream = new AesCtr(key, iv);
  let at = 0;
  for (const length of pieceLengths(data.length, 7)) {
    const piece = inPlace.subarray(at, at + length);
    assertEquals(stream.process(piece, piece) === piece, true);
    at += length;
  }
  assertEquals(inPlace, expected);

  // Input and output misaligned, by different amounts, in one call and in pieces.
  const source = new Uint8Array(data.length + 1);
  source.set(data, 1);
  const target = new Uint8Array(data.length + 3).subarray(3);
  new AesCtr(key, iv).process(source.subarray(1), target);
  assertEquals(target, expected);
  const pieces = new AesCtr(key, iv);
  target.fill(0);
  at = 0;
  for (const length of pieceLengths(data.length, 9)) {
    pieces.process(source.subarray(1 + at, 1 + at + length), target.subarray(at, at + length));
    at += length;
  }
  assertEquals(target, expected);
});

Deno.test("AES-CTR carries the 128-bit big-endian counter across every word", () => {
  const key = secureRandom(32), data = secureRandom(7 + 300 + NATIVE_FROM_UNKEPT + 5);
  // Pieces of 7, 300 and the rest: the carry lands in the 300 (made in TypeScript) three blocks
  // from the IV, and in the rest (made natively) 32 blocks from it.
  for (
    const high of [
      "000102030405060708090a",
      "0001020304050607ffffff",
      "00010203ffffffffffffff",
      "ffffffffffffffffffffff",
    ]
  ) {
    for (const low of ["fffffffd", "ffffffe0"]) {
      const iv = hex(high + "ff" + low);
      const stream = new AesCtr(key, iv);
      const pieces = [data.subarray(0, 7), data.subarray(7, 307), data.subarray(307)];
      const out = new Uint8Array(pieces.flatMap((piece) => [...stream.process(piece)]));
      assertEquals(out, reference(key, iv, data), high + low);
    }
  }
});

Deno.test("a stream that has moved a file's worth of bytes keeps the same keystream", () => {
  const key = secureRandom(32), iv = secureRandom(16);
  const data = secureRandom(KEEP_NATIVE_AFTER + 200_000);
  const expected = reference(key, iv, data);
  const stream = new AesCtr(key, iv);
  const out = new Uint8Array(data.length);
  // Big pieces first (native, until the stream keeps its cipher), then pieces from just under to
  // well over the kept cipher's threshold, at odd offsets.
  const lengths = [65536 + 3, ...Array(16).fill(65536), 1, NATIVE_FROM - 1, NATIVE_FROM + 17];
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const length = Math.min(lengths[i] ?? NATIVE_FROM + 5 * i, data.length - at);
    out.set(stream.process(data.subarray(at, at + length)), at);
    at += length;
  }
  assertEquals(out, expected);
});

Deno.test("AES-CTR rejects a bad IV and an output shorter than its input", () => {
  assertThrows(() => new AesCtr(new Uint8Array(32), new Uint8Array(8)), RangeError, "16-byte IV");
  const stream = new AesCtr(new Uint8Array(32), new Uint8Array(16));
  assertThrows(() => stream.process(new Uint8Array(20), new Uint8Array(19)), RangeError, "output");
});
