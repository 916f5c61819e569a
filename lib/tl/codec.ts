/**
 * Schema-driven TL encoding and decoding. Each combinator is compiled once, on first use, into a
 * pair of closures, so the per-message path does no name lookups or schema walking beyond one map
 * lookup per object.
 *
 * Values are plain objects shaped like the JSON protocol: `{"_cons": "inputPeerUser", ...}`.
 * Encoding accepts every input form the contract allows (longs as numbers, bigints or decimal
 * strings; bytes as base64 or `Uint8Array`; `true`/`false` for `Bool` and flag fields). Decoding
 * produces one of the forms chosen by {@link CodecOptions}.
 *
 * @module
 */

import { unzipSync } from "node:zlib";
import { TlDecodeError, TlEncodeError } from "../errors.ts";
import { MAX_INFLATED, TlReader } from "./reader.ts";
import { resolveType, type TlCombinator, type TlSchema, type TlType } from "./schema.ts";
import { TlWriter } from "./writer.ts";

/** A TL value in its plain-object form. */
export type TlObject = { _cons: string; [field: string]: unknown };

/** How decoded values are represented. */
export interface CodecOptions {
  /**
   * `long` values: `"bigint"`; `"json"` (a number when exact, else `JSON.rawJSON` digits, so
   * `JSON.stringify` prints all 64 bits); or `"string"` (decimal strings, for JavaScript clients).
   */
  longs?: "bigint" | "json" | "string";
  /** `bytes`, `int128` and `int256` values: `"uint8array"` copies, or `"base64"` strings. */
  bytes?: "uint8array" | "base64";
  /**
   * Encode a missing required `hash` parameter (a cache hash, int or long) as 0, which always
   * means "nothing cached": requests written for older layers, which had no such field, keep
   * working.
   */
  defaultHashes?: boolean;
  /**
   * Encode values written against another layer of the schema: fields a constructor lacks are
   * left out, a required field the value lacks gets a neutral value (0, "", empty bytes, false,
   * [], or the type's constructor with the fewest required fields), and a constructor the schema
   * lacks becomes that neutral constructor. For a server that answers clients at their own layer
   * from one set of objects (the emulator); everything else keeps the strict default.
   */
  fitToSchema?: boolean;
}

/** Constructor id of `vector`, the boxed form of every `Vector<T>`. */
export const VECTOR_ID = 0x1cb5c415;
export { MAX_INFLATED };
/**
 * How deeply objects and vectors may nest in decoded or encoded TL. Telegram's deepest real
 * objects (rich text, page blocks) stay within a few dozen levels; thousands overflow the stack.
 */
export const MAX_NESTING = 200;
/** Constructor id of `gzip_packed`, which may stand in for any boxed object. */
export const GZIP_PACKED_ID = 0x3072cfa1;
const BOOL_TRUE_ID = 0x997275b5;
const RPC_ERROR_ID = 0x2144ca19;
const BOOL_FALSE_ID = 0xbc799737;
const MIN_LONG = -(2n ** 63n);
const MAX_UNSIGNED_LONG = 2n ** 64n - 1n;
const TRUE_VALUE: TlObject = Object.freeze({ _cons: "true" });
const MAX_BYTES_LENGTH = 0xffffff;

type Encoder = (writer: TlWriter, value: unknown) => void;
type Decoder = (reader: TlReader) => unknown;

interface Compiled {
  combinator: TlCombinator;
  encode?: Encoder;
  decode?: Decoder;
}

/**
 * Encodes and decodes TL values against one schema.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSchema } from "./schema.ts";
 * import { TlCodec } from "./codec.ts";
 * const schema = parseSchema([{
 *   name: "demo.tl",
 *   text: "inputPeerUser#dde8a54c user_id:long access_hash:long = InputPeer;",
 * }]);
 * const codec = new TlCodec(schema, { longs: "string" });
 * const bytes = codec.encode({ _cons: "inputPeerUser", user_id: 1, access_hash: "-2" });
 * assert.ok(codec.decode(bytes).access_hash === "-2");
 * ```
 */
