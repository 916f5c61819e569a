import { assertEquals } from "../assert.ts";
import { bigintFromBytes, fixedBasePow, modPow } from "../../lib/crypto/bigint.ts";
import { TELEGRAM_DH_PRIME } from "../../lib/crypto/dh.ts";
import { secureRandom } from "../../lib/crypto/random.ts";

/** Square-and-multiply, bit by bit: slow and plainly right. */
function reference(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  base %= modulus;
  for (; exponent > 0n; exponent >>= 1n) {
    if (exponent & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
  }
  return result % modulus;
}

Deno.test("g^x under a DH prime agrees with square-and-multiply for exponents of every length", () => {
  for (let length = 0; length <= 257; length += 7) {
    const exponent = bigintFromBytes(secureRandom(length));
    for (const g of [2n, 3n, 7n]) {
      assertEquals(
        modPow(g, exponent, TELEGRAM_DH_PRIME),
        reference(g, exponent, TELEGRAM_DH_PRIME),
      );
    }
  }
  // Exponents with long runs of equal digits: all zeros but the top, all ones.
  for (const exponent of [1n << 2047n, (1n << 2048n) - 1n, 0n, 1n, 64n]) {
    assertEquals(
      modPow(3n, exponent, TELEGRAM_DH_PRIME),
      reference(3n, exponent, TELEGRAM_DH_PRIME),
    );
  }
});

Deno.test("fixed-base tables for many bases and moduli give right answers after the cache turns over", () => {
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 12; i++) {
      const modulus = bigintFromBytes(secureRandom(40)) | 1n;
      const exponent = bigintFromBytes(secureRandom(48));
      const base = BigInt(2 + i);
      assertEquals(fixedBasePow(base, exponent, modulus), reference(base, exponent, modulus));
    }
  }
  assertEquals(fixedBasePow(5n, 10n, 1n), 0n);
});

Deno.test("modPow with big bases, small moduli and the edge cases", () => {
  const modulus = bigintFromBytes(secureRandom(256)) | 1n;
  const base = bigintFromBytes(secureRandom(256));
  const exponent = bigintFromBytes(secureRandom(256));
  assertEquals(modPow(base, exponent, modulus), reference(base, exponent, modulus));
  assertEquals(modPow(4n, 13n, 497n), 445n);
  assertEquals(modPow(-3n, 3n, 7n), reference(4n, 3n, 7n));
  assertEquals(modPow(9n, 0n, 7n), 1n);
  assertEquals(modPow(9n, 5n, 1n), 0n);
});
