/**
 * The PostgreSQL store's schema, as numbered steps: step N is applied once, in order, and recorded
 * in `mtproto2json_migrations`; a step is never edited once released (a change is a new step).
 *
 * @module
 */

/** The advisory lock taken around migrations (any constant of ours: "m2j" and 21). */
export const MIGRATIONS_LOCK = 0x6d326a_0021;

/** The steps, version 1 first. */
export const MIGRATIONS: readonly string[] = [
  // 1: what the SQLite store keeps.
  `CREATE TABLE mtproto2json_accounts (
     key_id text PRIMARY KEY,
     session text NOT NULL,
     cursor text,
     epoch text);
   CREATE TABLE mtproto2json_journal (
     key_id text NOT NULL,
     seq int8 NOT NULL,
     line text NOT NULL,
     PRIMARY KEY (key_id, seq));`,
  // 2: one lease per held account (issue #21): its owner instance, the fencing token bumped at
  // each change of hands, and when it lapses (by the server's clock).
  `CREATE TABLE mtproto2json_leases (
     key_id text PRIMARY KEY,
     owner text NOT NULL,
     token int8 NOT NULL,
     expires_at timestamptz NOT NULL);
   CREATE INDEX mtproto2json_leases_owner ON mtproto2json_leases (owner);`,
  // 3: the live instances, so that each takes an even share of the accounts nobody holds.
  `CREATE TABLE mtproto2json_instances (
     owner text PRIMARY KEY,
     expires_at timestamptz NOT NULL);`,
];