export class TlCodec {
  readonly schema: TlSchema;
  readonly #byName = new Map<string, Compiled>();
  readonly #bare = new Map<TlCombinator, Compiled>();
  readonly #constructorsById = new Map<number, Compiled>();
  readonly #functionsById = new Map<number, Compiled>();
  readonly #readLong: (reader: TlReader) => unknown;
  readonly #readBytes: (reader: TlReader) => unknown;
  readonly #readFixed: (reader: TlReader, size: number) => unknown;
  readonly #writer = new TlWriter(4096);
  readonly #defaultHashes: boolean;
  readonly #fitToSchema: boolean;
  /** How many neutral constructors are being filled in, one inside another. */
  #neutralDepth = 0;
  #encodeDepth = 0;

  /** Prepares a codec; nothing is compiled until a combinator is first used. */
  constructor(schema: TlSchema, options: CodecOptions = {}) {
    this.schema = schema;
    for (const combinator of schema.functions.values()) {
      const compiled = { combinator };
      this.#byName.set(combinator.name, compiled);
      this.#functionsById.set(combinator.id, compiled);
    }
    // Constructors win a name clash with functions: decoded data are constructors far more often.
    for (const combinator of schema.constructors.values()) {
      const compiled = { combinator };
      this.#byName.set(combinator.name, compiled);
      // gzip_packed stays out of the id index so that decoding unpacks it instead of showing it.
      if (combinator.id !== GZIP_PACKED_ID) this.#constructorsById.set(combinator.id, compiled);
    }
    this.#defaultHashes = options.defaultHashes ?? false;
    this.#fitToSchema = options.fitToSchema ?? false;
    const longs = options.longs ?? "bigint";
    this.#readLong = longs === "bigint"
      ? (reader) => reader.long()
      : longs === "json"
      ? (reader) => reader.longJson()
      : (reader) => reader.longString();
    if (options.bytes === "base64") {
      this.#readBytes = (reader) => reader.bytesView().toBase64();
      this.#readFixed = (reader, size) => reader.raw(size, `int${size * 8}`).toBase64();
    } else {
      this.#readBytes = (reader) => reader.bytesCopy();
      this.#readFixed = (reader, size) => reader.raw(size, `int${size * 8}`).slice();
    }
  }

  /** Looks up a constructor or function by name. */
  combinator(name: string): TlCombinator | undefined {
    return this.#byName.get(name)?.combinator;
  }

  /**
   * Serializes a boxed object (constructor id first): a constructor or a function call.
   * Throws {@link TlEncodeError} naming the path of the first bad field.
   */
  encode(value: unknown): Uint8Array {
    const writer = this.#writer;
    writer.reset();
    this.writeObject(writer, value);
    return writer.finish();
  }

  /** Serializes a boxed object into `writer`. */
  writeObject(writer: TlWriter, value: unknown): void {
    const rootName = isTlObject(value) && this.#byName.has(value._cons) ? value._cons : undefined;
    try {
      this.#writeBoxed(writer, value, undefined);
    } catch (error) {
      if (error instanceof TlEncodeError && rootName !== undefined) error.prependPath(rootName);
      throw error;
    }
  }

  /** Serializes a value of the given schema type, e.g. `Vector<long>`, with no id in front. */
  encodeType(typeText: string, value: unknown): Uint8Array {
    const writer = new TlWriter();
    this.#compileType(resolveType(this.schema, typeText, undefined))(writer, value);
    return writer.finish();
  }

  /**
   * Decodes one boxed object: a constructor, or else a function call. Throws
   * {@link TlDecodeError} on unknown ids, truncation or trailing bytes.
   */
  decode(bytes: Uint8Array): TlObject {
    const reader = new TlReader(bytes);
    const value = this.readObject(reader);
    if (reader.remaining !== 0) {
      throw new TlDecodeError(
        `${reader.remaining} bytes left over after the object`,
        reader.offset,
      );
    }
    return value;
  }

  /** Decodes one boxed object (constructor or function call) from `reader`. */
  readObject(reader: TlReader): TlObject {
    return this.#readAny(reader) as TlObject;
  }

