/**
 * `deno task check-tl`: encodes an example of every constructor and method of the shipped schema
 * twice — by this project's codec, from the example's JSON text as a client would send it, and by
 * mtcute's generated per-constructor writers (npm `@mtcute/tl`, the package the schema comes
 * from) — and compares the bytes. Run twice: with everyday values, and with the numbers that are
 * hard to carry through JSON (doubles such as 0.30000000000000004 and 1e308, integers at the
 * edges of int and long, a double given as an integer beyond 2^53).
 *
 * mtcute's writers are the independent part: field order, flag bits, which fields are optional
 * and how each type is laid out. The primitive writes below (little-endian integers, TL strings)
 * are the wire format itself. Like `check-mtcute`, this needs the npm registry the first time, so
 * it is run by hand, not by the tests; it is JavaScript so that `deno check` skips it.
 *
 * @module
 */

// deno-lint-ignore-file no-import-prefix

import writers from "npm:@mtcute/tl@223.0.0/binary/writer.js";
import { TlCodec } from "../lib/tl/codec.ts";
import { loadSchema } from "../lib/tl/default_schema.ts";
import { parseJsonExact } from "../lib/tl/json.ts";
import { exampleOf } from "../tests/support/example_values.ts";

const map = writers.__tlWriterMap ?? writers.default?.__tlWriterMap;
const schema = loadSchema();
const codec = new TlCodec(schema);

/** The wire format's primitives, as mtcute's generated writers call them. */
function mtcuteWriter() {
  let bytes = new Uint8Array(1024);
  let length = 0;
  const room = (count) => {
    if (length + count <= bytes.length) return;
    const grown = new Uint8Array(Math.max(bytes.length * 2, length + count));
    grown.set(bytes.subarray(0, length));
    bytes = grown;
  };
  const view = () => new DataView(bytes.buffer);
  const int64 = (value) => {
    const big = typeof value === "bigint" ? value : BigInt(value);
    room(8);
    view().setBigInt64(length, BigInt.asIntN(64, big), true);
    length += 8;
  };
  const raw = (part) => {
    room(part.length);
    bytes.set(part, length);
    length += part.length;
  };
  const tlBytes = (data) => {
    const header = data.length < 254 ? 1 : 4;
    const padding = (4 - ((header + data.length) % 4)) % 4;
    room(header + data.length + padding);
    if (header === 1) bytes[length++] = data.length;
    else {
      view().setUint32(length, (data.length << 8) | 254, true);
      length += 4;
    }
    raw(data);
    length += padding;
  };
  const w = {
    uint(value) {
      room(4);
      view().setUint32(length, value >>> 0, true);
      length += 4;
    },
    int(value) {
      room(4);
      view().setInt32(length, value, true);
      length += 4;
    },
    int53: int64,
    long: int64,
    double(value) {
      room(8);
      view().setFloat64(length, value, true);
      length += 8;
    },
    string: (text) => tlBytes(new TextEncoder().encode(text)),
    bytes: tlBytes,
    int128: raw,
    int256: raw,
    raw,
    boolean: (value) => w.uint(value ? 0x997275b5 : 0xbc799737),
    object(value) {
      const write = map[value._];
      if (!write) throw new Error(`mtcute has no writer for ${value._}`);
      write(w, value);
    },
    vector(write, items, bare) {
      if (!bare) w.uint(0x1cb5c415);
      w.uint(items.length);
      // The generated writers of bare types take (writer, value); this writer's own take a value.
      const own = Object.values(w).includes(write);
      for (const item of items) own ? write(item) : write.call(w, w, item);
    },
    result: () => bytes.slice(0, length),
  };
  return w;
}

const camel = (name) => name.replace(/_([a-zA-Z0-9])/g, (_, letter) => letter.toUpperCase());

