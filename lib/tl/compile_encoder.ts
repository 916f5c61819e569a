/**
 * Compiles the TL encoder of each combinator, once, on first use: a closure that checks a
 * plain-object value against the schema and writes it, naming the path of the first bad field.
 * Encoding accepts every input form the contract allows (longs as numbers, bigints or decimal
 * strings; bytes as base64 or `Uint8Array`; `true`/`false` for `Bool` and flag fields).
 *
 * @module
 */

import { TlEncodeError } from "../errors.ts";
import type { CombinatorTable, Encoder } from "./combinator_table.ts";
import { MAX_NEUTRAL_DEPTH, neutralValue, simplestConstructor } from "./fit_to_schema.ts";
import type { TlCombinator, TlSchema, TlType } from "./schema.ts";
import { describeValue, PRIMITIVE_ENCODERS } from "./primitive_encoders.ts";
import { isTlObject, MAX_NESTING, VECTOR_ID } from "./tl_object.ts";
import type { TlWriter } from "./writer.ts";

const BOOL_TRUE_ID = 0x997275b5;
const BOOL_FALSE_ID = 0xbc799737;

/** How an encoder treats values that do not match the schema exactly (see `CodecOptions`). */
export interface EncoderOptions {
  /** A missing required `hash` (int or long) is written as 0. */
  defaultHashes: boolean;
  /** Values written against another layer are fitted to this one (see fit_to_schema.ts). */
  fitToSchema: boolean;
}

/**
 * Writes boxed TL objects and typed values for one schema, compiling each combinator's encoder on
 * first use into the shared {@link CombinatorTable}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CombinatorTable } from "./combinator_table.ts";
 * import { TlEncoder } from "./compile_encoder.ts";
 * import { parseSchema } from "./schema.ts";
 * import { TlWriter } from "./writer.ts";
 * const schema = parseSchema([{ name: "demo.tl", text: "nearestDc#8e1a1775 country:string = NearestDc;" }]);
 * const options = { defaultHashes: false, fitToSchema: false };
 * const encoder = new TlEncoder(schema, new CombinatorTable(schema), options);
 * const writer = new TlWriter();
 * encoder.writeObject(writer, { _cons: "nearestDc", country: "NL" });
 * assert.equal(writer.finish().length, 8);
 * ```
 */
export class TlEncoder {
  readonly #schema: TlSchema;
  readonly #table: CombinatorTable;
  readonly #defaultHashes: boolean;
  readonly #fitToSchema: boolean;
  /** How many neutral constructors are being filled in, one inside another. */
  #neutralDepth = 0;
  #encodeDepth = 0;

  /** Prepares an encoder; nothing is compiled until a combinator is first written. */
  constructor(schema: TlSchema, table: CombinatorTable, options: EncoderOptions) {
    this.#schema = schema;
    this.#table = table;
    this.#defaultHashes = options.defaultHashes;
    this.#fitToSchema = options.fitToSchema;
  }

  /** Serializes a boxed object (constructor id first) into `writer`. */
  writeObject(writer: TlWriter, value: unknown): void {
    const rootName = isTlObject(value) && this.#table.byName.has(value._cons)
      ? value._cons
      : undefined;
    try {
      this.#writeBoxed(writer, value, undefined);
    } catch (error) {
      if (error instanceof TlEncodeError && rootName !== undefined) error.prependPath(rootName);
      throw error;
    }
  }