  /**
   * Decodes a value of a schema type, e.g. a function's result type such as `Vector<int>`, which a
   * bare object id alone cannot describe.
   */
  readType(reader: TlReader, typeText: string): unknown {
    return this.#compileDecoder(resolveType(this.schema, typeText, undefined))(reader);
  }

  /**
   * Decodes the answer to a function call: an `rpc_error` (which any call may get), or else a value
   * of the call's result type, whole. An object of another type is a {@link TlDecodeError}.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TlCodec } from "./codec.ts";
   * import { loadSchema } from "./default_schema.ts";
   * const codec = new TlCodec(loadSchema());
   * const nearest = codec.encode({ _cons: "nearestDc", country: "NL", this_dc: 2, nearest_dc: 4 });
   * assert.deepEqual(codec.decodeResult(nearest, "NearestDc"), {
   *   _cons: "nearestDc",
   *   country: "NL",
   *   this_dc: 2,
   *   nearest_dc: 4,
   * });
   * assert.throws(() => codec.decodeResult(nearest, "Config"), /expected Config, got nearestDc/);
   * ```
   */
  decodeResult(answer: Uint8Array, resultType: string): unknown {
    const reader = new TlReader(answer);
    const isError = answer.length >= 4 && reader.view.getUint32(0, true) === RPC_ERROR_ID;
    const value = isError ? this.#readAny(reader) : this.readType(reader, resultType);
    if (reader.remaining !== 0) {
      throw new TlDecodeError(
        `${reader.remaining} bytes left over after the answer`,
        reader.offset,
      );
    }
    return value;
  }

  /**
   * Returns the result type of a function call; for generic wrappers such as `invokeWithLayer`,
   * the result type of the call they wrap.
   */
  resultType(call: TlObject): string | undefined {
    const combinator = this.#byName.get(call._cons)?.combinator;
    if (!combinator || combinator.kind !== "function") return undefined;
    if (combinator.result.kind !== "any" || !combinator.typeVariable) return combinator.resultText;
    const inner = combinator.params.find((param) => param.type.kind === "any");
    const wrapped = inner ? call[inner.name] ?? call._wrapped : undefined;
    return isTlObject(wrapped) ? this.resultType(wrapped) : undefined;
  }

  // ---- encoding -------------------------------------------------------------------------------

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
    const compiled = this.#byName.get(value._cons);
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
    const candidates = this.schema.typeConstructors.get(typeName) ?? [];
    const required = (combinator: TlCombinator) =>
      combinator.params.filter((param) => !param.condition && param.type.kind !== "flags").length;
    const simplest = candidates.reduce<TlCombinator | undefined>(
      (best, next) => (best === undefined || required(next) < required(best) ? next : best),
      undefined,
    );
    // A schema whose every constructor of a type needs that type again would recurse forever.
    if (!simplest || this.#neutralDepth > 16) {
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
        encode: isTrue || param.type.kind === "flags" ? noEncode : this.#compileType(param.type),
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

  #compileType(type: TlType): Encoder {
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
        const compiled = this.#compiledBare(type.combinator);
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
        const element = this.#compileType(type.element);
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

  #compiledBare(combinator: TlCombinator): Compiled {
    let compiled = this.#bare.get(combinator);
    if (!compiled) {
      compiled = this.#byName.get(combinator.name);
      if (compiled?.combinator !== combinator) compiled = { combinator };
      this.#bare.set(combinator, compiled);
    }
    return compiled;
  }

  // ---- decoding -------------------------------------------------------------------------------

  #readAny(reader: TlReader): unknown {
    const start = reader.offset;
    const id = reader.uint32();
    const compiled = this.#constructorsById.get(id) ?? this.#functionsById.get(id);
    if (compiled) {
      enter(reader, start, compiled.combinator.name);
      const value = (compiled.decode ??= this.#compileCombinatorDecoder(compiled))(reader);
      reader.depth--;
      return value;
    }
    if (id === GZIP_PACKED_ID) return this.#readGzipped(reader, (inner) => this.#readAny(inner));
    if (id === VECTOR_ID) {
      // A bare `Object` context does not say the element type; boxed elements are the only
      // self-describing guess. Function results should be read with `readType` instead.
      enter(reader, start, "vector");
      const count = reader.vectorLength();
      const items = new Array(count);
      for (let i = 0; i < count; i++) items[i] = this.#readAny(reader);
      reader.depth--;
      return items;
    }
    throw new TlDecodeError(`unknown constructor id 0x${hex32(id)}`, start);
  }

