/**
 * What `fitToSchema` (see `CodecOptions`) fills in when a value written against another layer
 * lacks something this schema requires: a neutral value for a missing field, and the simplest
 * constructor of a type for an object the schema cannot take. Only the emulator, which answers
 * clients at their own layer from one set of objects, encodes this way.
 *
 * @module
 */

import type { TlCombinator, TlSchema, TlType } from "./schema.ts";

/**
 * How many neutral constructors may be filled in one inside another: a schema whose every
 * constructor of a type needs that type again would otherwise recurse forever.
 */
export const MAX_NEUTRAL_DEPTH = 16;

/**
 * The value written for a missing required field of `type`: 0, "", empty bytes, false or []. A
 * boxed type gets an object with a `_cons` no schema has, which the encoder replaces by the type's
 * simplest constructor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { neutralValue } from "./fit_to_schema.ts";
 * assert.equal(neutralValue({ kind: "primitive", name: "long" }), 0n);
 * assert.deepEqual(neutralValue({ kind: "boxed", name: "Bool" }), false);
 * ```
 */
export function neutralValue(type: TlType): unknown {
  switch (type.kind) {
    case "primitive":
      switch (type.name) {
        case "long":
          return 0n;
        case "string":
          return "";
        case "bytes":
          return new Uint8Array(0);
        case "int128":
          return new Uint8Array(16);
        case "int256":
          return new Uint8Array(32);
        default:
          return 0;
      }
    case "vector":
      return [];
    case "boxed":
      return type.name === "Bool" ? false : { _cons: "" };
    case "bare":
      return {};
    default:
      return undefined;
  }
}

/**
 * The constructor of `typeName` with the fewest required fields (the first of equals), or
 * undefined when the schema has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { simplestConstructor } from "./fit_to_schema.ts";
 * import { parseSchema } from "./schema.ts";
 * const schema = parseSchema([{
 *   name: "demo.tl",
 *   text: "peerUser#59511722 user_id:long = Peer;\npeerEmpty#1 = Peer;",
 * }]);
 * assert.equal(simplestConstructor(schema, "Peer")?.name, "peerEmpty");
 * ```
 */
export function simplestConstructor(schema: TlSchema, typeName: string): TlCombinator | undefined {
  const candidates = schema.typeConstructors.get(typeName) ?? [];
  const required = (combinator: TlCombinator) =>
    combinator.params.filter((param) => !param.condition && param.type.kind !== "flags").length;
  return candidates.reduce<TlCombinator | undefined>(
    (best, next) => (best === undefined || required(next) < required(best) ? next : best),
    undefined,
  );
}
