/**
 * The 2FA password check: SRP-6a over the `passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000
 * PowModP` algorithm, as the client computes `inputCheckPasswordSRP` from `account.password`.
 * The verifier and server side are here too, for the emulator.
 *
 * @module
 */

import { SecurityError } from "../errors.ts";
import { bigintFromBytes, bytesFromBigint, modPow } from "./bigint.ts";
import { checkDhParameters, checkDhPublicValue } from "./dh.ts";
import { pbkdf2Sha512, sha256 } from "./hash.ts";
import { type RandomSource, secureRandom } from "./random.ts";

/** The KDF parameters of `account.password.current_algo`. */
export interface SrpAlgorithm {
  salt1: Uint8Array;
  salt2: Uint8Array;
  g: number;
  p: Uint8Array;
}

/** What the client sends as `inputCheckPasswordSRP`. */
export interface SrpAnswer {
  srp_id: bigint;
  A: Uint8Array;
  M1: Uint8Array;
}

const PBKDF2_ITERATIONS = 100000;

/** SH(data, salt) = SHA256(salt | data | salt). */
function saltedHash(data: Uint8Array, salt: Uint8Array): Uint8Array {
  return sha256(salt, data, salt);
}

/**
 * The password hash x of the algorithm:
 * PH2 = SH(PBKDF2-SHA512(SH(SH(password, salt1), salt2), salt1, 100000), salt2).
 */
export async function passwordHash(password: string, algorithm: SrpAlgorithm): Promise<bigint> {
  const ph1 = saltedHash(
    saltedHash(new TextEncoder().encode(password), algorithm.salt1),
    algorithm.salt2,
  );
  const stretched = await pbkdf2Sha512(ph1, algorithm.salt1, PBKDF2_ITERATIONS);
  return bigintFromBytes(saltedHash(stretched, algorithm.salt2));
}

/** The verifier v = g^x mod p that the server stores instead of the password. */
export async function passwordVerifier(password: string, algorithm: SrpAlgorithm): Promise<bigint> {
  return modPow(
    BigInt(algorithm.g),
    await passwordHash(password, algorithm),
    bigintFromBytes(algorithm.p),
  );
}

function pad256(value: bigint): Uint8Array {
  return bytesFromBigint(value, 256);
}

function multiplier(p: bigint, g: bigint): bigint {
  return bigintFromBytes(sha256(pad256(p), pad256(g)));
}

function proof(
  p: bigint,
  g: bigint,
  algorithm: SrpAlgorithm,
  gA: bigint,
  gB: bigint,
  sessionKey: Uint8Array,
): Uint8Array {
  const hashP = sha256(pad256(p));
  const hashG = sha256(pad256(g));
  for (let i = 0; i < 32; i++) hashP[i] ^= hashG[i];
  return sha256(
    hashP,
    sha256(algorithm.salt1),
    sha256(algorithm.salt2),
    pad256(gA),
    pad256(gB),
    sessionKey,
  );
}

/**
 * Computes the client's answer to `account.password` for `password`, after the checks the
 * guidelines ask for: p a safe 2048-bit prime with a valid g, and g_b in range.
 */
export async function computeSrpAnswer(
  password: string,
  algorithm: SrpAlgorithm,
  srpB: Uint8Array,
  srpId: bigint,
  random: RandomSource = secureRandom,
): Promise<SrpAnswer> {
  const p = bigintFromBytes(algorithm.p);
  const g = BigInt(algorithm.g);
  checkDhParameters(p, algorithm.g, random);
  const gB = bigintFromBytes(srpB);
  checkDhPublicValue(gB, p, "srp_B");
  const x = await passwordHash(password, algorithm);
  const k = multiplier(p, g);
  const v = modPow(g, x, p);
  for (;;) {
    const a = bigintFromBytes(random(256));
    const gA = modPow(g, a, p);
    if (gA <= 1n || gA >= p - 1n) continue;
    const u = bigintFromBytes(sha256(pad256(gA), pad256(gB)));
    if (u === 0n) continue;
    let t = (gB - k * v) % p;
    if (t < 0n) t += p;
    const sessionKey = sha256(pad256(modPow(t, a + u * x, p)));
    return { srp_id: srpId, A: pad256(gA), M1: proof(p, g, algorithm, gA, gB, sessionKey) };
  }
}

/** The server's half of one password check: its secret b and public g_b (`srp_B`). */
export interface SrpServerChallenge {
  b: bigint;
  srpB: Uint8Array;
}

/** Starts a password check on the server side: g_b = k·v + g^b mod p. */
export function srpServerChallenge(
  verifier: bigint,
  algorithm: SrpAlgorithm,
  random: RandomSource = secureRandom,
): SrpServerChallenge {
  const p = bigintFromBytes(algorithm.p);
  const g = BigInt(algorithm.g);
  const b = bigintFromBytes(random(256)) % p;
  const gB = (multiplier(p, g) * verifier + modPow(g, b, p)) % p;
  return { b, srpB: pad256(gB) };
}

/** Checks a client's M1 on the server side; true when the password was right. */
export function srpServerVerify(
  verifier: bigint,
  algorithm: SrpAlgorithm,
  challenge: SrpServerChallenge,
  A: Uint8Array,
  M1: Uint8Array,
): boolean {
  const p = bigintFromBytes(algorithm.p);
  const g = BigInt(algorithm.g);
  const gA = bigintFromBytes(A);
  if (gA <= 1n || gA >= p - 1n) throw new SecurityError("srp A is outside 1 < A < p - 1");
  const gB = bigintFromBytes(challenge.srpB);
  const u = bigintFromBytes(sha256(pad256(gA), pad256(gB)));
  const shared = modPow((gA * modPow(verifier, u, p)) % p, challenge.b, p);
  const expected = proof(p, g, algorithm, gA, gB, sha256(pad256(shared)));
  return expected.length === M1.length && expected.every((byte, i) => byte === M1[i]);
}