  #readBoxed(reader: TlReader, typeName: string): unknown {
    const start = reader.offset;
    const id = reader.uint32();
    const compiled = this.#constructorsById.get(id);
    if (compiled) {
      // An answer of another type than the one asked for (a resolvedPeer for getNearestDc) is
      // an error, not a result: it would reach the client as if it were the answer.
      if (compiled.combinator.resultText !== typeName && !this.#fitToSchema) {
        throw new TlDecodeError(
          `expected ${typeName}, got ${compiled.combinator.name} (a ${compiled.combinator.resultText})`,
          start,
        );
      }
      enter(reader, start, compiled.combinator.name);
      const value = (compiled.decode ??= this.#compileCombinatorDecoder(compiled))(reader);
      reader.depth--;
      return value;
    }
    if (id === GZIP_PACKED_ID) {
      return this.#readGzipped(reader, (inner) => this.#readBoxed(inner, typeName));
    }
    throw new TlDecodeError(`unknown constructor id 0x${hex32(id)} for type ${typeName}`, start);
  }

  #readGzipped(reader: TlReader, read: (inner: TlReader) => unknown): unknown {
    const inner = new TlReader(inflatePacked(reader.bytesView(), reader.inflateBudget));
    // Nested and sibling gzip_packed draw on one budget and one depth count.
    inner.inflateBudget = reader.inflateBudget - inner.bytes.length;
    inner.depth = reader.depth;
    const value = read(inner);
    if (inner.remaining !== 0) {
      throw new TlDecodeError(`${inner.remaining} bytes left over in gzip_packed`, inner.offset);
    }
    reader.inflateBudget = inner.inflateBudget;
    return value;
  }

  #compileCombinatorDecoder(compiled: Compiled): Decoder {
    const combinator = compiled.combinator;
    const name = combinator.name;
    const flagFields = combinator.params.filter((param) => param.type.kind === "flags");
    const steps = combinator.params.map((param) => ({
      name: param.name,
      flagSlot: param.type.kind === "flags" ? flagFields.indexOf(param) : -1,
      conditionSlot: param.condition
        ? flagFields.findIndex((flags) => flags.name === param.condition!.flagsField)
        : -1,
      bit: param.condition ? 1 << param.condition.bit : 0,
      decode: param.type.kind === "flags" ? noDecode : this.#compileDecoder(param.type),
    }));
    if (flagFields.length === 0) {
      return (reader) => {
        const value: Record<string, unknown> = { _cons: name };
        for (let i = 0; i < steps.length; i++) value[steps[i].name] = steps[i].decode(reader);
        return value;
      };
    }
    return (reader) => {
      const value: Record<string, unknown> = { _cons: name };
      let flags0 = 0;
      let flags1 = 0;
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i];
        if (step.flagSlot >= 0) {
          if (step.flagSlot === 0) flags0 = reader.int32();
          else flags1 = reader.int32();
          continue;
        }
        if (step.conditionSlot >= 0) {
          const flags = step.conditionSlot === 0 ? flags0 : flags1;
          if ((flags & step.bit) === 0) continue;
        }
        value[step.name] = step.decode(reader);
      }
      return value;
    };
  }

  #compileDecoder(type: TlType): Decoder {
    switch (type.kind) {
      case "primitive":
        switch (type.name) {
          case "int":
            return (reader) => reader.int32();
          case "long":
            return this.#readLong;
          case "double":
            return (reader) => reader.double();
          case "string":
            return (reader) => reader.string();
          case "bytes":
            return this.#readBytes;
          case "int128":
            return (reader) => this.#readFixed(reader, 16);
          case "int256":
            return (reader) => this.#readFixed(reader, 32);
        }
        break;
      case "true":
        return () => TRUE_VALUE;
      case "flags":
        return noDecode;
      case "any":
        return (reader) => this.#readAny(reader);
      case "boxed": {
        const typeName = type.name;
        return (reader) => this.#readBoxed(reader, typeName);
      }
      case "bare": {
        const compiled = this.#compiledBare(type.combinator);
        return (reader) => (compiled.decode ??= this.#compileCombinatorDecoder(compiled))(reader);
      }
      case "vector": {
        const element = this.#compileDecoder(type.element);
        if (!type.boxed) return (reader) => this.#readVectorBody(reader, element);
        const readBoxedVector = (reader: TlReader): unknown => {
          const start = reader.offset;
          const id = reader.uint32();
          if (id === VECTOR_ID) return this.#readVectorBody(reader, element);
          if (id === GZIP_PACKED_ID) return this.#readGzipped(reader, readBoxedVector);
          throw new TlDecodeError(`expected vector id 0x1cb5c415, got 0x${hex32(id)}`, start);
        };
        return readBoxedVector;
      }
    }
    throw new Error(`unreachable: type ${JSON.stringify(type)}`);
  }

  #readVectorBody(reader: TlReader, element: Decoder): unknown[] {
    enter(reader, reader.offset, "vector");
    const count = reader.vectorLength();
    const items = new Array(count);
    for (let i = 0; i < count; i++) items[i] = element(reader);
    reader.depth--;
    return items;
  }
}

