/**
 * The emulator's auth keys and server salts, per DC. Salts rotate on a schedule (Telegram's are
 * valid for about an hour; the emulator can be told to rotate every few seconds to exercise
 * clients), and the previous salt stays accepted for a grace period, as on Telegram.
 *
 * @module
 */

import { randomLong, type RandomSource } from "../crypto/random.ts";
import { type AuthKey, makeAuthKey } from "../mtproto/encrypted_message.ts";

/** One registered auth key and what the server knows about it. */
export interface KeyEntry {
  authKey: AuthKey;
  /** The signed-in user, once `auth.signIn` or `auth.importAuthorization` succeeded. */
  userId?: number;
  /** The salt the key was created with (new_nonce ⊕ server_nonce), and until when it is taken. */
  firstSalt?: { salt: bigint; until: number };
  /** A temporary key's end, in unix seconds: past it, the key is forgotten (clients get -404). */
  expiresAt?: number;
  /** A temporary key bound with auth.bindTempAuthKey: the permanent key it acts for. */
  boundTo?: KeyEntry;
  /** A permanent key: true once a temporary key was bound to it (for the emulator's PFS log). */
  hasBoundTemp?: boolean;
}

/** How long a new key's first salt is accepted, in seconds, as Telegram does for a while. */
const FIRST_SALT_SECONDS = 1800;

/** A salt with its validity, in server seconds. */
export interface SaltPeriod {
  salt: bigint;
  validSince: number;
  validUntil: number;
}

/** Auth keys by id, and the salt schedule shared by every key of the DC. */
export class KeyStore {
  readonly #keys = new Map<string, KeyEntry>();
  readonly #salts: SaltPeriod[] = [];

  /** `saltSeconds` is how long each salt is valid; `graceSeconds` how long the previous one stays accepted. */
  constructor(
    private readonly random: RandomSource,
    private readonly saltSeconds = 3600,
    private readonly graceSeconds = 1800,
  ) {}

  /** How many keys the DC knows (temporary ones included). */
  get size(): number {
    return this.#keys.size;
  }

  /**
   * Registers a new key with the salt it was created with; false when its id is taken (the
   * client must retry with another).
   */
  register(authKey: Uint8Array, firstSalt?: bigint, now = 0, expiresIn?: number): boolean {
    const key = makeAuthKey(authKey);
    const id = key.id.toHex();
    if (this.#keys.has(id)) return false;
    this.#keys.set(id, {
      authKey: key,
      ...(firstSalt !== undefined
        ? { firstSalt: { salt: firstSalt, until: now + FIRST_SALT_SECONDS } }
        : {}),
      ...(expiresIn !== undefined ? { expiresAt: Math.floor(now) + expiresIn } : {}),
    });
    return true;
  }

  /** Forgets every key, as a DC that lost them would: clients then get `-404`. */
  forgetAll(): void {
    this.#keys.clear();
  }

  /** Forgets the temporary keys (PFS) only, as when they expire: their clients get `-404`. */
  forgetTemporary(): void {
    for (const [id, entry] of this.#keys) if (entry.expiresAt !== undefined) this.#keys.delete(id);
  }

  /**
   * Finds a key by the 8-byte id at the start of an encrypted message; a temporary key that has
   * expired by `now` (unix seconds) is forgotten instead.
   */
  find(id: Uint8Array, now = 0): KeyEntry | undefined {
    const entry = this.#keys.get(id.toHex());
    if (entry?.expiresAt !== undefined && now >= entry.expiresAt) {
      this.#keys.delete(id.toHex());
      return undefined;
    }
    return entry;
  }

  /** The salts valid from `now` on, generating more as time passes. */
  salts(now: number, count = 1): SaltPeriod[] {
    while (this.#salts.length && this.#salts[0].validUntil + this.graceSeconds < now) {
      this.#salts.shift();
    }
    let start = this.#salts.at(-1)?.validUntil ?? Math.floor(now);
    while (this.#salts.length < count + 1 || this.#salts.at(-1)!.validUntil < now) {
      this.#salts.push({
        salt: this.#randomSalt(),
        validSince: start,
        validUntil: start + this.saltSeconds,
      });
      start += this.saltSeconds;
    }
    const current = this.#salts.findIndex((period) =>
      period.validSince <= now && now < period.validUntil
    );
    return this.#salts.slice(current, current + count);
  }

  /** The salt messages should carry now. */
  currentSalt(now: number): bigint {
    return this.salts(now)[0].salt;
  }

  /** True for the current salt, a future one already announced, or the previous one in its grace period. */
  acceptsSalt(salt: bigint, now: number, key?: KeyEntry): boolean {
    if (key?.firstSalt && key.firstSalt.salt === salt && now < key.firstSalt.until) return true;
    this.salts(now);
    return this.#salts.some((period) =>
      period.salt === salt && period.validSince - this.graceSeconds <= now &&
      now < period.validUntil + this.graceSeconds
    );
  }

  #randomSalt(): bigint {
    return randomLong(this.random);
  }
}
