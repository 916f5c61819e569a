/**
 * How a held account's update line is kept in a journal row, and read back: the cursor after it
 * and the update container, as JSON text with every long exact. Read back, longs are in the
 * default JSON form (numbers, or raw JSON digits past 2^53) like live values, so that a replayed
 * line and a live one are written to connections the same way.
 *
 * @module
 */

import type { TlObject } from "../tl/codec.ts";
import { parseJsonExact } from "../tl/json.ts";
import { withLongForm } from "../tl/long_form.ts";
import type { TlSchema } from "../tl/schema.ts";

/** One journaled line: the update container and the cursor after it. */
export interface JournalRow {
  cursor: string;
  value: TlObject;
}

/**
 * The row's text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSchema } from "../tl/schema.ts";
 * import { rawJson } from "../tl/json.ts";
 * import { readJournalRow, writeJournalRow } from "./journal_row.ts";
 * const schema = parseSchema([{ name: "demo.tl", text: "user#1 id:long = User;" }]);
 * const row = { cursor: "c", value: { _cons: "user", id: rawJson("9223372036854775807") } };
 * const text = writeJournalRow(row);
 * assert.equal(text, '{"cursor":"c","value":{"_cons":"user","id":9223372036854775807}}');
 * assert.equal(JSON.stringify(readJournalRow(text, schema)), text);
 * ```
 */
export function writeJournalRow(row: JournalRow): string {
  return JSON.stringify({ cursor: row.cursor, value: row.value });
}

/** Reads a row written by {@link writeJournalRow}, longs in the default JSON form. */
export function readJournalRow(text: string, schema: TlSchema): JournalRow {
  // A row with no integer past 2^53 (one needs 16 digits) is read exactly by a plain parse,
  // without the schema walk.
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  const { cursor, value } = parseJsonExact(text);
  return { cursor, value: withLongForm(schema, value, "json") as TlObject };
}
