/**
 * The registry of the accounts one `serve --state DIR` holds (see `held_account.ts` for what
 * holding an account promises): restored from the store at start, found by their auth key when a
 * connection loads a session, forgotten at log-out, and reported in `health`.
 *
 * On a shared store (PostgreSQL) each account is held under a lease (`lease_keeper.ts`): at start
 * and every renewal round the instance takes its even share of the accounts nobody holds; an
 * account a connection loads is driven only once its lease is this instance's; a lease lost stops
 * the account here at once; a clean close releases every lease.
 *
 * @module
 */

import { sessionFromJson } from "../client/session_json.ts";
import { systemClock } from "../io/clock.ts";
import { type ProxySpec, proxyToUrl } from "../net/proxy_url.ts";
import type { AccountStore } from "../store/account_store.ts";
import { HeldAccount } from "./held_account.ts";
import { type HeldDefaults, type HeldLease, type HeldOptions, keyIdOf } from "./held_defaults.ts";
import { LeaseKeeper } from "./lease_keeper.ts";

export { HeldAccount } from "./held_account.ts";
export { type HeldDefaults, type HeldOptions, keyIdOf, type LineSink } from "./held_defaults.ts";

/** How often an account waiting for another instance to hand it over tries to take it. */
const HANDOVER_POLL_MS = 200;

/** The held accounts of one `serve`. */
export class HeldAccounts {
  readonly #accounts = new Map<string, HeldAccount>();
  readonly #defaults: HeldDefaults;
  readonly #store: AccountStore;
  readonly #options: HeldOptions;
  /** The leases, on a store several instances share. */
  readonly #keeper?: LeaseKeeper;

