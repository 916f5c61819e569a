/**
 * Generates an example value for any combinator of a schema, in the input form the JSON protocol
 * uses, so that tests can round-trip every constructor and method.
 *
 * @module
 */

import type { TlCombinator, TlSchema, TlType } from "../../lib/tl/schema.ts";

/** Which optional (`flags.N?`) fields the example sets. */
export type Optional = "all" | "none";

const SAMPLE_LONG = "-8446744073709551615";
const SAMPLE_BYTES = new Uint8Array([0, 1, 2, 250, 255]).toBase64();
const SAMPLE_STRING = "héllo ✓ 𝄞";

/** Builds an example of `combinator` with every required field and the chosen optional ones. */
export function exampleOf(
  schema: TlSchema,
  combinator: TlCombinator,
  optional: Optional,
  depth = 0,
): Record<string, unknown> {
  const value: Record<string, unknown> = { _cons: combinator.name };
  for (const param of combinator.params) {
    if (param.type.kind === "flags") continue;
    if (param.condition && (optional === "none" || depth > 2)) continue;
    value[param.name] = exampleOfType(schema, param.type, optional, depth + 1);
  }
  return value;
}

function exampleOfType(schema: TlSchema, type: TlType, optional: Optional, depth: number): unknown {
  switch (type.kind) {
    case "primitive":
      switch (type.name) {
        case "int":
          return -123456789;
        case "long":
          return SAMPLE_LONG;
        case "double":
          return 2.5;
        case "string":
          return SAMPLE_STRING;
        case "bytes":
          return SAMPLE_BYTES;
        case "int128":
          return new Uint8Array(16).fill(7).toBase64();
        case "int256":
          return new Uint8Array(32).fill(9).toBase64();
      }
      break;
    case "true":
      return { _cons: "true" };
    case "flags":
      return undefined;
    case "any":
      return { _cons: "help.getConfig" };
    case "vector":
      return depth > 4 ? [] : [exampleOfType(schema, type.element, optional, depth + 1)];
    case "bare":
      return exampleOf(schema, type.combinator, optional, depth);
    case "boxed": {
      const constructors = schema.typeConstructors.get(type.name);
      if (!constructors?.length) throw new Error(`no constructor for type ${type.name}`);
      // Deep in the tree, prefer the constructor with the fewest fields so recursion ends.
      const chosen = depth > 3
        ? constructors.reduce((a, b) => (requiredCount(b) < requiredCount(a) ? b : a))
        : constructors[depth % constructors.length];
      return exampleOf(schema, chosen, optional, depth);
    }
  }
  throw new Error("unreachable");
}

function requiredCount(combinator: TlCombinator): number {
  return combinator.params.filter((param) => !param.condition && param.type.kind !== "flags")
    .length;
}
