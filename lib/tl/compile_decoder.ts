/**
 * Compiles the TL decoder of each combinator, once, on first use: a closure that reads its fields
 * into a plain object (`{"_cons": "inputPeerUser", ...}`), with longs and bytes in the forms the
 * codec's options choose. Nesting and `gzip_packed` inflation are bounded, so hostile input fails
 * with a {@link TlDecodeError} instead of exhausting the stack or memory.
 *
 * @module
 */

import { TlDecodeError } from "../errors.ts";
import type { CombinatorTable, Compiled, Decoder } from "./combinator_table.ts";
import { GZIP_PACKED_ID, readGzipped } from "./gzip.ts";
import type { TlReader } from "./reader.ts";
import type { TlType } from "./schema.ts";
import { MAX_NESTING, type TlObject, VECTOR_ID } from "./tl_object.ts";

const TRUE_VALUE: TlObject = Object.freeze({ _cons: "true" });

/** How decoded values are represented (see `CodecOptions`). */
export interface DecoderOptions {
  /** `long` values as bigints (the default), JSON-ready numbers or raw digits, or strings. */
  longs?: "bigint" | "json" | "string";
  /** `bytes`, `int128` and `int256` as `Uint8Array` copies (the default) or base64 strings. */
  bytes?: "uint8array" | "base64";
  /** Accept an object of another type than the one expected (values of another layer). */
  fitToSchema?: boolean;
  /** `bytes` of {@link LARGE_BYTES} or more as views into the input, not copies (see TlCodec). */
  largeBytesAsViews?: boolean;
}

/** The size from which `largeBytesAsViews` reads `bytes` as views: far above any key or reference. */
export const LARGE_BYTES = 64 * 1024;

/**
 * Reads TL objects and typed values for one schema, compiling each combinator's decoder on first
 * use into the shared {@link CombinatorTable}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CombinatorTable } from "./combinator_table.ts";
 * import { TlDecoder } from "./compile_decoder.ts";
 * import { TlReader } from "./reader.ts";
 * import { parseSchema } from "./schema.ts";
 * const schema = parseSchema([{ name: "demo.tl", text: "peerUser#59511722 user_id:long = Peer;" }]);
 * const decoder = new TlDecoder(new CombinatorTable(schema), { longs: "string" });
 * const bytes = new Uint8Array([0x22, 0x17, 0x51, 0x59, 7, 0, 0, 0, 0, 0, 0, 0]);
 * assert.deepEqual(decoder.readAny(new TlReader(bytes)), { _cons: "peerUser", user_id: "7" });
 * ```
 */
export class TlDecoder {
  readonly #table: CombinatorTable;
  readonly #readLong: (reader: TlReader) => unknown;
  readonly #readBytes: (reader: TlReader) => unknown;
  readonly #readFixed: (reader: TlReader, size: number) => unknown;
  readonly #fitToSchema: boolean;

  /** Prepares a decoder; nothing is compiled until a combinator is first read. */
  constructor(table: CombinatorTable, options: DecoderOptions = {}) {
    this.#table = table;
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
      const viewsFrom = options.largeBytesAsViews ? LARGE_BYTES : Infinity;
      this.#readBytes = (reader) => {
        const bytes = reader.bytesView();
        return bytes.length >= viewsFrom ? bytes : bytes.slice();
      };
      this.#readFixed = (reader, size) => reader.raw(size, `int${size * 8}`).slice();
    }
  }

  /**
   * Reads one boxed object whose type the context does not say: a constructor, a function call, a
   * `gzip_packed` (unpacked) or a vector of boxed objects.
   */
  readAny(reader: TlReader): unknown {
    const start = reader.offset;
    const id = reader.uint32();
    const compiled = this.#table.constructorsById.get(id) ?? this.#table.functionsById.get(id);
    if (compiled) {
      enter(reader, start, compiled.combinator.name);
      const value = (compiled.decode ??= this.#compileCombinatorDecoder(compiled))(reader);
      reader.depth--;
      return value;
    }
    if (id === GZIP_PACKED_ID) return readGzipped(reader, (inner) => this.readAny(inner));
    if (id === VECTOR_ID) {
      // A bare `Object` context does not say the element type; boxed elements are the only
      // self-describing guess. Function results should be read with `readType` instead.
      enter(reader, start, "vector");
      const count = reader.vectorLength();
      const items = new Array(count);
      for (let i = 0; i < count; i++) items[i] = this.readAny(reader);
      reader.depth--;
      return items;
    }
    throw new TlDecodeError(`unknown constructor id 0x${hex32(id)}`, start);
  }

  #readBoxed(reader: TlReader, typeName: string): unknown {
    const start = reader.offset;
    const id = reader.uint32();
    const compiled = this.#table.constructorsById.get(id);
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
      return readGzipped(reader, (inner) => this.#readBoxed(inner, typeName));
    }
    throw new TlDecodeError(`unknown constructor id 0x${hex32(id)} for type ${typeName}`, start);
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
      decode: param.type.kind === "flags" ? noDecode : this.compileDecoder(param.type),
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

  /** The decoder of a value of `type`: boxed types read their id, bare ones only their fields. */
  compileDecoder(type: TlType): Decoder {
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
        return (reader) => this.readAny(reader);
      case "boxed": {
        const typeName = type.name;
        return (reader) => this.#readBoxed(reader, typeName);
      }
      case "bare": {
        const compiled = this.#table.bare(type.combinator);
        return (reader) => (compiled.decode ??= this.#compileCombinatorDecoder(compiled))(reader);
      }
      case "vector": {
        const element = this.compileDecoder(type.element);
        if (!type.boxed) return (reader) => this.#readVectorBody(reader, element);
        const readBoxedVector = (reader: TlReader): unknown => {
          const start = reader.offset;
          const id = reader.uint32();
          if (id === VECTOR_ID) return this.#readVectorBody(reader, element);
          if (id === GZIP_PACKED_ID) return readGzipped(reader, readBoxedVector);
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

/** Counts one more level of nesting, refusing more than {@link MAX_NESTING}. */
function enter(reader: TlReader, offset: number, what: string): void {
  if (++reader.depth > MAX_NESTING) {
    throw new TlDecodeError(`${what} nested deeper than ${MAX_NESTING} levels`, offset);
  }
}

function noDecode(): undefined {
  return undefined;
}

function hex32(id: number): string {
  return (id >>> 0).toString(16).padStart(8, "0");
}
