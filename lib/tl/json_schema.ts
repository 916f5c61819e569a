/**
 * JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) of the JSON form of a loaded TL schema,
 * following the mapping in docs/tl.md: one definition per constructor (`_cons` a constant), one
 * per boxed type (`oneOf` its constructors, told apart by `_cons`), and one per method's
 * parameters (`_cons` implied). Flags are optional properties, `flags:#` fields are left out,
 * `true` flags are booleans or `{"_cons": "true"}`, vectors are arrays, bytes are base64, and
 * 64-bit integers are numbers (a decimal string is accepted too), or decimal strings only for a
 * connection with `longs_as_strings`.
 *
 * Definitions refer to each other by `$ref`, so the whole schema stays a few hundred kilobytes:
 * `cons.NAME`, `type.NAME`, `params.NAME`, and the shared `long`, `bytes`, `true` and `Object`.
 *
 * @module
 */

import type { TlCombinator, TlSchema, TlType } from "./schema.ts";

/** A JSON Schema object. */
export type JsonSchema = Record<string, unknown>;

/** How the definitions are made. */
export interface JsonSchemaOptions {
  /** Describe `long` as decimal strings, as a connection with `longs_as_strings` gets them. */
  longsAsStrings?: boolean;
  /** Where the definitions live, for `$ref` (default `#/$defs/`; OpenAPI: `#/components/schemas/`). */
  refPrefix?: string;
}

/** The names under which the definitions of constructors, types and method parameters go. */
export const DEFINITION_NAMES = {
  constructor: (name: string): string => `cons.${name}`,
  type: (name: string): string => `type.${name}`,
  params: (method: string): string => `params.${method}`,
};

/**
 * Every definition of the schema's JSON form, by name (see the module's description).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSchema } from "./schema.ts";
 * import { tlJsonDefinitions } from "./json_schema.ts";
 * const schema = parseSchema([{
 *   name: "demo.tl",
 *   text: "inputPeerEmpty#7f3b18ea = InputPeer;\n" +
 *     "inputPeerUser#dde8a54c user_id:long access_hash:long = InputPeer;",
 * }]);
 * const defs = tlJsonDefinitions(schema);
 * assert.deepEqual(defs["type.InputPeer"], {
 *   oneOf: [{ $ref: "#/$defs/cons.inputPeerEmpty" }, { $ref: "#/$defs/cons.inputPeerUser" }],
 * });
 * assert.deepEqual(defs["cons.inputPeerUser"].required, ["_cons", "user_id", "access_hash"]);
 * ```
 */
export function tlJsonDefinitions(
  schema: TlSchema,
  options: JsonSchemaOptions = {},
): Record<string, JsonSchema> {
  const prefix = options.refPrefix ?? "#/$defs/";
  const ref = (name: string): JsonSchema => ({ $ref: prefix + name });
  const defs: Record<string, JsonSchema> = {
    long: options.longsAsStrings
      ? { type: "string", pattern: "^-?[0-9]+$", description: "64-bit integer, decimal digits" }
      : {
        type: ["integer", "string"],
        pattern: "^-?[0-9]+$",
        description: "64-bit integer: a number with all its digits (a decimal string is accepted)",
      },
    bytes: { type: "string", contentEncoding: "base64" },
    true: {
      anyOf: [
        { type: "boolean" },
        { type: "object", properties: { _cons: { const: "true" } }, required: ["_cons"] },
      ],
    },
    Object: {
      type: "object",
      properties: { _cons: { type: "string" } },
      required: ["_cons"],
      description: "any TL object",
    },
  };
  const typeOf = (type: TlType) => typeSchema(schema, type, prefix);
  const fields = (combinator: TlCombinator) => {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const param of combinator.params) {
      if (param.type.kind === "flags") continue;
      properties[param.name] = typeOf(param.type);
      if (!param.condition) required.push(param.name);
    }
    return { properties, required };
  };
  for (const combinator of schema.constructors.values()) {
    const { properties, required } = fields(combinator);
    defs[DEFINITION_NAMES.constructor(combinator.name)] = {
      type: "object",
      properties: { _cons: { const: combinator.name }, ...properties },
      required: ["_cons", ...required],
    };
  }
  for (const [name, constructors] of schema.typeConstructors) {
    if (constructors.length === 0) continue;
    const choices = constructors.map((c) => ref(DEFINITION_NAMES.constructor(c.name)));
    // `Bool` is also written as a JSON boolean.
    if (name === "Bool") choices.unshift({ type: "boolean" });
    defs[DEFINITION_NAMES.type(name)] = choices.length === 1 ? choices[0] : { oneOf: choices };
  }
  for (const method of schema.functions.values()) {
    const { properties, required } = fields(method);
    defs[DEFINITION_NAMES.params(method.name)] = {
      type: "object",
      properties: { _cons: { const: method.name }, ...properties },
      ...(required.length ? { required } : {}),
    };
  }
  return defs;
}

/**
 * The JSON Schema of what a method returns, given the definitions' `refPrefix`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSchema } from "./default_schema.ts";
 * import { resultSchema } from "./json_schema.ts";
 * const schema = loadSchema();
 * assert.deepEqual(resultSchema(schema, schema.functions.get("users.getUsers")!), {
 *   type: "array",
 *   items: { $ref: "#/$defs/type.User" },
 * });
 * ```
 */
export function resultSchema(
  schema: TlSchema,
  method: TlCombinator,
  refPrefix = "#/$defs/",
): JsonSchema {
  return typeSchema(schema, method.result, refPrefix);
}

/** The JSON Schema of a value of `type` (references into definitions under `prefix`). */
function typeSchema(schema: TlSchema, type: TlType, prefix: string): JsonSchema {
  const ref = (name: string): JsonSchema => ({ $ref: prefix + name });
  switch (type.kind) {
    case "primitive":
      switch (type.name) {
        case "int":
          return INT;
        case "double":
          return { type: "number" };
        case "string":
          return { type: "string" };
        case "long":
          return ref("long");
        default:
          return ref("bytes");
      }
    case "true":
      return ref("true");
    case "vector":
      return { type: "array", items: typeSchema(schema, type.element, prefix) };
    case "boxed":
      return schema.typeConstructors.get(type.name)?.length
        ? ref(DEFINITION_NAMES.type(type.name))
        : ref("Object");
    case "bare":
      return ref(DEFINITION_NAMES.constructor(type.combinator.name));
    default:
      return ref("Object");
  }
}

/**
 * The whole JSON Schema document: `$defs` holding every definition, and a root accepting any
 * constructor's or method's JSON form (what `tl schema --json-schema` prints).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSchema } from "./default_schema.ts";
 * import { tlJsonSchema } from "./json_schema.ts";
 * const document = tlJsonSchema(loadSchema());
 * assert.equal(document.$schema, "https://json-schema.org/draft/2020-12/schema");
 * assert.ok("cons.inputPeerUser" in (document.$defs as object));
 * ```
 */
export function tlJsonSchema(schema: TlSchema, options: JsonSchemaOptions = {}): JsonSchema {
  const defs = tlJsonDefinitions(schema, { ...options, refPrefix: "#/$defs/" });
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `TL schema, layer ${schema.layer ?? "unknown"}, as JSON`,
    $ref: "#/$defs/Object",
    $defs: defs,
  };
}

/** TL's `int`: 32 bits, signed, or the unsigned spelling of the same bits. */
const INT: JsonSchema = { type: "integer", minimum: -2147483648, maximum: 4294967295 };
