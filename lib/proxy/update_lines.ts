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

/** What goes out as an unasked line: a managed output, or an update as Telegram pushed it. */
export type UnaskedOutput =
  | ManagedOutput
  | { kind: "raw"; value: TlObject }
  | { kind: "event"; event: ManagedEvent | ClientEvent };

/** How a connection wants its lines. */
export interface LineForm {
  schema: TlSchema;
  /** Longs as decimal strings (values arrive with longs as numbers or exact raw JSON). */
  longsAsStrings: boolean;
}

/**
 * The JSON object of one unasked line.
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
export function unaskedLine(output: UnaskedOutput, form: LineForm): Record<string, unknown> {
  if (output.kind === "event") return { id: 0, event: output.event };
  const message = form.longsAsStrings
    ? withLongForm(form.schema, output.value, "string")
    : output.value;
  return output.kind === "updates" ? { id: 0, message, cursor: output.cursor } : { id: 0, message };
}
