/**
 * The shared account store of `serve --state postgres://...`: the same accounts, sessions,
 * update state and journals as the SQLite store keeps, in PostgreSQL tables named
 * `mtproto2json_*`, so that several instances can hold accounts from one database. The client is
 * `npm:postgres` (porsager/postgres), loaded only when such a URL is given.
 *
 * Migrations are versioned and applied at open, in one transaction under an advisory lock: two
 * instances starting at once apply each step once, and an instance of an older version never sees
 * half a migration. Each write is one SQL statement (one round trip, atomic by itself); a write
 * that the server does not answer within the timeout fails as a {@link StoreWriteError}.
 *
 * @module
 */

import {
  type AccountStore,
  type JournalEntry,
  type StoredAccount,
  StoreUnavailableError,
  StoreWriteError,
} from "./account_store.ts";
import { MIGRATIONS, MIGRATIONS_LOCK } from "./postgres_migrations.ts";
import { type Clock, systemClock, type TimerId } from "../io/clock.ts";

/** How a PostgreSQL store is opened. */
export interface OpenPostgresOptions {
  /** A statement the server does not answer within this is failed (default 5000 ms). */
  timeoutMs?: number;
  /** Connections kept open to the server (default 4; statements are pipelined on each). */
  connections?: number;
  /** Told what opening did (migrations applied). */
  log?: (line: string) => void;
  /** Times the statements' timeouts (the platform's by default). */
  clock?: Clock;
}

/**
 * Whether `text` names a PostgreSQL server rather than a directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPostgresUrl } from "./postgres.ts";
 * assert.equal(isPostgresUrl("postgres://app@db:5432/mtproto2json"), true);
 * assert.equal(isPostgresUrl("postgresql://db/x"), true);
 * assert.equal(isPostgresUrl("/var/lib/mtproto2json"), false);
 * ```
 */
export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text.trim());
}

/**
 * The URL with its password replaced by `***`, for logs and errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactPostgresUrl } from "./postgres.ts";
 * assert.equal(redactPostgresUrl("postgres://app:s3cret@db:5432/m"), "postgres://app:***@db:5432/m");
 * ```
 */
export function redactPostgresUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/i, "$1:***@");
}

// deno-lint-ignore no-explicit-any
type Sql = any;

/**
 * Opens the store at `url`, applying the migrations it lacks. A server that cannot be reached or
 * refuses the login is a {@link StoreUnavailableError} naming the URL without its password.
 */
export async function openPostgresStore(
  url: string,
  options: OpenPostgresOptions = {},
): Promise<AccountStore> {
  // Pinned here rather than in an import map: the executable is built from main.ts alone.
  // deno-lint-ignore no-import-prefix
  const { default: postgres } = await import("npm:postgres@3.4.8");
  const timeoutMs = options.timeoutMs ?? 5000;
  const clock = options.clock ?? systemClock;
  const sql: Sql = postgres(url, {
    max: options.connections ?? 4,
    onnotice: () => {},
    connect_timeout: Math.max(1, Math.ceil(timeoutMs / 1000)),
    connection: { application_name: "mtproto2json" },
  });
  try {
    await timed(
      clock,
      migrate(sql, options.log),
      timeoutMs * 3,
      "applying the store's migrations",
    );
  } catch (error) {
    await sql.end({ timeout: 0 }).catch(() => {});
    throw new StoreUnavailableError(
      `cannot open the store at ${redactPostgresUrl(url)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return postgresStore(sql, timeoutMs, clock);
}

/** Applies the migrations the database lacks, one transaction under the advisory lock. */
async function migrate(sql: Sql, log?: (line: string) => void): Promise<void> {
  await sql.begin(async (tx: Sql) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATIONS_LOCK})`;
    await tx.unsafe(
      "CREATE TABLE IF NOT EXISTS mtproto2json_migrations (" +
        "version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const done = new Set(
      (await tx`SELECT version FROM mtproto2json_migrations`).map((row: { version: number }) =>
        row.version
      ),
    );
    for (const [index, step] of MIGRATIONS.entries()) {
      const version = index + 1;
      if (done.has(version)) continue;
      await tx.unsafe(step);
      await tx`INSERT INTO mtproto2json_migrations (version) VALUES (${version})`;
      log?.(`applied migration ${version} of the store`);
    }
  });
}

