/**
 * The leases one `serve` instance holds on its accounts in a shared store (issue #21): taken with
 * a conditional write, renewed in one batch every third of their length, and given up at a clean
 * shutdown. A lease counts as held only until its last confirmed renewal's *send* time plus its
 * length minus a margin (a fifth of it): the store's server set the expiry after it received the
 * renewal, so this instance stops driving an account before the lease could lapse and be given to
 * another, even when the store does not answer at all (paused, partitioned). Each renewal round,
 * and a lighter look every fifteenth of a lease in between, also says the instance is alive and
 * takes over its even share of the accounts nobody holds.
 *
 * @module
 */

import type { Clock, TimerId } from "../io/clock.ts";
import type { AccountStore, Fence } from "../store/account_store.ts";
import { newEpoch } from "./held_defaults.ts";

/** What a LeaseKeeper is told and tells. */
export interface LeaseKeeperOptions {
  store: AccountStore;
  /** How long a lease lasts unless renewed (default 15 s); renewed every third of it. */
  leaseMs?: number;
  clock: Clock;
  /** This instance's id in the store (random by default). */
  owner?: string;
  /** A lease is gone (or can no longer be known held): the account must stop at once. */
  onLost: (keyId: string) => void;
  /** An account nobody held is this instance's now, with its lease's token. */
  onTaken: (keyId: string, token: number) => void | Promise<void>;
  log?: (line: string) => void;
}

/** The leases of one instance. */
export class LeaseKeeper {
  readonly owner: string;
  readonly leaseMs: number;
  readonly #options: LeaseKeeperOptions;
  /** Held leases: their token, and until when (this clock) they are known to be held. */
  readonly #held = new Map<string, { token: number; until: number }>();
  /** Claims in flight (a connection's hold, a takeover). */
  readonly #claiming = new Set<string>();
  #renewTimer?: TimerId;
  #checkTimer?: TimerId;
  #watchTimer?: TimerId;
  #ticking = false;
  /** A takeover under way (a round's or a look's): another waits for the next chance. */
  #takingOver = false;
  #stopped = false;
  /** Accounts handed to another instance: not taken back by a takeover round until then. */
  readonly #avoid = new Map<string, number>();
  /** Accounts taken over from an instance that died or left, since start. */
  takeovers = 0;

  constructor(options: LeaseKeeperOptions) {
    this.#options = options;
    this.owner = options.owner ?? `${newEpoch()}`;
    this.leaseMs = options.leaseMs ?? 15_000;
  }

  /** How many leases are held. */
  get size(): number {
    return this.#held.size;
  }

  /** The fence for writes to an account while its lease is held. */
  fence(keyId: string): Fence | undefined {
    const lease = this.#held.get(keyId);
    return lease ? { owner: this.owner, token: lease.token } : undefined;
  }

