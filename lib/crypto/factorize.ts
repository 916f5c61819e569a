/**
 * Splits the `pq` of `resPQ` (a product of two primes below 2^32) with Pollard's rho in Brent's
 * form, which batches the gcds so that one gcd covers many steps.
 *
 * @module
 */

/**
 * Returns the two factors of `pq`, smaller first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { factorizePq } from "./factorize.ts";
 * assert.deepEqual(factorizePq(0x17ed48941a08f981n), [0x494c553bn, 0x53911073n]);
 * ```
 */
export function factorizePq(pq: bigint): [bigint, bigint] {
  if (pq % 2n === 0n) return [2n, pq / 2n];
  for (let c = 1n;; c++) {
    const factor = brent(pq, c);
    if (factor !== pq && factor !== 1n) {
      const other = pq / factor;
      return factor < other ? [factor, other] : [other, factor];
    }
  }
}

function brent(n: bigint, c: bigint): bigint {
  const batch = 128;
  let y = 2n, x = 2n, saved = 2n, product = 1n, divisor = 1n;
  for (let length = 1; divisor === 1n; length *= 2) {
    x = y;
    for (let i = 0; i < length; i++) y = (y * y + c) % n;
    for (let done = 0; done < length && divisor === 1n; done += batch) {
      saved = y;
      const steps = Math.min(batch, length - done);
      for (let i = 0; i < steps; i++) {
        y = (y * y + c) % n;
        product = (product * (x > y ? x - y : y - x)) % n;
      }
      divisor = gcd(product, n);
    }
  }
  if (divisor === n) {
    // The batch overshot: redo it one step at a time from the saved point.
    do {
      saved = (saved * saved + c) % n;
      divisor = gcd(x > saved ? x - saved : saved - x, n);
    } while (divisor === 1n);
  }
  return divisor;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}
