import { assertEquals, assertThrows } from "../assert.ts";
import { SecurityError } from "../../lib/errors.ts";
import {
  checkDhParameters,
  checkDhPublicValue,
  isProbablePrime,
  TELEGRAM_DH_PRIME,
} from "../../lib/crypto/dh.ts";
import { modPow } from "../../lib/crypto/bigint.ts";
import { factorizePq } from "../../lib/crypto/factorize.ts";

const p = TELEGRAM_DH_PRIME;

Deno.test("Telegram's prime is a 2048-bit safe prime and g = 3 generates its subgroup", () => {
  assertEquals(p.toString(2).length, 2048);
  assertEquals(isProbablePrime(p) && isProbablePrime((p - 1n) / 2n), true);
  checkDhParameters(p, 3);
  // g generates the subgroup of prime order (p-1)/2 exactly when it is a quadratic residue.
  assertEquals(modPow(3n, (p - 1n) / 2n, p), 1n);
});

Deno.test("bad primes and generators are refused", () => {
  assertThrows(() => checkDhParameters(p >> 1n, 3), SecurityError, "not a 2048-bit number");
  assertThrows(() => checkDhParameters(p + 2n, 3), SecurityError, "not a safe prime");
  for (const g of [0, 1, 2, 8]) {
    assertThrows(() => checkDhParameters(p, g), SecurityError, `g = ${g}`);
  }
});

Deno.test("DH public values outside the safe range are refused", () => {
  const edge = 1n << 1984n;
  for (const value of [0n, 1n, p - 1n, p, edge - 1n, p - edge + 1n, 2n ** 1000n]) {
    assertThrows(() => checkDhPublicValue(value, p, "g_a"), SecurityError, "g_a");
  }
  checkDhPublicValue(modPow(3n, 2n ** 2000n + 12345n, p), p, "g_a");
  checkDhPublicValue(edge, p, "g_b");
});

Deno.test("pq from the docs' auth key example splits into its p and q", () => {
  assertEquals(factorizePq(0x17ed48941a08f981n), [0x494c553bn, 0x53911073n]);
});

Deno.test("63-bit products of two 31/32-bit primes factor correctly", () => {
  const primes = [2147483647n, 4294967291n, 3037000493n, 2654435761n, 1073741827n, 4294967279n];
  for (let i = 0; i < primes.length; i++) {
    for (let j = i + 1; j < primes.length; j++) {
      const [small, large] = primes[i] < primes[j]
        ? [primes[i], primes[j]]
        : [primes[j], primes[i]];
      assertEquals(factorizePq(small * large), [small, large]);
    }
  }
});
