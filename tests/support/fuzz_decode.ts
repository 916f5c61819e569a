/**
 * Feeds the TL decoder inputs a hostile server could send: random bytes, real objects with bytes
 * flipped, cut or spliced, and objects nested thousands deep. Every input must end in a value or
 * a project error (never a RangeError, TypeError or hang); the slowest input is reported.
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import { Mtproto2jsonError } from "../../lib/errors.ts";
import { GZIP_PACKED_ID, type TlCodec, VECTOR_ID } from "../../lib/tl/codec.ts";
import { TlWriter } from "../../lib/tl/writer.ts";
import { crc32 } from "../../lib/tl/crc32.ts";
import { exampleOf } from "./example_values.ts";

/** What a fuzz run found. */
export interface FuzzReport {
  inputs: number;
  /** Inputs that decoded to a value. */
  decoded: number;
  /** Errors that were not the project's own, with the input's kind: each is a bug. */
  uncaught: string[];
  /** The slowest input's decode (its median of five), in milliseconds, and its kind. */
  slowestMs: number;
  slowestKind: string;
}

/** A small deterministic generator (xorshift32), so a failing seed can be replayed. */
function generator(seed: number) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  return { next, int: (below: number) => Math.floor(next() * below) };
}

/** Encoded examples of every constructor of the codec's schema, for mutation. */
export function sampleEncodings(codec: TlCodec): Uint8Array[] {
  const samples: Uint8Array[] = [];
  for (const combinator of codec.schema.constructorsById.values()) {
    for (const optional of ["all", "none"] as const) {
      try {
        samples.push(codec.encode(exampleOf(codec.schema, combinator, optional)));
      } catch {
        // a few generic or MTProto-internal constructors have no JSON example
      }
    }
  }
  return samples;
}

/** `textBold` in `textBold`… `depth` times around a `textPlain`. */
export function nestedText(depth: number): Uint8Array {
  const writer = new TlWriter();
  for (let i = 0; i < depth; i++) writer.int32(0x6724abc4); // textBold
  writer.int32(0x744694e0); // textPlain
  writer.string("x");
  return writer.finish();
}

/** A boxed vector holding a vector holding … `depth` levels. */
export function nestedVectors(depth: number): Uint8Array {
  const writer = new TlWriter();
  for (let i = 0; i < depth; i++) {
    writer.int32(VECTOR_ID);
    writer.int32(1);
  }
  writer.int32(VECTOR_ID);
  writer.int32(0);
  return writer.finish();
}

/** `textPlain` inside gzip_packed inside gzip_packed… `depth` times (each layer a few dozen bytes). */
export function nestedGzip(depth: number): Uint8Array {
  const writer = new TlWriter();
  writer.int32(0x744694e0); // textPlain
  writer.string("x");
  let body = writer.finish();
  for (let i = 0; i < depth; i++) {
    const layer = new TlWriter();
    layer.int32(GZIP_PACKED_ID);
    layer.bytes(storedGzip(body));
    body = layer.finish();
  }
  return body;
}

/**
 * `bytes` as a gzip member of stored (uncompressed) deflate blocks: what gzipSync would make at
 * level 0, built without a zlib call per layer (a thousand layers would take a second).
 */
function storedGzip(bytes: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(bytes.length / 65535));
  const out = new Uint8Array(10 + blocks * 5 + bytes.length + 8);
  const view = new DataView(out.buffer);
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
  let at = 10;
  for (let block = 0; block < blocks; block++) {
    const piece = bytes.subarray(block * 65535, (block + 1) * 65535);
    out[at] = block === blocks - 1 ? 1 : 0;
    view.setUint16(at + 1, piece.length, true);
    view.setUint16(at + 3, ~piece.length & 0xffff, true);
    out.set(piece, at + 5);
    at += 5 + piece.length;
  }
  view.setUint32(at, crc32(bytes), true);
  view.setUint32(at + 4, bytes.length, true);
  return out;
}

/** A vector of `count` gzip_packed objects, each inflating to about `each` bytes. */
export function gzipBombVector(count: number, each: number): Uint8Array {
  const inner = new TlWriter(each + 64);
  inner.int32(0x096a18d5); // upload.file
  inner.int32(0xaa963b05); // storage.fileUnknown
  inner.int32(0); // mtime
  inner.bytes(new Uint8Array(each - 16));
  const packed = gzipSync(inner.finish(), { level: 9 });
  const writer = new TlWriter();
  writer.int32(VECTOR_ID);
  writer.int32(count);
  for (let i = 0; i < count; i++) {
    writer.int32(GZIP_PACKED_ID);
    writer.bytes(packed);
  }
  return writer.finish();
}

