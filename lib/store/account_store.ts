/**
 * Where `serve --state` keeps held accounts, as an interface any backing store implements: each
 * account's session (its auth key included), its durable update cursor and journal epoch, and its
 * journal of update rows; with the errors every store reports the same way. The default store is
 * SQLite in a directory (`sqlite.ts`); `tests/store/account_store_contract.ts` is what any store
 * must pass.
 *
 * Every write is one transaction: it happens whole or not at all, and a failure (a full disk, a
 * read-only or failing device, a lost server) is thrown as a {@link StoreWriteError}.
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
  accounts(): StoredAccount[];
  /**
   * Adds or replaces an account (session, epoch and cursor as given). A new epoch drops the
   * journal of the old one in the same transaction.
   */
  saveAccount(account: StoredAccount): void;
  /** Appends lines to an account's journal and records its cursor, in one transaction. */
  append(keyId: string, entries: JournalEntry[], cursor: string): void;
  /** The entries after `afterSeq`, oldest first. */
  journal(keyId: string, afterSeq: number): JournalEntry[];
  /** The first and last positions held, if any. */
  journalBounds(keyId: string): { first: number; last: number } | undefined;
  /** Drops all but the newest `keep` entries. */
  trim(keyId: string, keep: number): void;
  /** Forgets an account and its journal (after auth.logOut). */
  forget(keyId: string): void;
  close(): void;
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
