/**
 * Where `serve --state DIR` keeps held accounts: each account's session (its auth key included)
 * and update cursor, and its journal of managed update lines. Behind a small interface so that a
 * server database can back several `serve` instances later; the default is an embedded SQLite
 * file (Deno's `node:sqlite`) in DIR, readable by its owner only.
 *
 * @module
 */

/** One held account as stored. */
export interface StoredAccount {
  /** The auth key id (hex) the account is found by. */
  keyId: string;
  /** The session object of the JSON protocol (auth key, dc, user id, server, ...). */
  session: Record<string, unknown>;
  /** The account's update cursor after the last journaled line. */
  cursor?: string;
}

/** A journaled line and its position in the account's journal. */
export interface JournalEntry {
  seq: number;
  line: string;
}

/** What held accounts need from storage. */
export interface AccountStore {
  accounts(): StoredAccount[];
  /** Adds or replaces an account's session (and cursor). */
  saveAccount(account: StoredAccount): void;
  /** Appends lines to an account's journal and records its cursor, at once. */
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

/**
 * Opens (creating if needed) the SQLite store in `dir`: the directory is made mode 0700 and the
 * database file 0600, since sessions hold auth keys. SQLite is loaded only here, when asked for.
 */
export async function openSqliteStore(dir: string): Promise<AccountStore> {
  const { DatabaseSync } = await import("node:sqlite");
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = `${dir}/mtproto2json.sqlite`;
  try {
    Deno.writeFileSync(path, new Uint8Array(0), { createNew: true, mode: 0o600 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  Deno.chmodSync(path, 0o600);
  const db = new DatabaseSync(path);
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS accounts (
      key_id TEXT PRIMARY KEY, session TEXT NOT NULL, cursor TEXT);
    CREATE TABLE IF NOT EXISTS journal (
      key_id TEXT NOT NULL, seq INTEGER NOT NULL, line TEXT NOT NULL,
      PRIMARY KEY (key_id, seq));
  `);
  // WAL and its index are created beside the file: keep them private too.
  for (const suffix of ["-wal", "-shm"]) {
    try {
      Deno.chmodSync(path + suffix, 0o600);
    } catch { /* not there yet */ }
  }
  const upsert = db.prepare(
    "INSERT INTO accounts (key_id, session, cursor) VALUES (?, ?, ?) " +
      "ON CONFLICT(key_id) DO UPDATE SET session = excluded.session, " +
      "cursor = coalesce(excluded.cursor, accounts.cursor)",
  );
  const setCursor = db.prepare("UPDATE accounts SET cursor = ? WHERE key_id = ?");
  const insert = db.prepare("INSERT OR REPLACE INTO journal (key_id, seq, line) VALUES (?, ?, ?)");
  const after = db.prepare(
    "SELECT seq, line FROM journal WHERE key_id = ? AND seq > ? ORDER BY seq",
  );
  const bounds = db.prepare(
    "SELECT min(seq) AS first, max(seq) AS last FROM journal WHERE key_id = ?",
  );
  const trim = db.prepare(
    "DELETE FROM journal WHERE key_id = ? AND seq <= (SELECT max(seq) FROM journal WHERE key_id = ?) - ?",
  );
  const transaction = (run: () => void) => {
    db.exec("BEGIN");
    try {
      run();
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  };
  return {
    accounts: () =>
      (db.prepare("SELECT key_id, session, cursor FROM accounts").all() as Record<string, string>[])
        .map((row) => ({
          keyId: row.key_id,
          session: JSON.parse(row.session),
          ...(row.cursor ? { cursor: row.cursor } : {}),
        })),
    saveAccount: (account) =>
      void upsert.run(account.keyId, JSON.stringify(account.session), account.cursor ?? null),
    append: (keyId, entries, cursor) =>
      transaction(() => {
        for (const entry of entries) insert.run(keyId, entry.seq, entry.line);
        setCursor.run(cursor, keyId);
      }),
    journal: (keyId, afterSeq) =>
      (after.all(keyId, afterSeq) as { seq: number; line: string }[]).map((row) => ({
        seq: Number(row.seq),
        line: row.line,
      })),
    journalBounds: (keyId) => {
      const row = bounds.get(keyId) as { first: number | null; last: number | null };
      return row.first === null ? undefined : { first: Number(row.first), last: Number(row.last) };
    },
    trim: (keyId, keep) => void trim.run(keyId, keyId, keep),
    forget: (keyId) =>
      transaction(() => {
        db.prepare("DELETE FROM journal WHERE key_id = ?").run(keyId);
        db.prepare("DELETE FROM accounts WHERE key_id = ?").run(keyId);
      }),
    close: () => db.close(),
  };
}
