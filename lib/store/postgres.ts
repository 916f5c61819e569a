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
  type Fence,
  type JournalEntry,
  LeaseLostError,
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
 * The LISTEN/NOTIFY channel of handover requests; the payload is the account's key id, a space,
 * and the asking instance (a payload of an older version has the key id alone).
 */
const HANDOVER = "mtproto2json_handover";

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
      if (error instanceof LeaseLostError) throw error;
      throw new StoreWriteError(`${what}: ${(error as Error).message}`, { cause: error });
    }
  };
  /**
   * Whether a write may happen: no fence, or the fence's lease live, in the same statement. The
   * lease row is locked (FOR SHARE) so that a takeover's claim waits for this write to commit, and
   * a write racing a claim that committed first sees the new token: nothing of an old owner can
   * land after the new one read the account.
   */
  const fenced = (keyId: string, fence?: Fence) =>
    fence
      ? sql`EXISTS (SELECT 1 FROM mtproto2json_leases WHERE key_id = ${keyId}
          AND owner = ${fence.owner} AND token = ${fence.token} AND expires_at > now()
          FOR SHARE)`
      : sql`true`;
  const lost = (keyId: string, what: string) =>
    new LeaseLostError(
      `${what}: the lease on held account ${keyId} is no longer this instance's; nothing written`,
    );
  const ms = (value: number) => `${Math.max(0, Math.round(value))} milliseconds`;
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
    saveAccount: (account, fence) =>
      write("saving a held account", async () => {
        const epoch = account.epoch ?? null;
        // One statement: the old epoch's journal goes with the row that replaces it.
        const rows = await sql`WITH ok AS (SELECT ${fenced(account.keyId, fence)} AS ok),
          old AS (
            SELECT epoch FROM mtproto2json_accounts WHERE key_id = ${account.keyId}),
          dropped AS (
            DELETE FROM mtproto2json_journal WHERE key_id = ${account.keyId}
            AND (SELECT ok FROM ok)
            AND EXISTS (SELECT 1 FROM old WHERE old.epoch IS DISTINCT FROM ${epoch}::text))
          INSERT INTO mtproto2json_accounts (key_id, session, cursor, epoch)
          SELECT ${account.keyId}, ${JSON.stringify(account.session)},
            ${account.cursor ?? null}, ${epoch} FROM ok WHERE ok.ok
          ON CONFLICT (key_id) DO UPDATE SET session = excluded.session,
            cursor = excluded.cursor, epoch = excluded.epoch
          RETURNING 1`;
        if (rows.length !== 1) throw lost(account.keyId, "saving a held account");
      }),
    append: (keyId, entries, cursor, fence) =>
      write("journaling updates", async () => {
        const rows = await sql`WITH ok AS (SELECT ${fenced(keyId, fence)} AS ok),
          a AS (
            UPDATE mtproto2json_accounts SET cursor = ${cursor}
            WHERE key_id = ${keyId} AND (SELECT ok FROM ok)
            RETURNING key_id),
          j AS (
            INSERT INTO mtproto2json_journal (key_id, seq, line)
            SELECT a.key_id, x.seq, x.line FROM a,
              unnest(${entries.map((entry) => entry.seq)}::int8[],
                ${entries.map((entry) => entry.line)}::text[]) AS x(seq, line)
            ON CONFLICT (key_id, seq) DO UPDATE SET line = excluded.line)
          SELECT count(*)::int AS n, (SELECT ok FROM ok) AS ok FROM a`;
        if (!rows[0].ok) throw lost(keyId, "journaling updates");
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
    claim: (keyId, owner, lease) =>
      write("taking a lease", async () => {
        // Taken when free, lapsed or ours; the token moves whenever it changes hands or lapsed.
        const rows =
          await sql`INSERT INTO mtproto2json_leases AS l (key_id, owner, token, expires_at)
          VALUES (${keyId}, ${owner}, 1, now() + ${ms(lease)}::interval)
          ON CONFLICT (key_id) DO UPDATE SET owner = excluded.owner,
            token = l.token + CASE WHEN l.owner = excluded.owner AND l.expires_at > now()
              THEN 0 ELSE 1 END,
            expires_at = excluded.expires_at
          WHERE l.owner = excluded.owner OR l.expires_at <= now()
          RETURNING token`;
        return rows.length ? Number(rows[0].token) : undefined;
      }),
    renew: (owner, keyIds, lease) =>
      write(
        "renewing leases",
        async () =>
          (await sql`UPDATE mtproto2json_leases SET expires_at = now() + ${ms(lease)}::interval
          WHERE owner = ${owner} AND expires_at > now() AND key_id = ANY(${keyIds}::text[])
          RETURNING key_id`).map((row: { key_id: string }) => row.key_id),
      ),
    release: (owner, keyIds) =>
      write("releasing leases", async () => {
        await sql`UPDATE mtproto2json_leases SET expires_at = now() - interval '1 millisecond'
          WHERE owner = ${owner} AND key_id = ANY(${keyIds}::text[])`;
      }),
    unleased: () =>
      read(
        "listing unleased accounts",
        async () =>
          (await sql`SELECT a.key_id FROM mtproto2json_accounts a
          LEFT JOIN mtproto2json_leases l ON l.key_id = a.key_id AND l.expires_at > now()
          WHERE l.key_id IS NULL ORDER BY a.key_id`).map((row: { key_id: string }) => row.key_id),
      ),
    heartbeat: (owner, lease) =>
      write("telling the store this instance is alive", async () => {
        const [row] = await sql`WITH me AS (
            INSERT INTO mtproto2json_instances AS i (owner, expires_at)
            VALUES (${owner}, now() + ${ms(lease)}::interval)
            ON CONFLICT (owner) DO UPDATE SET expires_at = excluded.expires_at
            RETURNING owner, expires_at),
          gone AS (DELETE FROM mtproto2json_instances WHERE expires_at < now() - interval '1 hour')
          SELECT (SELECT count(*) FROM mtproto2json_instances
              WHERE expires_at > now() AND owner <> ${owner})::int
            + (SELECT count(*) FROM me WHERE expires_at > now())::int AS instances,
            (SELECT count(*) FROM mtproto2json_accounts)::int AS accounts`;
        return { instances: Number(row.instances), accounts: Number(row.accounts) };
      }),
    askHandover: (keyId, asker) =>
      write("asking for a handover", async () => {
        await sql.notify(HANDOVER, `${keyId} ${asker}`);
      }),
    onHandover: async (handler) => {
      // A connection of its own, reconnected (and listening again) by the client when it drops.
      await timed(
        clock,
        sql.listen(HANDOVER, (payload: string) => {
          const [keyId, asker] = payload.split(" ");
          handler(keyId, asker);
        }),
        timeoutMs,
        "listening for handovers",
      );
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await sql.end({ timeout: 1 });
    },
  };
}
