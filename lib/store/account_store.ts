/**
 * Where `serve --state` keeps held accounts, as an interface any backing store implements: each
 * account's session (its auth key included), its durable update cursor and journal epoch, and its
 * journal of update rows; with the errors every store reports the same way. The default store is
 * SQLite in a directory (`sqlite.ts`), the shared one PostgreSQL (`postgres.ts`);
 * `tests/store/account_store_contract.ts` is what any store must pass, and both do.
 *
 * Every method is asynchronous (a server store answers over the network). Every write is one
 * transaction: it happens whole or not at all, its promise settles only once it is committed, and
 * a failure (a full disk, a read-only or failing device, a lost server) rejects with a
 * {@link StoreWriteError}.
 *
 * @module
 */

import { Mtproto2jsonError } from "../errors.ts";

/** One held account as stored. */
export interface StoredAccount {
  /** The auth key id (hex) the account is found by. */
  keyId: string;
  /** The session object of the JSON protocol (auth key, dc, user id, server, ...). */
  session: Record<string, unknown>;
  /** The account's update cursor after the last journaled line, once it has one. */
  cursor?: string;
  /** Which journal the account's positions count in (see `CursorValue.epoch`). */
  epoch?: string;
}

/** A journaled line and its position in the account's journal. */
export interface JournalEntry {
  seq: number;
  line: string;
}

/**
 * The proof an instance gives with a write that it still owns the account's lease: its owner id
 * and the lease's token (bumped each time the lease changes hands, so that a write of an earlier
 * owner — paused, partitioned, slow — can never land after another took over).
 */
export interface Fence {
  owner: string;
  token: number;
}

/** What held accounts need from storage. */
export interface AccountStore {
  /** What kind of store this is, for `health` ("sqlite", "postgres"). */
  readonly kind: string;
  accounts(): Promise<StoredAccount[]>;
  /** One account, if stored. */
  account(keyId: string): Promise<StoredAccount | undefined>;
  /**
   * Adds or replaces an account (session, epoch and cursor as given). A new epoch drops the
   * journal of the old one in the same transaction.
   */
  saveAccount(account: StoredAccount, fence?: Fence): Promise<void>;
  /**
   * Appends lines to an account's journal and records its cursor, in one transaction. With a
   * fence, writes (here and in saveAccount) happen only while the fence's lease is live, else they
   * reject with {@link LeaseLostError}.
   */
  append(keyId: string, entries: JournalEntry[], cursor: string, fence?: Fence): Promise<void>;
  /** The entries after `afterSeq`, oldest first. */
  journal(keyId: string, afterSeq: number): Promise<JournalEntry[]>;
  /** The first and last positions held, if any. */
  journalBounds(keyId: string): Promise<{ first: number; last: number } | undefined>;
  /** Drops all but the newest `keep` entries. */
  trim(keyId: string, keep: number): Promise<void>;
  /** Forgets an account and its journal (after auth.logOut). */
  forget(keyId: string): Promise<void>;
  /**
   * Takes the account's lease for `owner` for `ms` milliseconds (of the store's clock) when it is
   * free, expired or already `owner`'s: its token, bumped whenever the lease changes hands (or
   * lapsed); undefined while another owner's lease is live. A store only one process can open
   * (SQLite) always grants it.
   */
  claim(keyId: string, owner: string, ms: number): Promise<number | undefined>;
  /** Extends `owner`'s live leases on `keyIds` by `ms`; the key ids still held. */
  renew(owner: string, keyIds: string[], ms: number): Promise<string[]>;
  /** Gives `owner`'s leases on `keyIds` up at once (a clean shutdown). */
  release(owner: string, keyIds: string[]): Promise<void>;
  /** Stored accounts nobody holds a live lease on (their owner died or let them go). */
  unleased(): Promise<string[]>;
  /**
   * Says `owner` is alive for `ms` more milliseconds (0: it leaves now); how many instances are
   * alive and how many accounts are stored, for each to take its even share.
   */
  heartbeat(owner: string, ms: number): Promise<{ instances: number; accounts: number }>;
  /**
   * Asks whichever instance holds the account's lease to hand it over to `asker` (a client
   * wants it there). Nothing happens in a store only one process can open.
   */
  askHandover(keyId: string, asker: string): Promise<void>;
  /**
   * Calls `handler` with each account an instance asks for, and which instance asked (every
   * listener hears every ask, the asker's own included: each leaves out its own); resolves once
   * listening.
   */
  onHandover(handler: (keyId: string, asker: string | undefined) => void): Promise<void>;
  close(): Promise<void>;
}

/** A store write that did not happen (disk full, read-only, I/O error); nothing of it was kept. */
export class StoreWriteError extends Mtproto2jsonError {
  override name = "StoreWriteError";
}

/** A fenced write refused: the lease it was made under is no longer live (another may own it). */
export class LeaseLostError extends Mtproto2jsonError {
  override name = "LeaseLost";
}

/** Another process owns the state directory. */
export class StoreLockedError extends Mtproto2jsonError {
  override name = "StoreLocked";
}

/** The database file is damaged or is not one of ours. */
export class StoreCorruptError extends Mtproto2jsonError {
  override name = "StoreCorrupt";
}

/** The store cannot be reached or refuses us (a server store's address, login or database). */
export class StoreUnavailableError extends Mtproto2jsonError {
  override name = "StoreUnavailable";
}