  #writeBoxed(writer: TlWriter, value: unknown, typeName: string | undefined): void {
    if (this.#encodeDepth >= MAX_NESTING) {
      throw new TlEncodeError("BadValue", `objects nested deeper than ${MAX_NESTING} levels`);
    }
    this.#encodeDepth++;
    try {
      this.#writeBoxedObject(writer, value, typeName);
    } finally {
      this.#encodeDepth--;
    }
  }

  #writeBoxedObject(writer: TlWriter, value: unknown, typeName: string | undefined): void {
    if (!isTlObject(value)) {
      throw new TlEncodeError(
        "WrongType",
        `expected ${typeName ?? "an object"} with _cons, got ${describeValue(value)}`,
      );
    }
    const compiled = this.#table.byName.get(value._cons);
    const combinator = compiled?.combinator;
    const fits = combinator !== undefined &&
      (typeName === undefined ||
        (combinator.kind !== "function" && combinator.resultText === typeName));
    if (!fits) {
      if (this.#fitToSchema && typeName !== undefined && typeName !== "Bool") {
        this.#writeNeutral(writer, typeName);
        return;
      }
      if (!combinator) {
        throw new TlEncodeError("UnknownConstructor", `unknown constructor ${value._cons}`);
      }
      throw new TlEncodeError("WrongType", `expected ${typeName}, got ${value._cons}`);
    }
    writer.int32(combinator.id);
    (compiled!.encode ??= this.#compileEncoder(combinator))(writer, value);
  }

  /** Writes the constructor of `typeName` with the fewest required fields, all neutral. */
  #writeNeutral(writer: TlWriter, typeName: string): void {
    const simplest = simplestConstructor(this.#schema, typeName);
    if (!simplest || this.#neutralDepth > MAX_NEUTRAL_DEPTH) {
      throw new TlEncodeError("MissingField", `no value of type ${typeName} to fill in`);
    }
    this.#neutralDepth++;
    try {
      this.#writeBoxed(writer, { _cons: simplest.name }, typeName);
    } finally {
      this.#neutralDepth--;
    }
  }

  #compileEncoder(combinator: TlCombinator): Encoder {
    const flagFields = combinator.params.filter((param) => param.type.kind === "flags");
    const steps = combinator.params.map((param) => {
      const isTrue = param.type.kind === "true";
      const isWrapped = param.type.kind === "any" && combinator.typeVariable !== undefined;
      const defaultsToZero = this.#defaultHashes && param.name === "hash" && !param.condition &&
        param.type.kind === "primitive" &&
        (param.type.name === "int" || param.type.name === "long");
      return {
        name: param.name,
        defaultsToZero,
        flagSlot: param.type.kind === "flags" ? flagFields.indexOf(param) : -1,
        conditionSlot: param.condition
          ? flagFields.findIndex((flags) => flags.name === param.condition!.flagsField)
          : -1,
        bit: param.condition ? 1 << param.condition.bit : 0,
        isTrue,
        isWrapped,
        encode: isTrue || param.type.kind === "flags" ? noEncode : this.compileType(param.type),
        neutral: neutralValue(param.type),
      };
    });
    const fitToSchema = this.#fitToSchema;
    const hasFlags = flagFields.length > 0;
    const known = new Set(combinator.params.map((param) => param.name));
    return (writer, input) => {
      const value = input as Record<string, unknown>;
      let field = "";
      let seen = 0;
      try {
        let flags: number[] | undefined;
        if (hasFlags) {
          flags = flagFields.map(() => 0);
          for (const step of steps) {
            if (step.conditionSlot < 0) continue;
            const present = step.isTrue
              ? isSetTrueFlag(value[step.name], step.name)
              : value[step.name] !== undefined && value[step.name] !== null;
            if (present) flags[step.conditionSlot] |= step.bit;
          }
        }
        for (const step of steps) {
          field = step.name;
          if (step.flagSlot >= 0) {
            writer.int32(flags![step.flagSlot]);
            continue;
          }
          let fieldValue = value[step.name];
          if (fieldValue !== undefined) seen++;
          if (step.isWrapped && fieldValue === undefined) fieldValue = value._wrapped;
          if (step.conditionSlot >= 0) {
            if ((flags![step.conditionSlot] & step.bit) === 0 || step.isTrue) continue;
            if (fieldValue === undefined || fieldValue === null) {
              field = "";
              throw new TlEncodeError(
                "MissingField",
                `missing field ${step.name}, required because another field sets its flag bit`,
              );
            }
          } else if (fieldValue === undefined) {
            if (step.defaultsToZero) {
              fieldValue = 0;
            } else if (fitToSchema) {
              fieldValue = step.neutral;
            } else {
              field = "";
              throw new TlEncodeError("MissingField", `missing required field ${step.name}`);
            }
          }
          step.encode(writer, fieldValue);
        }
        if (!fitToSchema && countPlainKeys(value) > seen) {
          field = "";
          throw unknownFieldError(value, known);
        }
      } catch (error) {
        if (error instanceof TlEncodeError && field !== "") error.prependPath(field);
        throw error;
      }
    };
  }

  /** The encoder of a value of `type`, with no id in front for a bare type. */
  compileType(type: TlType): Encoder {
    switch (type.kind) {
      case "primitive":
        return PRIMITIVE_ENCODERS[type.name];
      case "true":
      case "flags":
        return noEncode;
      case "any":
        return (writer, value) => this.#writeBoxed(writer, value, undefined);
      case "boxed":
        if (type.name === "Bool") {
          return (writer, value) => {
            if (value === true) writer.int32(BOOL_TRUE_ID);
            else if (value === false) writer.int32(BOOL_FALSE_ID);
            else this.#writeBoxed(writer, value, "Bool");
          };
        }
        return (writer, value) => this.#writeBoxed(writer, value, type.name);
      case "bare": {
        const compiled = this.#table.bare(type.combinator);
        return (writer, value) => {
          if (typeof value !== "object" || value === null || Array.isArray(value)) {
            throw new TlEncodeError(
              "WrongType",
              `expected ${type.name} object, got ${describeValue(value)}`,
            );
          }
          const cons = (value as { _cons?: unknown })._cons;
          if (cons !== undefined && cons !== type.name) {
            throw new TlEncodeError("WrongType", `expected ${type.name}, got ${String(cons)}`);
          }
          (compiled.encode ??= this.#compileEncoder(compiled.combinator))(writer, value);
        };
      }
      case "vector": {
        const element = this.compileType(type.element);
        const boxed = type.boxed;
        return (writer, value) => {
          if (!Array.isArray(value)) {
            throw new TlEncodeError("WrongType", `expected an array, got ${describeValue(value)}`);
          }
          if (boxed) writer.int32(VECTOR_ID);
          writer.int32(value.length);
          for (let i = 0; i < value.length; i++) {
            try {
              element(writer, value[i]);
            } catch (error) {
              if (error instanceof TlEncodeError) error.prependPath(`[${i}]`);
              throw error;
            }
          }
        };
      }
    }
  }
}

/** Counts the keys a client can mean as fields: `_cons`, `_wrapped` and other `_` keys excluded. */
function countPlainKeys(value: Record<string, unknown>): number {
  let count = 0;
  for (const key in value) if (key.charCodeAt(0) !== 95 && value[key] !== undefined) count++;
  return count;
}

function unknownFieldError(value: Record<string, unknown>, known: Set<string>): TlEncodeError {
  const unknown = Object.keys(value).filter((key) => !key.startsWith("_") && !known.has(key));
  const expected = known.size ? `; its fields are ${[...known].join(", ")}` : "; it has no fields";
  return new TlEncodeError("UnknownField", `unknown field ${unknown.join(", ")}${expected}`);
}

function noEncode(): void {}

function isSetTrueFlag(value: unknown, name: string): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (value === true || isTlObject(value) && value._cons === "true") return true;
  throw new TlEncodeError(
    "WrongType",
    `expected true, false or {"_cons": "true"} for ${name}, got ${describeValue(value)}`,
    [name],
  );
}
