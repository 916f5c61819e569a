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
 * This file is the facade: the encoder is compiled in compile_encoder.ts, the decoder in
 * compile_decoder.ts, gzip_packed is read in gzip.ts, and values of another layer are fitted in
 * fit_to_schema.ts. What used to be defined here is still exported from here.
 *
 * @module
 */

import { TlDecodeError } from "../errors.ts";
import { CombinatorTable, type Decoder } from "./combinator_table.ts";
import { TlDecoder } from "./compile_decoder.ts";
import { TlEncoder } from "./compile_encoder.ts";
import { MAX_INFLATED, TlReader } from "./reader.ts";
import { resolveType, type TlCombinator, type TlSchema } from "./schema.ts";
import { isTlObject, type TlObject } from "./tl_object.ts";
import { TlWriter } from "./writer.ts";

export { GZIP_PACKED_ID, inflatePacked, MAX_GZIP_NESTING } from "./gzip.ts";
export { isTlObject, MAX_NESTING, type TlObject, VECTOR_ID } from "./tl_object.ts";
export { MAX_INFLATED };

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
  /**
   * `bytes` values of 64 KiB or more (a file's part) as views into the decoded input instead of
   * copies, for input that is never reused (a decrypted message): the copy was a megabyte per part.
   */
  largeBytesAsViews?: boolean;
}

const RPC_ERROR_ID = 0x2144ca19;
/** Encodings from this many bytes on are handed over in the writer's buffer, not copied out. */
const DETACH_FROM = 64 * 1024;

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
  readonly #table: CombinatorTable;
  readonly #encoder: TlEncoder;
  readonly #decoder: TlDecoder;
  /**
   * Decoders by type text, made once: every answer is read by its call's result type, and
   * resolving and compiling the type again for each was ~0.6% of serve's time under load. A
   * schema has a few hundred result types at most.
   */
  readonly #typeDecoders = new Map<string, Decoder>();
  readonly #writer = new TlWriter(4096);

  /** Prepares a codec; nothing is compiled until a combinator is first used. */
  constructor(schema: TlSchema, options: CodecOptions = {}) {
    this.schema = schema;
    this.#table = new CombinatorTable(schema);
    this.#encoder = new TlEncoder(schema, this.#table, {
      defaultHashes: options.defaultHashes ?? false,
      fitToSchema: options.fitToSchema ?? false,
    });
    this.#decoder = new TlDecoder(this.#table, options);
  }

  /** Looks up a constructor or function by name. */
  combinator(name: string): TlCombinator | undefined {
    return this.#table.byName.get(name)?.combinator;
  }

  /**
   * Serializes a boxed object (constructor id first): a constructor or a function call.
   * Throws {@link TlEncodeError} naming the path of the first bad field.
   */
  encode(value: unknown): Uint8Array {
    const writer = this.#writer;
    writer.reset();
    this.writeObject(writer, value);
    // A big value (an upload's part) leaves in the writer's own buffer: copied out, it was a
    // fresh half megabyte written twice per part.
    return writer.offset >= DETACH_FROM ? writer.detach() : writer.finish();
  }

  /** Serializes a boxed object into `writer`. */
  writeObject(writer: TlWriter, value: unknown): void {
    this.#encoder.writeObject(writer, value);
  }

  /** Serializes a value of the given schema type, e.g. `Vector<long>`, with no id in front. */
  encodeType(typeText: string, value: unknown): Uint8Array {
    const writer = new TlWriter();
    this.#encoder.compileType(resolveType(this.schema, typeText, undefined))(writer, value);
    // The writer is this call's own: its bytes need no copy (a file part's answer is a megabyte).
    return writer.finishView();
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
    return this.#decoder.readAny(reader) as TlObject;
  }

  /**
   * Decodes a value of a schema type, e.g. a function's result type such as `Vector<int>`, which a
   * bare object id alone cannot describe.
   */
  readType(reader: TlReader, typeText: string): unknown {
    let decode = this.#typeDecoders.get(typeText);
    if (!decode) {
      decode = this.#decoder.compileDecoder(resolveType(this.schema, typeText, undefined));
      this.#typeDecoders.set(typeText, decode);
    }
    return decode(reader);
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
    const value = isError ? this.#decoder.readAny(reader) : this.readType(reader, resultType);
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
    const combinator = this.#table.byName.get(call._cons)?.combinator;
    if (!combinator || combinator.kind !== "function") return undefined;
    if (combinator.result.kind !== "any" || !combinator.typeVariable) return combinator.resultText;
    const inner = combinator.params.find((param) => param.type.kind === "any");
    const wrapped = inner ? call[inner.name] ?? call._wrapped : undefined;
    return isTlObject(wrapped) ? this.resultType(wrapped) : undefined;
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
    options.largeBytesAsViews === true,
  ].join();
  let codec = bySettings.get(key);
  if (!codec) bySettings.set(key, codec = new TlCodec(schema, options));
  return codec;
}
