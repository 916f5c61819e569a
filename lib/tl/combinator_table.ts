/**
 * The combinators of one schema, indexed by name and by id, each with the encoder and decoder
 * closures compiled for it on first use. The encoder and the decoder of a codec share one table, so
 * a combinator is looked up and compiled once whichever way it is used first.
 *
 * @module
 */

import { GZIP_PACKED_ID } from "./gzip.ts";
import type { TlReader } from "./reader.ts";
import type { TlCombinator, TlSchema } from "./schema.ts";
import type { TlWriter } from "./writer.ts";

/** Writes one value of a known type, with no constructor id in front. */
export type Encoder = (writer: TlWriter, value: unknown) => void;
/** Reads one value of a known type. */
export type Decoder = (reader: TlReader) => unknown;

/** A combinator and the closures compiled for it so far. */
export interface Compiled {
  /** The schema's combinator. */
  combinator: TlCombinator;
  /** Writes its fields (not its id); compiled on first use. */
  encode?: Encoder;
  /** Reads its fields (after its id); compiled on first use. */
  decode?: Decoder;
}

/** Every combinator of a schema by name and by id, plus the bare uses met so far. */
export class CombinatorTable {
  /** Constructors and functions by name; a constructor wins a clash. */
  readonly byName = new Map<string, Compiled>();
  /** Constructors by id, gzip_packed left out. */
  readonly constructorsById = new Map<number, Compiled>();
  /** Functions by id. */
  readonly functionsById = new Map<number, Compiled>();
  readonly #bare = new Map<TlCombinator, Compiled>();

  /** Indexes `schema`; nothing is compiled yet. */
  constructor(schema: TlSchema) {
    for (const combinator of schema.functions.values()) {
      const compiled = { combinator };
      this.byName.set(combinator.name, compiled);
      this.functionsById.set(combinator.id, compiled);
    }
    // Constructors win a name clash with functions: decoded data are constructors far more often.
    for (const combinator of schema.constructors.values()) {
      const compiled = { combinator };
      this.byName.set(combinator.name, compiled);
      // gzip_packed stays out of the id index so that decoding unpacks it instead of showing it.
      if (combinator.id !== GZIP_PACKED_ID) this.constructorsById.set(combinator.id, compiled);
    }
  }

  /**
   * The entry of a combinator used bare (`%Message`, `message`): the named entry when it is the
   * same combinator, else one of its own.
   */
  bare(combinator: TlCombinator): Compiled {
    let compiled = this.#bare.get(combinator);
    if (!compiled) {
      compiled = this.byName.get(combinator.name);
      if (compiled?.combinator !== combinator) compiled = { combinator };
      this.#bare.set(combinator, compiled);
    }
    return compiled;
  }
}
