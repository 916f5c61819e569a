/**
 * The default account store of `serve --state DIR`: an embedded SQLite file (Deno's
 * `node:sqlite`) in DIR, readable by its owner only, and owned by one process at a time.
 *
 * @module
 */

import { systemClock } from "../io/clock.ts";
import {
  type AccountStore,
  StoreCorruptError,
  StoreLockedError,
  StoreWriteError,
} from "./account_store.ts";

export {
  type AccountStore,
  type JournalEntry,
  StoreCorruptError,
  type StoredAccount,
  StoreLockedError,
  StoreWriteError,
} from "./account_store.ts";

/** How a store is opened. */
export interface OpenStoreOptions {
  /** Told about what opening changed on its own (a directory made private). */
  log?: (line: string) => void;
}

const FILE = "mtproto2json.sqlite";
const OWNER = "owner.json";

/**
 * Opens (creating if needed) the SQLite store in `dir`, and owns it until closed or until this
 * process ends: a second process gets {@link StoreLockedError} naming the first. The lock is
 * SQLite's exclusive file lock, which the system releases with its holder, so a SIGKILL leaves no
 * stale lock. The directory is made mode 0700 and the files 0600, since sessions hold auth keys.
 * A damaged database is refused with {@link StoreCorruptError}.
 */
