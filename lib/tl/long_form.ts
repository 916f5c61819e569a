/**
 * Re-spells the `long` fields of a decoded TL value in the form a JSON client asked for, using
 * the schema to tell a long from an int: decimal strings (`longs_as_strings`, for JavaScript
 * clients), or numbers with `JSON.rawJSON` digits past 2^53 (the default). Values that were
 * decoded once and are written to several connections, or read back from a journal, each get
 * the form of the connection they go to.
 *
 * @module
 */

import { rawJson } from "./json.ts";
import type { TlSchema, TlType } from "./schema.ts";

/** How a JSON client wants its longs. */
export type LongForm = "string" | "json";

const isRawJson = (JSON as unknown as { isRawJSON(value: unknown): boolean }).isRawJSON;

/**
 * A copy of `value` (a TL object, or anything holding TL objects) whose long fields are in
 * `form`. Fields the schema does not know are copied as they are.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSchema } from "./schema.ts";
 * import { withLongForm } from "./long_form.ts";
 * const schema = parseSchema([{
 *   name: "demo.tl",
 *   text: "inputPeerUser#dde8a54c user_id:long access_hash:long = InputPeer;",
 * }]);
 * const peer = { _cons: "inputPeerUser", user_id: 7, access_hash: "-8446744073709551615" };
 * assert.deepEqual(withLongForm(schema, peer, "string"), {
 *   _cons: "inputPeerUser", user_id: "7", access_hash: "-8446744073709551615",
 * });
 * assert.equal(JSON.stringify(withLongForm(schema, peer, "json")),
 *   '{"_cons":"inputPeerUser","user_id":7,"access_hash":-8446744073709551615}');
 * ```
 */
export function withLongForm(schema: TlSchema, value: unknown, form: LongForm): unknown {
  return walk(schema, value, undefined, form);
}

function walk(schema: TlSchema, value: unknown, type: TlType | undefined, form: LongForm): unknown {
  if (type?.kind === "primitive") return type.name === "long" ? long(value, form) : value;
  if (Array.isArray(value)) {
    const element = type?.kind === "vector" ? type.element : undefined;
    return value.map((item) => walk(schema, item, element, form));
  }
  if (typeof value !== "object" || value === null || isRawJson(value)) return value;
  const object = value as Record<string, unknown>;
  const combinator = typeof object._cons === "string"
    ? schema.constructors.get(object._cons) ?? schema.functions.get(object._cons)
    : type?.kind === "bare"
    ? type.combinator
    : undefined;
  const types = new Map(combinator?.params.map((param) => [param.name, param.type]));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(object)) {
    copy[key] = walk(schema, item, types.get(key), form);
  }
  return copy;
}

function long(value: unknown, form: LongForm): unknown {
  let digits: string;
  if (typeof value === "number" || typeof value === "bigint") digits = String(value);
  else if (typeof value === "string" && /^-?\d+$/.test(value)) digits = value;
  else if (isRawJson(value)) digits = String((value as { rawJSON: unknown }).rawJSON);
  else return value;
  if (form === "string") return digits;
  const number = Number(digits);
  return Number.isSafeInteger(number) ? number : rawJson(digits);
}
