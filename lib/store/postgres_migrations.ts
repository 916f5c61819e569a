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
];