export async function openSqliteStore(
  dir: string,
  options: OpenStoreOptions = {},
): Promise<AccountStore> {
  const { DatabaseSync } = await import("node:sqlite");
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mode = Deno.statSync(dir).mode;
  if (mode !== null && (mode & 0o077) !== 0) {
    Deno.chmodSync(dir, 0o700);
    options.log?.(
      `${dir} was readable by others (mode ${(mode & 0o777).toString(8)}); made it 0700, since ` +
        `it holds auth keys`,
    );
  }
  const path = `${dir}/${FILE}`;
  try {
    Deno.writeFileSync(path, new Uint8Array(0), { createNew: true, mode: 0o600 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  Deno.chmodSync(path, 0o600);
  let db: InstanceType<typeof DatabaseSync>;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw corrupt(path, error);
  }
  try {
    // Exclusive locking: the first transaction takes the file lock and keeps it until close.
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
    db.exec("COMMIT");
  } catch (error) {
    db.close();
    if (/locked|busy/i.test((error as Error).message)) throw locked(dir);
    throw corrupt(path, error);
  }
  try {
    writeOwner(dir);
    const check = db.prepare("PRAGMA quick_check").all() as Record<string, string>[];
    const verdict = check.map((row) => Object.values(row)[0]).join("; ");
    if (verdict !== "ok") throw new Error(verdict);
    db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      -- A small WAL, given back after each checkpoint: on a small or nearly full disk the log
      -- must not be what fills it.
      PRAGMA wal_autocheckpoint = 256;
      PRAGMA journal_size_limit = 1048576;
      CREATE TABLE IF NOT EXISTS accounts (
        key_id TEXT PRIMARY KEY, session TEXT NOT NULL, cursor TEXT);
      CREATE TABLE IF NOT EXISTS journal (
        key_id TEXT NOT NULL, seq INTEGER NOT NULL, line TEXT NOT NULL,
        PRIMARY KEY (key_id, seq));
    `);
    const columns = db.prepare("PRAGMA table_info(accounts)").all() as { name: string }[];
    if (!columns.some((column) => column.name === "epoch")) {
      db.exec("ALTER TABLE accounts ADD COLUMN epoch TEXT");
    }
  } catch (error) {
    db.close();
    if (error instanceof StoreLockedError) throw error;
    throw corrupt(path, error);
  }
  // The WAL is created beside the file: keep it private too.
  try {
    Deno.chmodSync(path + "-wal", 0o600);
  } catch { /* not there yet */ }
  return sqliteStore(db, dir);
}

// deno-lint-ignore no-explicit-any
function sqliteStore(db: any, dir: string): AccountStore {
  const upsert = db.prepare(
    "INSERT INTO accounts (key_id, session, cursor, epoch) VALUES (?, ?, ?, ?) " +
      "ON CONFLICT(key_id) DO UPDATE SET session = excluded.session, " +
      "cursor = excluded.cursor, epoch = excluded.epoch",
  );
  const epochOf = db.prepare("SELECT epoch FROM accounts WHERE key_id = ?");
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
  const dropJournal = db.prepare("DELETE FROM journal WHERE key_id = ?");
  const dropAccount = db.prepare("DELETE FROM accounts WHERE key_id = ?");
  /** One transaction; any failure is a StoreWriteError with SQLite's reason, nothing kept. */
  const write = (what: string, run: () => void) => {
    try {
      db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      throw new StoreWriteError(`${what}: ${(error as Error).message}`, { cause: error });
    }
    try {
      run();
      db.exec("COMMIT");
    } catch (error) {
      // SQLite may already have rolled back on its own (a full disk does): then there is none.
      try {
        db.exec("ROLLBACK");
      } catch { /* no transaction was left */ }
      throw new StoreWriteError(`${what}: ${(error as Error).message}`, { cause: error });
    }
  };
  const accountOf = (row: Record<string, string>) => ({
    keyId: row.key_id,
    session: JSON.parse(row.session),
    ...(row.cursor ? { cursor: row.cursor } : {}),
    ...(row.epoch ? { epoch: row.epoch } : {}),
  });
  const one = db.prepare("SELECT key_id, session, cursor, epoch FROM accounts WHERE key_id = ?");
  // node:sqlite is synchronous: each method does its work before it returns its promise, so a
  // write is committed by the time its promise settles, as the interface says.
  const now = <T>(run: () => T): Promise<T> => {
    try {
      return Promise.resolve(run());
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return {
    kind: "sqlite",
    accounts: () =>
      now(() =>
        (db.prepare("SELECT key_id, session, cursor, epoch FROM accounts").all() as Record<
          string,
          string
        >[]).map(accountOf)
      ),
    account: (keyId) =>
      now(() => {
        const row = one.get(keyId) as Record<string, string> | undefined;
        return row ? accountOf(row) : undefined;
      }),
    saveAccount: (account) =>
      now(() =>
        write("saving a held account", () => {
          const stored = epochOf.get(account.keyId) as { epoch: string | null } | undefined;
          if (stored && stored.epoch !== (account.epoch ?? null)) dropJournal.run(account.keyId);
          upsert.run(
            account.keyId,
            JSON.stringify(account.session),
            account.cursor ?? null,
            account.epoch ?? null,
          );
        })
      ),
    append: (keyId, entries, cursor) =>
      now(() =>
        write("journaling updates", () => {
          for (const entry of entries) insert.run(keyId, entry.seq, entry.line);
          if (Number(setCursor.run(cursor, keyId).changes) !== 1) {
            throw new Error("the account is not stored");
          }
        })
      ),
    journal: (keyId, afterSeq) =>
      now(() =>
        (after.all(keyId, afterSeq) as { seq: number; line: string }[]).map((row) => ({
          seq: Number(row.seq),
          line: row.line,
        }))
      ),
    journalBounds: (keyId) =>
      now(() => {
        const row = bounds.get(keyId) as { first: number | null; last: number | null };
        return row.first === null
          ? undefined
          : { first: Number(row.first), last: Number(row.last) };
      }),
    trim: (keyId, keep) =>
      now(() => write("trimming a journal", () => void trim.run(keyId, keyId, keep))),
    forget: (keyId) =>
      now(() =>
        write("forgetting a held account", () => {
          dropJournal.run(keyId);
          dropAccount.run(keyId);
        })
      ),
    // One process owns the file (its lock): it owns every lease, no write needs a fence, and every
    // account is its to hold (what it holds already, it knows).
    claim: () => Promise.resolve(1),
    renew: (_owner, keyIds) => Promise.resolve(keyIds),
    release: () => Promise.resolve(),
    unleased: () =>
      now(() =>
        (db.prepare("SELECT key_id FROM accounts ORDER BY key_id").all() as { key_id: string }[])
          .map((row) => row.key_id)
      ),
    askHandover: () => Promise.resolve(),
    onHandover: () => Promise.resolve(),
    heartbeat: () =>
      now(() => ({
        instances: 1,
        accounts: Number(
          (db.prepare("SELECT count(*) AS n FROM accounts").get() as { n: number }).n,
        ),
      })),
    close: () =>
      now(() => {
        if (!db.isOpen) return;
        try {
          Deno.removeSync(`${dir}/${OWNER}`);
        } catch { /* gone already */ }
        db.close();
      }),
  };
}

/** Records who owns the directory, so that a second process can name it. */
function writeOwner(dir: string): void {
  let hostname = "this host";
  try {
    hostname = Deno.hostname();
  } catch { /* the name needs --allow-sys, which the executable is not given */ }
  const owner = { pid: Deno.pid, hostname, since: new Date(systemClock.wall()).toISOString() };
  Deno.writeTextFileSync(`${dir}/${OWNER}`, JSON.stringify(owner) + "\n", { mode: 0o600 });
}

function locked(dir: string): StoreLockedError {
  let who = "another process";
  try {
    const owner = JSON.parse(Deno.readTextFileSync(`${dir}/${OWNER}`));
    who = `process ${owner.pid} on ${owner.hostname} (since ${owner.since})`;
  } catch { /* not written yet */ }
  return new StoreLockedError(
    `${dir} is in use by ${who}: one serve per state directory. Stop that one, or give this ` +
      `one another --state directory.`,
  );
}

function corrupt(path: string, error: unknown): StoreCorruptError {
  return new StoreCorruptError(
    `${path} is damaged or not a mtproto2json store (${(error as Error).message}). Restore it ` +
      `from a backup, or move it away to start with an empty store: held accounts are then ` +
      `held again when their sessions are loaded, and clients' cursors still resume exactly.`,
    { cause: error },
  );
}
