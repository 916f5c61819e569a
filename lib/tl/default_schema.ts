/**
 * The schema shipped inside the executable: `scheme/api.tl`, `scheme/mtproto.tl` and the layer,
 * imported as text so that `deno compile` and `deno bundle` embed them and nothing is read from
 * disk at run time.
 *
 * @module
 */

import apiText from "../../scheme/api.tl" with { type: "text" };
import mtprotoText from "../../scheme/mtproto.tl" with { type: "text" };
import layerText from "../../scheme/layer" with { type: "text" };
import { parseSchema, type TlSchema, type TlSource } from "./schema.ts";

/** The API layer of the shipped schema. */
export const DEFAULT_LAYER: number = Number(layerText.trim());

/** The MTProto service schema; always loaded, since the protocol itself depends on it. */
export const MTPROTO_SOURCE: TlSource = { name: "scheme/mtproto.tl", text: mtprotoText };

/** The shipped API schema. */
export const API_SOURCE: TlSource = { name: "scheme/api.tl", text: apiText };

/**
 * Builds the schema from the MTProto definitions plus either the shipped API schema or the
 * given replacement texts (what `--scheme FILE` loads). The layer comes from a `// LAYER N`
 * comment in the sources, else the shipped layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_LAYER, loadSchema } from "./default_schema.ts";
 * const schema = loadSchema();
 * assert.ok(schema.layer === DEFAULT_LAYER);
 * assert.ok(schema.functions.has("messages.getDialogs"));
 * ```
 */
export function loadSchema(apiSources: TlSource[] = [API_SOURCE]): TlSchema {
  const schema = parseSchema([MTPROTO_SOURCE, ...apiSources]);
  schema.layer ??= DEFAULT_LAYER;
  return schema;
}
