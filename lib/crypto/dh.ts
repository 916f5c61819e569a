/**
 * The Diffie–Hellman checks of the MTProto security guidelines, for the auth key exchange and
 * for SRP: a 2048-bit safe prime, a generator whose quadratic-residue condition holds, and
 * public values away from the edges of the group.
 *
 * @module
 */

import { SecurityError } from "../errors.ts";
import { bigintFromBytes, modPow } from "./bigint.ts";
import { type RandomSource, secureRandom } from "./random.ts";

/** The 2048-bit safe prime Telegram's servers send; recognized without a primality test. */
export const TELEGRAM_DH_PRIME: bigint = BigInt(
  "0xc71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b",
);

const verifiedSafePrimes = new Set<bigint>([TELEGRAM_DH_PRIME]);
const LOW_BOUND = 1n << 2047n;
const HIGH_BOUND = 1n << 2048n;
const EDGE = 1n << (2048n - 64n);

/**
 * Checks `dh_prime` and `g` as the guidelines require: 2^2047 < p < 2^2048, p and (p-1)/2
 * prime, g in 2..7 generating the subgroup of order (p-1)/2. Throws {@link SecurityError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkDhParameters, TELEGRAM_DH_PRIME } from "./dh.ts";
 * checkDhParameters(TELEGRAM_DH_PRIME, 3);
 * assert.throws(() => checkDhParameters(TELEGRAM_DH_PRIME, 2), /g = 2/);
 * ```
 */
export function checkDhParameters(p: bigint, g: number, random: RandomSource = secureRandom): void {
  if (p <= LOW_BOUND || p >= HIGH_BOUND) {
    throw new SecurityError("dh_prime is not a 2048-bit number");
  }
  if (!verifiedSafePrimes.has(p)) {
    if (!isProbablePrime(p, random) || !isProbablePrime((p - 1n) / 2n, random)) {
      throw new SecurityError("dh_prime is not a safe prime");
    }
    verifiedSafePrimes.add(p);
  }
  const ok = (() => {
    switch (g) {
      case 2:
        return p % 8n === 7n;
      case 3:
        return p % 3n === 2n;
      case 4:
        return true;
      case 5:
        return [1n, 4n].includes(p % 5n);
      case 6:
        return [19n, 23n].includes(p % 24n);
      case 7:
        return [3n, 5n, 6n].includes(p % 7n);
      default:
        return false;
    }
  })();
  if (!ok) {
    throw new SecurityError(
      `g = ${g} does not generate the subgroup of order (p-1)/2 for this prime`,
    );
  }
}

/**
 * Checks a DH public value (g_a, g_b, or g^b in SRP): 1 < v < p - 1, and also
 * 2^(2048-64) <= v <= p - 2^(2048-64), so that neither side can force a weak shared key.
 */
export function checkDhPublicValue(value: bigint, p: bigint, name: string): void {
  if (value <= 1n || value >= p - 1n) {
    throw new SecurityError(`${name} is outside 1 < ${name} < p - 1`);
  }
  if (value < EDGE || value > p - EDGE) {
    throw new SecurityError(`${name} is within 2^1984 of the group's edges`);
  }
}

/** True when `value` passes {@link checkDhPublicValue}: for choosing one's own g^x. */
export function isSafeDhPublicValue(value: bigint, p: bigint): boolean {
  return value > 1n && value < p - 1n && value >= EDGE && value <= p - EDGE;
}

/** The first prime bases: as Miller–Rabin witnesses they decide every n below 3.3 · 10^24. */
const SMALL_PRIMES = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n, 41n];
const EXACT_BELOW = 3_317_044_064_679_887_385_961_981n;

/**
 * Miller–Rabin. Below 3.3 · 10^24 (every `pq` and its factors) the first 13 primes as bases make
 * it exact; above (DH primes), 40 random bases leave a composite a chance below 2^-80.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isProbablePrime } from "./dh.ts";
 * assert.equal(isProbablePrime(2n ** 127n - 1n), true);
 * assert.equal(isProbablePrime(2n ** 128n + 1n), false);
 * assert.equal(isProbablePrime(0x494c553bn), true);
 * assert.equal(isProbablePrime(3215031751n), false); // a strong pseudoprime to bases 2, 3, 5, 7
 * ```
 */
export function isProbablePrime(n: bigint, random: RandomSource = secureRandom): boolean {
  if (n < 2n) return false;
  for (const small of SMALL_PRIMES) {
    if (n === small) return true;
    if (n % small === 0n) return false;
  }
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  const byteLength = Math.ceil(n.toString(16).length / 2);
  const exact = n < EXACT_BELOW;
  witness: for (let round = 0; round < (exact ? SMALL_PRIMES.length : 40); round++) {
    const a = exact ? SMALL_PRIMES[round] : 2n + bigintFromBytes(random(byteLength)) % (n - 3n);
    let x = modPow(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    for (let i = 1; i < s; i++) {
      x = (x * x) % n;
      if (x === n - 1n) continue witness;
    }
    return false;
  }
  return true;
}