  get #margin(): number {
    return this.leaseMs / 5;
  }

  /** How often lapsed leases are looked for between rounds: 1 s for a lease of 15 s. */
  get #watchMs(): number {
    return Math.max(100, this.leaseMs / 15);
  }

  /** Takes an account's lease; its fence, or undefined while another instance holds it. */
  async claim(keyId: string): Promise<Fence | undefined> {
    const known = this.fence(keyId);
    if (known) return known;
    const sent = this.#options.clock.now();
    this.#claiming.add(keyId);
    try {
      const token = await this.#options.store.claim(keyId, this.owner, this.leaseMs);
      if (token === undefined || this.#stopped) return undefined;
      this.#held.set(keyId, { token, until: sent + this.leaseMs - this.#margin });
      return { owner: this.owner, token };
    } finally {
      this.#claiming.delete(keyId);
    }
  }

  /** Forgets a lease without releasing it (the account was forgotten or lost). */
  drop(keyId: string): void {
    this.#held.delete(keyId);
  }

  /**
   * Gives one lease up at once, for another instance that asked for the account; this one's
   * takeover rounds leave the account alone for a lease's length, so that the asker gets it.
   */
  async handOver(keyId: string): Promise<void> {
    this.#held.delete(keyId);
    this.#avoid.set(keyId, this.#options.clock.now() + this.leaseMs);
    await this.#options.store.release(this.owner, [keyId]);
  }

  /** Starts renewing (and taking over); the first round runs now, and is what this resolves. */
  start(): Promise<void> {
    const { clock } = this.#options;
    this.#renewTimer = clock.setInterval(() => void this.tick(), this.leaseMs / 3);
    this.#watchTimer = clock.setInterval(() => void this.#watch(), this.#watchMs);
    this.#checkTimer = clock.setInterval(() => this.#check(), this.#margin / 2);
    return this.tick();
  }

  /** One round: renew every lease, say this instance is alive, take over its share. */
  async tick(): Promise<void> {
    if (this.#ticking || this.#stopped) return;
    this.#ticking = true;
    const { store, clock, log } = this.#options;
    try {
      const sent = clock.now();
      const keys = [...this.#held.keys()];
      if (keys.length) {
        const renewed = new Set(await store.renew(this.owner, keys, this.leaseMs));
        for (const keyId of keys) {
          const lease = this.#held.get(keyId);
          if (!lease) continue;
          if (renewed.has(keyId)) lease.until = sent + this.leaseMs - this.#margin;
          else this.#lose(keyId, "its lease was not renewed (another instance has it)");
        }
      }
      // A takeover under way (a look between rounds, its claims and restores taking long) is
      // left alone: the renewal above never waits for it.
      if (!this.#takingOver) await this.#takeOver();
    } catch (error) {
      // Leases not renewed now are lost when their time is up (#check), not before.
      log?.(`leases: ${(error as Error).message}`);
    } finally {
      this.#ticking = false;
      this.#check();
    }
  }

  /**
   * Between rounds, often: say this instance is alive and take its share of what nobody holds.
   * A lease that lapsed (its instance died) is taken within this period, not a round's: taking
   * over 1000 accounts after a kill otherwise waited up to a third of a lease more.
   */
  async #watch(): Promise<void> {
    // Never in the way of a renewal round: a round runs whatever a look is doing.
    if (this.#ticking || this.#takingOver || this.#stopped) return;
    try {
      await this.#takeOver();
    } catch {
      // The next round says what failed, and tries again.
    }
  }

  /** Says this instance is alive, and takes its even share of the accounts nobody holds. */
  async #takeOver(): Promise<void> {
    this.#takingOver = true;
    try {
      await this.#takeShare();
    } finally {
      this.#takingOver = false;
    }
  }

  async #takeShare(): Promise<void> {
    const { store, clock } = this.#options;
    const { instances, accounts } = await store.heartbeat(this.owner, this.leaseMs);
    const share = Math.ceil(accounts / Math.max(1, instances));
    const want = share - this.#held.size - this.#claiming.size;
    if (want <= 0 || this.#stopped) return;
    const now = clock.now();
    for (const [keyId, until] of this.#avoid) if (now >= until) this.#avoid.delete(keyId);
    const free = shuffle(
      (await store.unleased()).filter((key) =>
        !this.#held.has(key) && !this.#claiming.has(key) && !this.#avoid.has(key)
      ),
    ).slice(0, want);
    await Promise.all(free.map(async (keyId) => {
      const fence = await this.claim(keyId);
      if (!fence || this.#stopped) return;
      this.takeovers++;
      await this.#options.onTaken(keyId, fence.token);
    }));
  }

  /** Stops every account whose lease can no longer be known to be held. */
  #check(): void {
    const now = this.#options.clock.now();
    for (const [keyId, lease] of this.#held) {
      if (now >= lease.until) {
        this.#lose(keyId, "its lease could not be renewed in time (the store does not answer)");
      }
    }
  }

  #lose(keyId: string, why: string): void {
    this.#held.delete(keyId);
    this.#options.log?.(`leases: held account ${keyId} stops here: ${why}`);
    this.#options.onLost(keyId);
  }

  /** Stops renewing; with `release`, gives every lease up at once (a clean shutdown). */
  async stop(release: boolean): Promise<void> {
    this.#stopped = true;
    this.#options.clock.clearInterval(this.#renewTimer);
    this.#options.clock.clearInterval(this.#checkTimer);
    this.#options.clock.clearInterval(this.#watchTimer);
    const keys = [...this.#held.keys()];
    this.#held.clear();
    if (!release) return;
    try {
      await this.#options.store.release(this.owner, keys);
      await this.#options.store.heartbeat(this.owner, 0);
    } catch (error) {
      this.#options.log?.(
        `leases: cannot release (they lapse instead): ${(error as Error).message}`,
      );
    }
  }
}

/** The items in random order: instances taking over at once start on different accounts. */
function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
