/**
 * The one writer of the protocol's unasked lines (`"id": 0`): managed update containers with
 * their cursor, raw pushed updates, and events, each spelled for the connection it goes to (its
 * `longs_as_strings`). Updates travel through the client and the held accounts as typed values;
 * only here do they become JSON objects, so that every path (live, replayed from a journal,
 * recovered by a difference, raw) writes them the same way.
 *
 * @module
 */

import type { ManagedEvent, ManagedOutput } from "../client/managed_updates.ts";
import type { ClientEvent } from "../client/client.ts";
import type { TlObject } from "../tl/codec.ts";
import { withLongForm } from "../tl/long_form.ts";
import type { TlSchema } from "../tl/schema.ts";
import { readJournalRow, splitJournalRow } from "../store/journal_row.ts";

/**
 * What goes out as an unasked line: a managed output, an update as Telegram pushed it, or an
 * update container replayed from a held account's journal (the row's text, not parsed unless the
 * connection wants another long form: a resume of thousands of lines costs no schema walk).
 */
export type UnaskedOutput =
  | ManagedOutput
  | { kind: "journaled"; row: string }
  | { kind: "raw"; value: TlObject }
  | { kind: "event"; event: ManagedEvent | ClientEvent | AccountMovedEvent };

/**
 * A held account this connection follows is driven by another instance now (its lease lost, or
 * handed over to an instance a client asked on): load the session again, on any instance.
 */
export type AccountMovedEvent = { type: "account_moved" };

/** How a connection wants its lines. */
export interface LineForm {
  schema: TlSchema;
  /** Longs as decimal strings (values arrive with longs as numbers or exact raw JSON). */
  longsAsStrings: boolean;
}

/**
 * The JSON object of one unasked line, or its JSON text when it is written as it was stored (a
 * journal row for a connection in the default long form).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSchema } from "../tl/schema.ts";
 * import { unaskedLine } from "./update_lines.ts";
 * const schema = parseSchema([{ name: "demo.tl", text: "user#1 id:long = User;" }]);
 * const output = { kind: "raw" as const, value: { _cons: "user", id: 7 } };
 * assert.deepEqual(unaskedLine(output, { schema, longsAsStrings: true }), {
 *   id: 0,
 *   message: { _cons: "user", id: "7" },
 * });
 * ```
 */
export function unaskedLine(
  output: UnaskedOutput,
  form: LineForm,
): Record<string, unknown> | string {
  if (output.kind === "event") return { id: 0, event: output.event };
  if (output.kind === "journaled") {
    const split = form.longsAsStrings ? undefined : splitJournalRow(output.row);
    if (split) {
      return `{"id":0,"message":${split.valueText},"cursor":${JSON.stringify(split.cursor)}}`;
    }
    return unaskedLine({ kind: "updates", ...readJournalRow(output.row, form.schema) }, form);
  }
  const message = form.longsAsStrings
    ? withLongForm(form.schema, output.value, "string")
    : output.value;
  return output.kind === "updates" ? { id: 0, message, cursor: output.cursor } : { id: 0, message };
}
