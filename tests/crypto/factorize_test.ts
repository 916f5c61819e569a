import { assertEquals, assertThrows } from "../assert.ts";
import { factorizePq } from "../../lib/crypto/factorize.ts";
import { isProbablePrime } from "../../lib/crypto/dh.ts";
import { SecurityError } from "../../lib/errors.ts";

Deno.test("a genuine pq splits into its two primes, smaller first", () => {
  // Two primes just under 2^32: the largest pq a server can send, and the slowest to split.
  const p = 4294967291n, q = 4294967279n;
  assertEquals(factorizePq(p * q), [q, p]);
  assertEquals(factorizePq(3n * 4294967291n), [3n, 4294967291n]);
  assertEquals(factorizePq(2n * 1000003n), [2n, 1000003n]);
});

Deno.test("random products of two primes of every size a server may pick split into them", () => {
  const prime = (bits: number) => {
    for (;;) {
      const candidate = BigInt(Math.floor(2 ** (bits - 1) * (1 + Math.random()))) | 1n;
      if (isProbablePrime(candidate)) return candidate;
    }
  };
  for (let i = 0; i < 120; i++) {
    // Mostly the 30-32 bit primes servers send, and lopsided ones a hostile server might.
    const [a, b] = i < 80
      ? [prime(30 + (i % 3)), prime(31 + (i % 2))]
      : [prime(8 + (i % 24)), prime(55 - (i % 24))];
    if (a === b) continue;
    assertEquals(factorizePq(a * b), a < b ? [a, b] : [b, a], `${a} * ${b}`);
  }
});

Deno.test("a hostile pq is refused with a SecurityError instead of looping", () => {
  const hostile: [string, bigint][] = [
    ["zero", 0n],
    ["one", 1n],
    ["a small prime", 7n],
    ["a 63-bit prime", 0x7fffffffffffffe7n],
    ["a prime just under 2^64", 18446744073709551557n],
    ["a square", 4294967291n * 4294967291n],
    ["three factors", 3n * 5n * 7n * 1000003n],
    ["a power of two", 1n << 40n],
    ["wider than 64 bits", (1n << 64n) + 13n],
  ];
  for (const [what, pq] of hostile) {
    const error = assertThrows(() => factorizePq(pq), SecurityError, "resPQ: pq");
    assertEquals(error.message.includes(String(pq)), true, what);
  }
});

Deno.test("the primality test agrees with trial division", () => {
  const trial = (n: number) => {
    if (n < 2) return false;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
    return true;
  };
  for (let n = 0; n < 5000; n++) assertEquals(isProbablePrime(BigInt(n)), trial(n), `${n}`);
  // Carmichael numbers fool a Fermat test, not this one.
  for (const n of [561n, 41041n, 825265n, 3215031751n]) assertEquals(isProbablePrime(n), false);
});