  /**
   * `leaseMs` (a store several instances share): accounts are held under leases of that length.
   */
  constructor(
    defaults: HeldDefaults,
    store: AccountStore,
    options: HeldOptions & { leaseMs?: number } = {},
  ) {
    this.#defaults = defaults;
    this.#store = store;
    this.#options = options;
    if (options.leaseMs !== undefined) {
      this.#keeper = new LeaseKeeper({
        store,
        leaseMs: options.leaseMs,
        clock: options.clock ?? defaults.clock ?? systemClock,
        log: options.log,
        onLost: (keyId) => {
          const account = this.#accounts.get(keyId);
          this.#accounts.delete(keyId);
          void account?.moved();
        },
        onTaken: async (keyId) => {
          if (this.#accounts.has(keyId)) return;
          const stored = await this.#store.account(keyId);
          if (!stored || this.#closed || this.#accounts.has(keyId)) {
            this.#keeper?.drop(keyId);
            return;
          }
          const account: HeldAccount = new HeldAccount(
            this.#defaults,
            this.#store,
            this.#options,
            stored,
            this.#leaseOf(keyId, () => this.#accounts.get(keyId) === account, true),
          );
          this.#keep(account);
        },
      });
    }
  }

  /**
   * The lease of an account: ready once claimed (`claimed`: it is already), retried every
   * renewal round while another instance holds it.
   */
  #leaseOf(keyId: string, wanted: () => boolean, claimed = false): HeldLease {
    const keeper = this.#keeper!;
    const clock = this.#options.clock ?? this.#defaults.clock ?? systemClock;
    return {
      ready: async () => {
        // Another instance holds it: ask for it (again every renewal round) and try often, since
        // a holder that hands it over releases it at once.
        let asked = -Infinity;
        while (!claimed) {
          if (this.#closed || !wanted()) return false;
          claimed = (await keeper.claim(keyId).catch(() => undefined)) !== undefined;
          if (this.#closed || !wanted()) return false;
          if (claimed) break;
          if (clock.now() - asked >= keeper.leaseMs / 3) {
            asked = clock.now();
            await this.#store.askHandover(keyId, keeper.owner).catch((error) =>
              this.#options.log?.(`leases: ${(error as Error).message}`)
            );
          }
          await clock.sleep(Math.min(HANDOVER_POLL_MS, keeper.leaseMs / 3));
        }
        return await this.#store.account(keyId);
      },
      fence: () => keeper.fence(keyId),
    };
  }

  #closed = false;

  /** How many accounts are held. */
  get size(): number {
    return this.#accounts.size;
  }

  /**
   * The held accounts' health for `health`: the store's ("ok", or "failing" with the accounts it
   * fails for), and `held_connected`, how many have their connection to their DC up (`/readyz`
   * is 503 while that is fewer than `held_accounts`).
   */
  health(): Record<string, unknown> {
    const accounts = [...this.#accounts.values()];
    const held_connected = accounts.filter((account) => account.client.connected).length;
    return { ...this.#storeHealth(accounts), held_connected };
  }

  #storeHealth(accounts: HeldAccount[]): Record<string, unknown> {
    const failures = accounts
      .map((account) => account.storeFailure)
      .filter((failure) => failure !== undefined);
    const leases = this.#keeper
      ? {
        instance: this.#keeper.owner,
        leases_held: this.#keeper.size,
        takeovers: this.#keeper.takeovers,
        handovers: this.handovers,
      }
      : {};
    return failures.length === 0 ? { store: "ok", store_kind: this.#store.kind, ...leases } : {
      store: "failing",
      store_kind: this.#store.kind,
      ...leases,
      store_error: failures[0],
      accounts_waiting_for_store: failures.length,
    };
  }

  /** Restores every stored account; each reconnects and catches up from its stored state. */
  async restore(): Promise<number> {
    // Shared: this instance's share of the accounts nobody holds, taken in the first round.
    if (this.#keeper) {
      const own = this.#keeper.owner;
      // Every instance hears every ask, its own included: handing an account over to itself
      // would stop it just as it started, leaving its waiting connections without a word.
      await this.#store.onHandover((keyId, asker) => {
        if (asker !== own) void this.#handOver(keyId);
      });
      await this.#keeper.start();
      return this.#accounts.size;
    }
    for (const stored of await this.#store.accounts()) {
      this.#keep(new HeldAccount(this.#defaults, this.#store, this.#options, stored));
    }
    return this.#accounts.size;
  }

  /**
   * The held account of a signed-in session object, held from now on if it was not: found by its
   * auth key id, and only when the whole key matches (knowing the key is the authorization).
   * `proxy` is the connection's: one that is not serve's own `--proxy` is the account's from
   * now on (serve's own leaves the account's as it was, so a client that comes back without
   * naming its proxy does not undo it).
   */
  hold(session: Record<string, unknown>, proxy?: ProxySpec): HeldAccount {
    const keyId = keyIdOf(session)!;
    const known = this.#accounts.get(keyId);
    const key = sessionFromJson(session, 2).authKey!;
    const knownKey = known?.client.session.authKey;
    const serves = this.#defaults.server?.proxy;
    const own = proxy && (!serves || proxyToUrl(serves) !== proxyToUrl(proxy))
      ? proxyToUrl(proxy)
      : undefined;
    if (known && knownKey && knownKey.every((byte, i) => byte === key[i])) {
      if (own) known.useProxy(own);
      return known;
    }
    void known?.close();
    const account: HeldAccount = new HeldAccount(
      this.#defaults,
      this.#store,
      this.#options,
      {
        keyId,
        session: own ? { ...session, proxy: own } : session,
      },
      this.#keeper ? this.#leaseOf(keyId, () => this.#accounts.get(keyId) === account) : undefined,
    );
    this.#keep(account);
    return account;
  }

  /**
   * Another instance asks for an account this one holds (a client of its wants it): its client
   * stops, what it had queued is written, and its lease is released at once.
   */
  async #handOver(keyId: string): Promise<void> {
    const account = this.#accounts.get(keyId);
    if (!account || !this.#keeper?.fence(keyId) || this.#closed) return;
    this.#accounts.delete(keyId);
    await account.moved();
    try {
      await this.#keeper.handOver(keyId);
      this.handovers++;
      this.#options.log?.(`leases: held account ${keyId} handed over to the instance that asked`);
    } catch (error) {
      this.#options.log?.(`leases: cannot release ${keyId} (it lapses instead): ${error}`);
    }
  }

  /** Accounts handed over to another instance on its asking, since start. */
  handovers = 0;

  #keep(account: HeldAccount): void {
    this.#accounts.set(account.keyId, account);
    account.onDead = () => {
      if (this.#accounts.get(account.keyId) === account) this.#accounts.delete(account.keyId);
      this.#keeper?.drop(account.keyId);
    };
    account.onLeaseLost = () => {
      if (this.#accounts.get(account.keyId) === account) this.#accounts.delete(account.keyId);
      this.#keeper?.drop(account.keyId);
    };
  }

  /** Forgets an account (after auth.logOut): its client stops and its journal goes. */
  forget(account: HeldAccount): Promise<void> {
    this.#accounts.delete(account.keyId);
    this.#keeper?.drop(account.keyId);
    return account.forget();
  }

  /**
   * Stops every account's client (at shutdown); they stay stored. Resolves once their queued
   * writes are done, so that the store can be closed after.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#accounts.values()].map((account) => account.close()));
    // Written whole first, then given up at once: another instance goes on from there.
    await this.#keeper?.stop(true);
  }
}
