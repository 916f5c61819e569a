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

/**
 * A row written by {@link writeJournalRow} taken apart without parsing its value: the cursor and
 * the value's JSON text, which is exactly what `JSON.stringify` makes of the value in the default
 * long form (so a connection in that form can be sent it as it is). Undefined for text not shaped
 * as such a row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitJournalRow } from "./journal_row.ts";
 * const text = '{"cursor":"AQ.x","value":{"_cons":"user","id":9223372036854775807}}';
 * assert.deepEqual(splitJournalRow(text), {
 *   cursor: "AQ.x",
 *   valueText: '{"_cons":"user","id":9223372036854775807}',
 * });
 * ```
 */
export function splitJournalRow(text: string): { cursor: string; valueText: string } | undefined {
  const head = '{"cursor":"';
  const middle = '","value":';
  if (!text.startsWith(head) || !text.endsWith("}")) return undefined;
  const end = text.indexOf(middle, head.length);
  if (end < 0) return undefined;
  const cursor = text.slice(head.length, end);
  // Cursors are base64url and dots; anything escaped is not a row this module wrote.
  if (!/^[\w.-]*$/.test(cursor)) return undefined;
  return { cursor, valueText: text.slice(end + middle.length, -1) };
}

/** Reads a row written by {@link writeJournalRow}, longs in the default JSON form. */
export function readJournalRow(text: string, schema: TlSchema): JournalRow {
  // A row with no integer past 2^53 (one needs 16 digits) is read exactly by a plain parse,
  // without the schema walk.
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  const { cursor, value } = parseJsonExact(text);
  return { cursor, value: withLongForm(schema, value, "json") as TlObject };
}
