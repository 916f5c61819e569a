/**
 * Big-endian byte strings ⇄ `bigint`, and modular exponentiation: what RSA, Diffie–Hellman and
 * SRP are built from.
 *
 * @module
 */

/**
 * Reads unsigned big-endian bytes as a bigint.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bigintFromBytes } from "./bigint.ts";
 * assert.equal(bigintFromBytes(Uint8Array.of(1, 0)), 256n);
 * ```
 */
export function bigintFromBytes(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt("0x" + bytes.toHex());
}

/**
 * Writes a non-negative bigint as big-endian bytes: minimal length, or left-padded to `length`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bytesFromBigint } from "./bigint.ts";
 * assert.deepEqual(bytesFromBigint(256n), Uint8Array.of(1, 0));
 * assert.deepEqual(bytesFromBigint(1n, 3), Uint8Array.of(0, 0, 1));
 * ```
 */
export function bytesFromBigint(value: bigint, length?: number): Uint8Array {
  if (value < 0n) throw new RangeError("bytesFromBigint: negative value");
  let hex = value.toString(16);
  if (hex.length % 2) hex = "0" + hex;
  if (value === 0n) hex = "";
  const minimal = Uint8Array.fromHex(hex);
  if (length === undefined) return minimal.length ? minimal : new Uint8Array(1);
  if (minimal.length > length) {
    throw new RangeError(`value needs ${minimal.length} > ${length} bytes`);
  }
  const padded = new Uint8Array(length);
  padded.set(minimal, length - minimal.length);
  return padded;
}

const WINDOW_BITS = 5;

/**
 * Computes `base^exponent mod modulus` with a fixed 5-bit window, which saves about 40% of the
 * multiplications of plain square-and-multiply on 2048-bit exponents. A small base (a DH
 * generator: g^a, g^b, SRP's g^x) under a big modulus goes to {@link fixedBasePow}, which needs
 * a fifth of the multiplications once its table for that base and modulus exists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modPow } from "./bigint.ts";
 * assert.equal(modPow(4n, 13n, 497n), 445n);
 * ```
 */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (modulus === 1n) return 0n;
  if (exponent < 0n) throw new RangeError("modPow: negative exponent");
  if (
    base >= 0n && base < SMALL_BASE && modulus >= BIG_MODULUS && exponent >= BIG_MODULUS &&
    exponent < HUGE_EXPONENT
  ) {
    return fixedBasePow(base, exponent, modulus);
  }
  base %= modulus;
  if (base < 0n) base += modulus;
  const table = [1n, base];
  for (let i = 2; i < 1 << WINDOW_BITS; i++) table.push((table[i - 1] * base) % modulus);
  const bits = exponent.toString(2);
  let result = 1n;
  // Leading bits that do not fill a whole window come first, then whole windows.
  let position = bits.length % WINDOW_BITS || WINDOW_BITS;
  result = table[parseInt(bits.slice(0, position), 2)];
  for (; position < bits.length; position += WINDOW_BITS) {
    for (let i = 0; i < WINDOW_BITS; i++) result = (result * result) % modulus;
    const window = parseInt(bits.slice(position, position + WINDOW_BITS), 2);
    if (window !== 0) result = (result * table[window]) % modulus;
  }
  return result;
}

const SMALL_BASE = 1n << 16n;
const BIG_MODULUS = 1n << 1000n;
/** Past this a table would be too big to keep (DH exponents are 2048 bits). */
const HUGE_EXPONENT = 1n << 4096n;
/** Digits of the exponent in base 2^YAO_BITS; 6 needs the fewest multiplications at 2048 bits. */
const YAO_BITS = 6;
const YAO_MASK = (1 << YAO_BITS) - 1;
/** Tables kept: one per (base, modulus) pair, the DH primes a process meets are few. */
const MAX_TABLES = 8;
/** base^(2^(6i)) mod modulus for i = 0, 1, ..., by base and modulus, oldest first. */
const powerTables = new Map<bigint, Map<bigint, bigint[]>>();
let tableCount = 0;

/**
 * `base^exponent mod modulus` by Yao's method over a table of base^(2^(6i)): for a 2048-bit
 * exponent, 342 + 126 multiplications instead of 2048 squarings and 410 multiplications. The
 * table (2046 squarings, ~90 KB) is built on the first use of a base and modulus, when this
 * costs about what the windowed method does, and kept for the next (at most
 * {@link MAX_TABLES} pairs; the DH generator and prime of a server never change).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fixedBasePow } from "./bigint.ts";
 * assert.equal(fixedBasePow(3n, 1000n, 1009n), 3n ** 1000n % 1009n);
 * ```
 */
export function fixedBasePow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (modulus === 1n) return 0n;
  if (exponent < 0n) throw new RangeError("fixedBasePow: negative exponent");
  const hex = exponent.toString(16);
  // The exponent's base-64 digits, least significant first, from its hex digits.
  const digits = Math.ceil((hex.length * 4) / YAO_BITS);
  const table = powerTable(base, modulus, digits);
  const digit = new Uint8Array(digits);
  for (let i = 0; i < digits; i++) {
    const bit = i * YAO_BITS;
    // The 6 bits start in hex digit bit>>2 from the right and reach at most into the next two.
    const end = hex.length - (bit >> 2);
    const chunk = parseInt(hex.slice(Math.max(0, end - 3), end), 16);
    digit[i] = (chunk >> (bit & 3)) & YAO_MASK;
  }
  let result = 1n, product = 1n;
  for (let value = YAO_MASK; value >= 1; value--) {
    for (let i = 0; i < digits; i++) {
      if (digit[i] === value) product = (product * table[i]) % modulus;
    }
    if (product !== 1n) result = (result * product) % modulus;
  }
  return result;
}

function powerTable(base: bigint, modulus: bigint, length: number): bigint[] {
  let byModulus = powerTables.get(base);
  let table = byModulus?.get(modulus);
  if (!table) {
    if (tableCount >= MAX_TABLES) {
      powerTables.clear();
      tableCount = 0;
    }
    if (!byModulus) powerTables.set(base, byModulus = new Map());
    byModulus.set(modulus, table = [base % modulus]);
    tableCount++;
  }
  while (table.length < length) {
    let next = table[table.length - 1];
    for (let i = 0; i < YAO_BITS; i++) next = (next * next) % modulus;
    table.push(next);
  }
  return table;
}