/** `promise`, or a rejection once `ms` passed without it settling. */
function timed<T>(clock: Clock, promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: TimerId | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(
      () => reject(new Error(`${what}: the server did not answer within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, late]).finally(() => clock.clearTimeout(timer));
}

function postgresStore(sql: Sql, timeoutMs: number, clock: Clock): AccountStore {
  /** One statement; any failure (or no answer in time) is a StoreWriteError, nothing kept. */
  const write = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await timed(clock, run(), timeoutMs, what);
    } catch (error) {
      throw new StoreWriteError(`${what}: ${(error as Error).message}`, { cause: error });
    }
  };
  const read = <T>(what: string, run: () => Promise<T>): Promise<T> =>
    timed(clock, run(), timeoutMs, what);
  const accountOf = (row: Record<string, string | null>): StoredAccount => ({
    keyId: row.key_id!,
    session: JSON.parse(row.session!),
    ...(row.cursor ? { cursor: row.cursor } : {}),
    ...(row.epoch ? { epoch: row.epoch } : {}),
  });
  let closed = false;
  return {
    kind: "postgres",
    accounts: () =>
      read(
        "listing held accounts",
        async () =>
          (await sql`SELECT key_id, session, cursor, epoch FROM mtproto2json_accounts
          ORDER BY key_id`).map(accountOf),
      ),
    account: (keyId) =>
      read("reading a held account", async () => {
        const rows = await sql`SELECT key_id, session, cursor, epoch FROM mtproto2json_accounts
          WHERE key_id = ${keyId}`;
        return rows.length ? accountOf(rows[0]) : undefined;
      }),
    saveAccount: (account) =>
      write("saving a held account", async () => {
        const epoch = account.epoch ?? null;
        // One statement: the old epoch's journal goes with the row that replaces it.
        await sql`WITH old AS (
            SELECT epoch FROM mtproto2json_accounts WHERE key_id = ${account.keyId}),
          dropped AS (
            DELETE FROM mtproto2json_journal WHERE key_id = ${account.keyId}
            AND EXISTS (SELECT 1 FROM old WHERE old.epoch IS DISTINCT FROM ${epoch}::text))
          INSERT INTO mtproto2json_accounts (key_id, session, cursor, epoch)
          VALUES (${account.keyId}, ${JSON.stringify(account.session)},
            ${account.cursor ?? null}, ${epoch})
          ON CONFLICT (key_id) DO UPDATE SET session = excluded.session,
            cursor = excluded.cursor, epoch = excluded.epoch`;
      }),
    append: (keyId, entries, cursor) =>
      write("journaling updates", async () => {
        const rows = await sql`WITH a AS (
            UPDATE mtproto2json_accounts SET cursor = ${cursor} WHERE key_id = ${keyId}
            RETURNING key_id),
          j AS (
            INSERT INTO mtproto2json_journal (key_id, seq, line)
            SELECT a.key_id, x.seq, x.line FROM a,
              unnest(${entries.map((entry) => entry.seq)}::int8[],
                ${entries.map((entry) => entry.line)}::text[]) AS x(seq, line)
            ON CONFLICT (key_id, seq) DO UPDATE SET line = excluded.line)
          SELECT count(*)::int AS n FROM a`;
        if (rows[0].n !== 1) throw new Error("the account is not stored");
      }),
    journal: (keyId, afterSeq) =>
      read("reading a journal", async () =>
        (await sql`SELECT seq, line FROM mtproto2json_journal
          WHERE key_id = ${keyId} AND seq > ${afterSeq} ORDER BY seq`).map((
          row: { seq: number | string; line: string },
        ): JournalEntry => ({ seq: Number(row.seq), line: row.line }))),
    journalBounds: (keyId) =>
      read("reading a journal's bounds", async () => {
        const [row] = await sql`SELECT min(seq) AS first, max(seq) AS last
          FROM mtproto2json_journal WHERE key_id = ${keyId}`;
        return row.first === null
          ? undefined
          : { first: Number(row.first), last: Number(row.last) };
      }),
    trim: (keyId, keep) =>
      write("trimming a journal", async () => {
        await sql`DELETE FROM mtproto2json_journal WHERE key_id = ${keyId} AND seq <=
          (SELECT max(seq) FROM mtproto2json_journal WHERE key_id = ${keyId}) - ${keep}`;
      }),
    forget: (keyId) =>
      write("forgetting a held account", async () => {
        await sql`WITH j AS (DELETE FROM mtproto2json_journal WHERE key_id = ${keyId})
          DELETE FROM mtproto2json_accounts WHERE key_id = ${keyId}`;
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      await sql.end({ timeout: 1 });
    },
  };
}