const sharedCodecs = new WeakMap<TlSchema, Map<string, TlCodec>>();

/**
 * The one codec of the process for a schema and options, compiled once and shared: a codec holds
 * no state between calls, and each compiles closures over every combinator (about 0.6 MB), so
 * a thousand clients must not each build their own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sharedCodec } from "./codec.ts";
 * import { loadSchema } from "./default_schema.ts";
 * const schema = loadSchema();
 * assert.equal(sharedCodec(schema, { longs: "json" }), sharedCodec(schema, { longs: "json" }));
 * assert.notEqual(sharedCodec(schema, { longs: "json" }), sharedCodec(schema, { longs: "string" }));
 * ```
 */
export function sharedCodec(schema: TlSchema, options: CodecOptions = {}): TlCodec {
  let bySettings = sharedCodecs.get(schema);
  if (!bySettings) sharedCodecs.set(schema, bySettings = new Map());
  const key = [
    options.longs ?? "bigint",
    options.bytes ?? "uint8array",
    options.defaultHashes === true,
    options.fitToSchema === true,
  ].join();
  let codec = bySettings.get(key);
  if (!codec) bySettings.set(key, codec = new TlCodec(schema, options));
  return codec;
}

/** Counts one more level of nesting, refusing more than {@link MAX_NESTING}. */
function enter(reader: TlReader, offset: number, what: string): void {
  if (++reader.depth > MAX_NESTING) {
    throw new TlDecodeError(`${what} nested deeper than ${MAX_NESTING} levels`, offset);
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

/**
 * Inflates the data of a `gzip_packed`, at most `limit` bytes ({@link MAX_INFLATED} by default).
 * The docs say gzip; some clients send zlib instead (mtcute deflates), and Telegram takes both, so both are read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deflateSync, gzipSync } from "node:zlib";
 * import { inflatePacked } from "./codec.ts";
 * const text = new TextEncoder().encode("hello");
 * assert.deepEqual(new Uint8Array(inflatePacked(gzipSync(text))), text);
 * assert.deepEqual(new Uint8Array(inflatePacked(deflateSync(text))), text);
 * ```
 */
export function inflatePacked(packed: Uint8Array, limit = MAX_INFLATED): Uint8Array {
  if (limit <= 0) {
    throw new TlDecodeError(`gzip_packed data exceed the ${MAX_INFLATED}-byte inflate budget`, 0);
  }
  try {
    const inflated = unzipSync(packed, { maxOutputLength: limit });
    // A plain view of node's Buffer: no copy, and no Buffer methods leaking into decoded values.
    return new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
  } catch (error) {
    throw new TlDecodeError(`gzip_packed data do not inflate: ${(error as Error).message}`, 0);
  }
}

/**
 * What {@link CodecOptions.fitToSchema} writes for a missing required field. A boxed type gets an
 * object with a `_cons` no schema has, which the encoder replaces by the type's simplest
 * constructor.
 */
function neutralValue(type: TlType): unknown {
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
function noDecode(): undefined {
  return undefined;
}

function hex32(id: number): string {
  return (id >>> 0).toString(16).padStart(8, "0");
}

/** True when `value` is a plain object carrying a string `_cons`. */
export function isTlObject(value: unknown): value is TlObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    typeof (value as { _cons?: unknown })._cons === "string";
}

function isSetTrueFlag(value: unknown, name: string): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (value === true || isTlObject(value) && value._cons === "true") return true;
  throw new TlEncodeError(
    "WrongType",
    `expected true, false or {"_cons": "true"} for ${name}, got ${describeValue(value)}`,
    [name],
  );
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "bytes";
  if (isTlObject(value)) return value._cons;
  if (typeof value === "object") return "an object without _cons";
  if (typeof value === "string") return `string ${JSON.stringify(truncate(value))}`;
  return `${typeof value} ${truncate(String(value))}`;
}

function truncate(text: string): string {
  return text.length > 40 ? text.slice(0, 37) + "..." : text;
}

function bytesFrom(value: unknown, what: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") {
    try {
      return Uint8Array.fromBase64(value);
    } catch {
      try {
        return Uint8Array.fromBase64(value, { alphabet: "base64url" });
      } catch {
        throw new TlEncodeError("BadValue", `${what} must be base64, got ${describeValue(value)}`);
      }
    }
  }
  throw new TlEncodeError("WrongType", `expected ${what} as base64, got ${describeValue(value)}`);
}