/** A few nests of gzip_packed, built once (each costs a CRC-32 of every layer to build). */
let deepGzipInputs: Uint8Array[] | undefined;

/** One generated input: its kind, its bytes, and whether to decode it as a method's result. */
export interface FuzzInput {
  kind: string;
  bytes: Uint8Array;
  resultType?: string;
}

/** Generates `count` hostile inputs for `codec`'s schema, the same ones for the same seed. */
export function* fuzzInputs(codec: TlCodec, count: number, seed = 1): Generator<FuzzInput> {
  const random = generator(seed);
  const samples = sampleEncodings(codec);
  const resultTypes = [...codec.schema.typeConstructors.keys()];
  const deepGzip = deepGzipInputs ??= [2, 3, 10, 100, 1000].map(nestedGzip);
  const inputs: [string, () => Uint8Array][] = [
    ["random", () => {
      const bytes = new Uint8Array(random.int(256));
      for (let i = 0; i < bytes.length; i++) bytes[i] = random.int(256);
      if (bytes.length >= 4 && random.next() < 0.5) {
        const sample = samples[random.int(samples.length)];
        bytes.set(sample.subarray(0, 4));
      }
      return bytes;
    }],
    ["mutated", () => {
      const bytes = samples[random.int(samples.length)].slice();
      for (let flips = 1 + random.int(4); flips > 0 && bytes.length; flips--) {
        const at = random.int(bytes.length);
        if (random.next() < 0.3 && at + 4 <= bytes.length) {
          // A length or count word turned huge or negative.
          new DataView(bytes.buffer).setUint32(at & ~3, random.int(2 ** 32), true);
        } else bytes[at] = random.int(256);
      }
      return random.next() < 0.2 ? bytes.subarray(0, random.int(bytes.length + 1)) : bytes;
    }],
    ["spliced", () => {
      const a = samples[random.int(samples.length)], b = samples[random.int(samples.length)];
      const cut = random.int(a.length + 1) & ~3;
      const joined = new Uint8Array(cut + b.length);
      joined.set(a.subarray(0, cut));
      joined.set(b, cut);
      return joined;
    }],
    ["deep text", () => nestedText(100 + random.int(5000))],
    ["deep vectors", () => nestedVectors(100 + random.int(5000))],
    ["deep gzip", () => deepGzip[random.int(deepGzip.length)]],
  ];
  for (let i = 0; i < count; i++) {
    // Deep inputs are costlier to build; one in 50 is enough to keep them covered.
    const [kind, make] = i % 50 === 0 ? inputs[3 + random.int(3)] : inputs[random.int(3)];
    const bytes = make();
    yield random.next() < 0.5
      ? { kind, bytes, resultType: resultTypes[random.int(resultTypes.length)] }
      : { kind, bytes };
  }
}

/**
 * Decodes `count` generated inputs with `codec` and reports what happened. The slowest input is
 * found by timing every decode once, then the 20 slowest again five times each: the figure is the
 * worst median, so that a garbage collection or a compilation landing in one decode does not pass
 * for the input's cost.
 */
export function fuzzDecode(codec: TlCodec, count: number, seed = 1): FuzzReport {
  const report: FuzzReport = {
    inputs: 0,
    decoded: 0,
    uncaught: [],
    slowestMs: 0,
    slowestKind: "",
  };
  const decode = ({ kind, bytes, resultType }: FuzzInput, again = false): boolean => {
    try {
      if (resultType) codec.decodeResult(bytes, resultType);
      else codec.decode(bytes);
      return true;
    } catch (error) {
      if (!again && !(error instanceof Mtproto2jsonError)) {
        report.uncaught.push(`${kind}: ${String(error)} (seed ${seed}, input ${report.inputs})`);
      }
      return false;
    }
  };
  const slowest: { ms: number; input: FuzzInput }[] = [];
  for (const input of fuzzInputs(codec, count, seed)) {
    const started = performance.now();
    if (decode(input)) report.decoded++;
    const ms = performance.now() - started;
    if (slowest.length < 20 || ms > slowest[slowest.length - 1].ms) {
      slowest.push({ ms, input });
      slowest.sort((a, b) => b.ms - a.ms);
      slowest.length = Math.min(slowest.length, 20);
    }
    report.inputs++;
  }
  for (const { input } of slowest) {
    const times = Array.from({ length: 5 }, () => {
      const started = performance.now();
      decode(input, true);
      return performance.now() - started;
    }).sort((a, b) => a - b);
    if (times[2] > report.slowestMs) {
      report.slowestMs = times[2];
      report.slowestKind = input.kind;
    }
  }
  return report;
}
