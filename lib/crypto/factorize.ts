/**
 * Splits the `pq` of `resPQ` (a product of two primes below 2^32) with Pollard's rho in Brent's
 * form, which batches the gcds so that one gcd covers many steps.
 *
 * `resPQ` travels unencrypted, so anyone on the path can send any `pq`: a prime or a unit would
 * make an unbounded search loop for ever. The value is checked before and after, and the search
 * has a step budget, so a hostile `pq` costs a few milliseconds and a {@link SecurityError}.
 *
 * @module
 */

import { SecurityError } from "../errors.ts";
import { isProbablePrime } from "./dh.ts";

/** Rho steps allowed in all; a genuine pq of 64 bits needs a few tens of thousands. */
const STEP_BUDGET = 1 << 19;

/**
 * Returns the two factors of `pq`, smaller first; throws {@link SecurityError} unless `pq` is
 * the product of two distinct primes that fits in 64 bits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { factorizePq } from "./factorize.ts";
 * assert.deepEqual(factorizePq(0x17ed48941a08f981n), [0x494c553bn, 0x53911073n]);
 * assert.throws(() => factorizePq(0x7fffffffffffffe7n), /prime/); // a prime cannot be split
 * ```
 */
export function factorizePq(pq: bigint): [bigint, bigint] {
  if (pq < 6n || pq >= 1n << 64n) {
    throw new SecurityError(`resPQ: pq ${pq} is not a product of two primes of at most 64 bits`);
  }
  if (isProbablePrime(pq)) throw new SecurityError(`resPQ: pq ${pq} is prime`);
  const budget = { steps: STEP_BUDGET };
  let factor = pq % 2n === 0n ? 2n : 1n;
  for (let c = 1n; factor === 1n || factor === pq; c++) {
    if (budget.steps <= 0) {
      throw new SecurityError(`resPQ: pq ${pq} could not be factorized within the step budget`);
    }
    factor = brent(pq, c, budget);
  }
  const other = pq / factor;
  const [p, q] = factor < other ? [factor, other] : [other, factor];
  if (p * q !== pq || p === q || !isProbablePrime(p) || !isProbablePrime(q)) {
    throw new SecurityError(`resPQ: pq ${pq} is not a product of two distinct primes`);
  }
  return [p, q];
}

/** One rho walk with constant `c`; returns a divisor of n (1 or n when the walk failed). */
function brent(n: bigint, c: bigint, budget: { steps: number }): bigint {
  const batch = 128;
  let y = 2n, x = 2n, saved = 2n, product = 1n, divisor = 1n;
  for (let length = 1; divisor === 1n; length *= 2) {
    if (budget.steps <= 0) return 1n;
    budget.steps -= 2 * length;
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
    for (let i = 0; i < batch; i++) {
      saved = (saved * saved + c) % n;
      divisor = gcd(x > saved ? x - saved : saved - x, n);
      if (divisor !== 1n) return divisor;
    }
    return n;
  }
  return divisor;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}