/** An example in this project's JSON input form, as mtcute's object form. */
function toMtcute(value, type) {
  switch (type.kind) {
    case "primitive":
      return primitiveToMtcute(value, type.name);
    case "true":
      return true;
    case "vector":
      return value.map((item) => toMtcute(item, type.element));
    default: {
      if (type.kind === "boxed" && type.name === "Bool") return value._cons === "boolTrue";
      return objectToMtcute(value);
    }
  }
}

function primitiveToMtcute(value, name) {
  if (name === "int" || name === "double") return Number(value);
  if (name === "long") return BigInt(value);
  if (name === "string") return value;
  return Uint8Array.fromBase64(value); // bytes, int128, int256
}

function objectToMtcute(value) {
  const combinator = codec.combinator(value._cons);
  const name = map[value._cons] ? value._cons : `mt_${value._cons}`;
  const out = { _: name };
  for (const param of combinator.params) {
    if (param.type.kind === "flags" || value[param.name] === undefined) continue;
    out[camel(param.name)] = toMtcute(value[param.name], param.type);
  }
  return out;
}

/** Replaces the example's numbers with the ones that are hard to carry through JSON. */
function hardNumbers(value, type, counter = { n: 0 }) {
  const pick = (list) => list[counter.n++ % list.length];
  switch (type.kind) {
    case "primitive":
      if (type.name === "double") {
        return pick([0.30000000000000004, 1e308, -1.5771985808088268e-200, 9007199254740992]);
      }
      if (type.name === "long") return pick(["9223372036854775807", "-9223372036854775808"]);
      if (type.name === "int") return pick([-2147483648, 2147483647]);
      return value;
    case "vector":
      return value.map((item) => hardNumbers(item, type.element, counter));
    case "true":
      return value;
    default: {
      if (value === null || typeof value !== "object" || !value._cons) return value;
      const combinator = codec.combinator(value._cons);
      const out = { _cons: value._cons };
      for (const param of combinator?.params ?? []) {
        if (value[param.name] !== undefined) {
          out[param.name] = hardNumbers(value[param.name], param.type, counter);
        }
      }
      return out;
    }
  }
}

const all = [...schema.constructorsById.values(), ...schema.functionsById.values()];
// Built into TL (Bool, true, vector, null), the protocol's envelopes (rpc_result, gzip_packed,
// msg_container…) and legacy handshake objects have no generated writer in mtcute.
const hasWriter = (combinator) => map[combinator.name] || map[`mt_${combinator.name}`];
const combinators = all.filter(hasWriter);
console.log(
  `${all.length} constructors and methods; ${all.length - combinators.length} have no mtcute ` +
    `writer (${all.filter((c) => !hasWriter(c)).map((c) => c.name).join(", ")})`,
);
for (const [label, transform] of [["everyday values", (v) => v], ["hard numbers", null]]) {
  let same = 0;
  const different = [];
  for (const combinator of combinators) {
    let identical = true;
    for (const optional of ["all", "none"]) {
      let example = exampleOf(schema, combinator, optional);
      if (!transform) example = hardNumbers(example, { kind: "bare", combinator });
      let ours, theirs;
      try {
        // As a client sends it: JSON text, parsed by the proxy's reader.
        ours = codec.encode(parseJsonExact(JSON.stringify(example))).toHex();
      } catch (error) {
        ours = `error: ${error.message}`;
      }
      try {
        const w = mtcuteWriter();
        w.object(objectToMtcute(example));
        theirs = w.result().toHex();
      } catch (error) {
        theirs = `error: ${error.message}`;
      }
      if (ours !== theirs) {
        identical = false;
        different.push(
          `${combinator.name} (${optional}): ours ${ours.slice(0, 80)} / mtcute ${
            theirs.slice(0, 80)
          }`,
        );
      }
    }
    if (identical) same++;
  }
  console.log(`${label}: ${same} of ${combinators.length} constructors and methods byte-identical`);
  for (const line of different.slice(0, 20)) console.log(`  ✗ ${line}`);
}
