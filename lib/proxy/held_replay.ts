/**
 * How a held account reads the journal rows a returning connection missed, while lines go on
 * being journaled: it reads on until it has every row up to the last one delivered. The caller
 * then checks the rows with {@link wholeReplay} and registers the connection in the same
 * synchronous step, so that no live line falls in between nor comes twice.
 *
 * @module
 */

import type { AccountStore, JournalEntry } from "../store/account_store.ts";

/**
 * The rows after `after`, read until they reach `delivered()` (the last position delivered to
 * connections, which moves while reading) or `wanted()` is false; undefined when the journal no
 * longer reaches back to `after` (trimmed).
 */
export async function readReplay(
  store: AccountStore,
  keyId: string,
  after: number,
  delivered: () => number,
  wanted: () => boolean,
): Promise<JournalEntry[] | undefined> {
  const first = (await store.journalBounds(keyId))?.first ?? delivered() + 1;
  if (after + 1 < first) return undefined;
  const entries = await store.journal(keyId, after);
  while (wanted() && (entries.at(-1)?.seq ?? after) < delivered()) {
    const more = await store.journal(keyId, entries.at(-1)?.seq ?? after);
    if (more.length === 0) break;
    entries.push(...more);
  }
  return entries;
}

/**
 * The rows from `after + 1` to `delivered` exactly, or undefined when some are missing (trimmed
 * meanwhile). Rows past `delivered` are dropped: they are not the account's yet (a write that
 * failed late).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wholeReplay } from "./held_replay.ts";
 * const rows = [2, 3, 4].map((seq) => ({ seq, line: `${seq}` }));
 * assert.deepEqual(wholeReplay(rows, 1, 3)?.map((row) => row.seq), [2, 3]);
 * assert.equal(wholeReplay(rows.slice(1), 1, 3), undefined);
 * ```
 */
export function wholeReplay(
  entries: JournalEntry[] | undefined,
  after: number,
  delivered: number,
): JournalEntry[] | undefined {
  if (!entries) return undefined;
  const kept = entries.filter((entry) => entry.seq <= delivered);
  const whole = kept.every((entry, i) => entry.seq === after + 1 + i) &&
    after + kept.length === delivered;
  return whole ? kept : undefined;
}
