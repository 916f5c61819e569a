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
  saveAccount(account: StoredAccount): Promise<void>;
  /** Appends lines to an account's journal and records its cursor, in one transaction. */
  append(keyId: string, entries: JournalEntry[], cursor: string): Promise<void>;
  /** The entries after `afterSeq`, oldest first. */
  journal(keyId: string, afterSeq: number): Promise<JournalEntry[]>;
  /** The first and last positions held, if any. */
  journalBounds(keyId: string): Promise<{ first: number; last: number } | undefined>;
  /** Drops all but the newest `keep` entries. */
  trim(keyId: string, keep: number): Promise<void>;
  /** Forgets an account and its journal (after auth.logOut). */
  forget(keyId: string): Promise<void>;
  close(): Promise<void>;
}

/** A store write that did not happen (disk full, read-only, I/O error); nothing of it was kept. */
export class StoreWriteError extends Mtproto2jsonError {
  override name = "StoreWriteError";
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
