/**
 * Splits the `pq` of `resPQ` (a product of two primes below 2^32) with Shanks' square forms
 * (SQUFOF, in floating point: 0.3-0.7x the time of the bigint rho walk on a genuine pq), and
 * Pollard's rho in Brent's form, which batches the gcds so that one gcd covers many steps, where
 * that finds nothing within its budget.
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

/** SQUFOF steps allowed before the rho walk takes over; a genuine pq needs about 70 000. */
const SQUFOF_BUDGET = 1 << 19;

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
  let factor = pq % 2n === 0n ? 2n : squfof(pq, { steps: SQUFOF_BUDGET });
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

/** Multipliers k for SQUFOF on kN: squarefree products of small odd primes, as usual. */
const MULTIPLIERS = [1, 3, 5, 7, 11, 15, 21, 33, 35, 55, 77, 105, 165, 231, 385, 1155];

/** Which residues mod 64, 63, 65 and 11 squares can have: most non-squares skip Math.sqrt. */
const SQUARE_RESIDUES = [64, 63, 65, 11].map((modulus) => {
  const table = new Uint8Array(modulus);
  for (let i = 0; i < modulus; i++) table[(i * i) % modulus] = 1;
  return table;
});
const [SQUARES_64, SQUARES_63, SQUARES_65, SQUARES_11] = SQUARE_RESIDUES;

/**
 * Shanks' square forms factorization: about N^(1/4) steps of arithmetic on numbers below
 * 2√(kN) (under 2^44 for a 64-bit N and the largest k), which a double holds exactly, so a step
 * is a few floating-point operations instead of a rho step's 64-bit bigint products: a genuine pq
 * splits in about two thirds of the rho walk's time. Returns a factor, or 1 when none was found
 * within `budget` (the rho walk then takes over).
 */
function squfof(n: bigint, budget: { steps: number }): bigint {
  const root = isqrt(n);
  if (root * root === n) return root;
  for (const k of MULTIPLIERS) {
    if (budget.steps <= 0) return 1n;
    const d = BigInt(k) * n;
    const p0 = Number(isqrt(d));
    let q = Number(d - BigInt(p0) * BigInt(p0));
    if (q === 0) continue;
    let p = p0, previousQ = 1;
    const limit = Math.min(budget.steps, 6 * Math.floor(Math.sqrt(2 * Math.sqrt(Number(d)))));
    // Forward, two steps a turn, until the form at an even step is a square.
    let r = -1, i = 2;
    for (; i < limit; i += 2) {
      let b = Math.floor((p0 + p) / q);
      let nextP = b * q - p;
      let nextQ = previousQ + b * (p - nextP);
      if (
        SQUARES_64[nextQ % 64] && SQUARES_63[nextQ % 63] && SQUARES_65[nextQ % 65] &&
        SQUARES_11[nextQ % 11]
      ) {
        const s = Math.round(Math.sqrt(nextQ));
        if (s * s === nextQ) {
          r = s;
          p = nextP;
          break;
        }
      }
      previousQ = q;
      p = nextP;
      q = nextQ;
      b = Math.floor((p0 + p) / q);
      nextP = b * q - p;
      nextQ = previousQ + b * (p - nextP);
      previousQ = q;
      p = nextP;
      q = nextQ;
    }
    budget.steps -= i;
    if (r < 0 || !Number.isSafeInteger(p)) continue;
    // Backward from the square root of that form until P repeats.
    p = Math.floor((p0 - p) / r) * r + p;
    previousQ = r;
    q = Number((d - BigInt(p) * BigInt(p)) / BigInt(r));
    if (q === 0) continue;
    for (let steps = 0; steps < limit; steps++) {
      const b = Math.floor((p0 + p) / q);
      const previousP = p;
      p = b * q - p;
      const last = q;
      q = previousQ + b * (previousP - p);
      previousQ = last;
      if (p === previousP) break;
    }
    budget.steps -= limit >> 1;
    if (!Number.isSafeInteger(previousQ)) continue;
    const factor = gcd(n, BigInt(previousQ));
    if (factor !== 1n && factor !== n) return factor;
  }
  return 1n;
}

/** ⌊√n⌋ for n below 2^80, from the double's square root corrected by a few steps. */
function isqrt(n: bigint): bigint {
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
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