function writeLong(writer: TlWriter, value: unknown): void {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new TlEncodeError(
        "BadValue",
        `long ${value} is not an exact integer; send large values as a decimal string`,
      );
    }
    writer.longFromNumber(value);
    return;
  }
  let big: bigint;
  if (typeof value === "bigint") big = value;
  else if (typeof value === "string" && /^-?\d{1,20}$/.test(value)) big = BigInt(value);
  else throw new TlEncodeError("WrongType", `expected long, got ${describeValue(value)}`);
  if (big < MIN_LONG || big > MAX_UNSIGNED_LONG) {
    throw new TlEncodeError("BadValue", `long ${big} is out of the 64-bit range`);
  }
  writer.long(big);
}

function writeFixed(size: number): Encoder {
  const what = `int${size * 8}`;
  return (writer, value) => {
    const bytes = bytesFrom(value, what);
    if (bytes.length !== size) {
      throw new TlEncodeError("BadValue", `${what} must be ${size} bytes, got ${bytes.length}`);
    }
    writer.raw(bytes);
  };
}

const PRIMITIVE_ENCODERS: Record<string, Encoder> = {
  int(writer, value) {
    if (
      typeof value !== "number" || !Number.isInteger(value) || value < -2147483648 ||
      value > 4294967295
    ) {
      throw new TlEncodeError("WrongType", `expected int, got ${describeValue(value)}`);
    }
    writer.int32(value);
  },
  long: writeLong,
  double(writer, value) {
    // An integer literal beyond 2^53 reaches here as its decimal text (see parseJsonExact).
    if (typeof value === "string" && /^-?\d+$/.test(value)) value = Number(value);
    if (typeof value !== "number") {
      throw new TlEncodeError("WrongType", `expected double, got ${describeValue(value)}`);
    }
    writer.double(value);
  },
  string(writer, value) {
    if (typeof value !== "string") {
      throw new TlEncodeError("WrongType", `expected string, got ${describeValue(value)}`);
    }
    if (!writer.string(value, MAX_BYTES_LENGTH)) {
      throw new TlEncodeError("BadValue", "string longer than 16 MiB in UTF-8");
    }
  },
  bytes(writer, value) {
    const bytes = bytesFrom(value, "bytes");
    if (bytes.length > MAX_BYTES_LENGTH) {
      throw new TlEncodeError("BadValue", `bytes of length ${bytes.length} exceed 16 MiB`);
    }
    writer.bytes(bytes);
  },
  int128: writeFixed(16),
  int256: writeFixed(32),
};
