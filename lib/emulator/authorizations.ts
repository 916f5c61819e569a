/**
 * The authorizations of the world's accounts: every auth key that signed in, with the app that
 * did it, so that account.getAuthorizations can list an account's sessions and
 * account.resetAuthorization can end one. Ending one signs its key out: the key's next call gets
 * 401 AUTH_KEY_UNREGISTERED, as on Telegram.
 *
 * @module
 */

/** What a client tells about itself in initConnection. */
export interface AppInfo {
  apiId: number;
  deviceModel: string;
  systemVersion: string;
  appVersion: string;
}

/** The part of a DC's key entry an authorization holds on to: who it is signed in as. */
export interface SignedInKey {
  userId?: number;
}

/** One signed-in key. */
export interface Authorization {
  /** The hash account.getAuthorizations shows and account.resetAuthorization takes; never 0. */
  hash: bigint;
  userId: number;
  key: SignedInKey;
  app?: AppInfo;
  /** Unix seconds: when it signed in, and its latest call. */
  created: number;
  active: number;
  /** A key signed in by auth.importAuthorization: listed with (and ended with) this one. */
  parent?: bigint;
}

/** Every live authorization, by hash. */
export class Authorizations {
  readonly #byHash = new Map<bigint, Authorization>();
  #next = 0x5eed_0000_0001n;

  /**
   * Records that `key` signed in as `userId` (replacing what it was signed in as before) and
   * returns the authorization.
   */
  add(
    key: SignedInKey,
    userId: number,
    now: number,
    app?: AppInfo,
    parent?: bigint,
  ): Authorization {
    this.drop(key);
    // Hashes look random to a client but are the same every run, like the rest of the world.
    const hash = BigInt.asIntN(64, this.#next++ * 0x9e3779b97f4a7c15n) || 1n;
    const entry: Authorization = {
      hash,
      userId,
      key,
      created: now,
      active: now,
      ...(app ? { app } : {}),
      ...(parent !== undefined ? { parent } : {}),
    };
    this.#byHash.set(hash, entry);
    return entry;
  }

  /** The authorization `key` is signed in under, if any. */
  of(key: SignedInKey): Authorization | undefined {
    for (const entry of this.#byHash.values()) if (entry.key === key) return entry;
    return undefined;
  }

  /** An account's authorizations that it signed in by itself (imported ones go with these). */
  listed(userId: number): Authorization[] {
    return [...this.#byHash.values()].filter((entry) =>
      entry.userId === userId && entry.parent === undefined
    );
  }

  /** Finds one of an account's listed authorizations by hash. */
  find(userId: number, hash: bigint): Authorization | undefined {
    const entry = this.#byHash.get(hash);
    return entry && entry.userId === userId && entry.parent === undefined ? entry : undefined;
  }

  /**
   * Ends `key`'s authorization and those imported from it: each key is signed out, so its next
   * call needs a new sign-in.
   */
  drop(key: SignedInKey): void {
    const entry = this.of(key);
    if (!entry) return;
    this.#byHash.delete(entry.hash);
    entry.key.userId = undefined;
    for (const child of [...this.#byHash.values()]) {
      if (child.parent === entry.hash) this.drop(child.key);
    }
  }
}
