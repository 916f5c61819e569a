/**
 * `mtproto2json tl`: the TL runtime from the command line — encode JSON lines to hex, decode hex
 * or base64 lines to JSON, describe a constructor or method.
 *
 * @module
 */

import { Mtproto2jsonError, TlEncodeError } from "../errors.ts";
import { readLines } from "../io/lines.ts";
import { TlCodec } from "../tl/codec.ts";
import { parseJsonExact } from "../tl/json.ts";
import { tlJsonSchema } from "../tl/json_schema.ts";
import { openApiDocument } from "../tl/openapi.ts";
import type { TlCombinator, TlSchema } from "../tl/schema.ts";
import { UsageError } from "./usage_error.ts";
import { schemaFromFlags } from "./schema_flags.ts";
import { editDistance, parseFlags } from "./flags.ts";

export { schemaFromFlags };

/** Help text of `mtproto2json tl`. */
export const TL_HELP = `Usage: mtproto2json tl <encode|decode|describe|schema> [options]

  tl encode            read JSON objects, one per line, on stdin; write the boxed TL
                       serialization of each as one line of lowercase hex
  tl decode            read lines of hex on stdin; write one JSON object per line
  tl describe NAME     print a constructor or method as JSON: id, type, parameters
  tl describe --all    the same for every constructor, then every method, one per line
  tl schema            print the loaded schema as TL, one canonical line per combinator
  tl schema --json-schema
                       print it as one JSON Schema (2020-12) document: a definition per
                       constructor, per type and per method's parameters
  tl schema --openapi  print the OpenAPI 3.1 document of serve --http (/v1/openapi.json)

Options:
  --base64             (decode) read base64 lines instead of hex
  --long-strings       (decode) print 64-bit integers as decimal strings; (schema)
                       describe them as decimal strings
  --scheme FILE        load this .tl file instead of the shipped API schema (repeatable)
  -h, --help           show this help

A line that fails gets a one-line JSON error on stdout, {"error", "msg", "line"}, and the
rest are still processed; the exit status is 1 if any line failed.

Environment: MTPROTO2JSON_SCHEME (comma-separated files) stands for --scheme, as for serve.

Example:
  echo '{"_cons":"inputPeerUser","user_id":1,"access_hash":2}' | mtproto2json tl encode
`;

/** I/O the `tl` command needs, injectable for tests. */
export interface TlCommandIo {
  stdin: ReadableStream<Uint8Array>;
  write: (text: string) => void | Promise<void>;
  readTextFile: (path: string) => Promise<string>;
  /** Reads an environment variable (none when left out). */
  env?: (name: string) => string | undefined;
}

/** Runs `mtproto2json tl ...` and returns the exit status. */
export async function runTlCommand(args: string[], io: TlCommandIo): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      base64: { type: "boolean", default: false },
      "long-strings": { type: "boolean", default: false },
      all: { type: "boolean", default: false },
      "json-schema": { type: "boolean", default: false },
      openapi: { type: "boolean", default: false },
      scheme: { type: "string", multiple: true },
      help: { type: "boolean", short: "h", default: false },
    },
    true,
    (name) => (name === "MTPROTO2JSON_SCHEME" ? io.env?.(name) : undefined),
  );
  const [action, ...rest] = positionals;
  if (values.help || action === undefined) {
    await io.write(TL_HELP);
    return values.help ? 0 : 2;
  }
  const schema = await schemaFromFlags(values.scheme ?? [], io.readTextFile);
  switch (action) {
    case "encode":
      return await encodeLines(schema, io);
    case "decode":
      return await decodeLines(schema, io, values.base64, values["long-strings"]);
    case "describe":
      if (values.all) return await describeAll(schema, io);
      if (rest.length === 0) throw new UsageError("tl describe needs a constructor or method name");
      return await describeNames(schema, rest, io);
    case "schema": {
      const longsAsStrings = values["long-strings"];
      if (values["json-schema"]) {
        await io.write(JSON.stringify(tlJsonSchema(schema, { longsAsStrings })) + "\n");
      } else if (values.openapi) {
        await io.write(JSON.stringify(openApiDocument(schema, { longsAsStrings })) + "\n");
      } else {
        const all = [...schema.constructors.values(), ...schema.functions.values()];
        await io.write(all.map((combinator) => combinator.line + "\n").join(""));
      }
      return 0;
    }
    default:
      throw new UsageError(
        `unknown tl action "${action}"; expected encode, decode, describe or schema`,
      );
  }
}

async function encodeLines(schema: TlSchema, io: TlCommandIo): Promise<number> {
  const codec = new TlCodec(schema);
  return await eachLine(io, (text) => codec.encode(parseJsonExact(text)).toHex());
}

async function decodeLines(
  schema: TlSchema,
  io: TlCommandIo,
  base64: boolean,
  longStrings: boolean,
): Promise<number> {
  const codec = new TlCodec(schema, { longs: longStrings ? "string" : "json", bytes: "base64" });
  return await eachLine(io, (text) => {
    const compact = text.replace(/\s+/g, "");
    let bytes: Uint8Array;
    try {
      bytes = base64 ? Uint8Array.fromBase64(compact) : Uint8Array.fromHex(compact);
    } catch {
      throw new InputFormatError(`not ${base64 ? "base64" : "an even-length hex string"}`);
    }
    return JSON.stringify(codec.decode(bytes));
  });
}

class InputFormatError extends Mtproto2jsonError {
  override name = "InputFormatError";
}

async function eachLine(io: TlCommandIo, convert: (text: string) => string): Promise<number> {
  let failed = false;
  for await (const line of readLines(io.stdin)) {
    if (line.kind === "too_long") {
      failed = true;
      await io.write(errorLine("LineTooLong", `line of ${line.length} characters`, line.number));
      continue;
    }
    if (line.text.trim() === "") continue;
    try {
      await io.write(convert(line.text) + "\n");
    } catch (error) {
      if (!(error instanceof Mtproto2jsonError)) throw error;
      failed = true;
      const name = error instanceof TlEncodeError ? error.kind : error.name;
      await io.write(errorLine(name, error.message, line.number));
    }
  }
  return failed ? 1 : 0;
}

function errorLine(error: string, msg: string, line: number): string {
  return JSON.stringify({ error, msg, line }) + "\n";
}

async function describeNames(schema: TlSchema, names: string[], io: TlCommandIo): Promise<number> {
  let status = 0;
  for (const name of names) {
    const combinator = schema.constructors.get(name) ?? schema.functions.get(name) ??
      findById(schema, name);
    if (combinator) {
      await io.write(JSON.stringify(describeCombinator(combinator)) + "\n");
      continue;
    }
    status = 1;
    const suggestions = similarNames(schema, name);
    const hint = suggestions.length ? `; did you mean ${suggestions.join(", ")}?` : "";
    await io.write(
      JSON.stringify({ error: "UnknownConstructor", msg: `unknown name ${name}${hint}` }) + "\n",
    );
  }
  return status;
}

async function describeAll(schema: TlSchema, io: TlCommandIo): Promise<number> {
  const all = [...schema.constructors.values(), ...schema.functions.values()];
  await io.write(all.map((c) => JSON.stringify(describeCombinator(c)) + "\n").join(""));
  return 0;
}

function findById(schema: TlSchema, text: string): TlCombinator | undefined {
  if (!/^(0x)?[0-9a-fA-F]{1,8}$/.test(text)) return undefined;
  const id = parseInt(text.replace(/^0x/, ""), 16) >>> 0;
  return schema.constructorsById.get(id) ?? schema.functionsById.get(id);
}

/**
 * The JSON description of a combinator that `tl describe` prints.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSchema } from "../tl/default_schema.ts";
 * import { describeCombinator } from "./tl_command.ts";
 * const info = describeCombinator(loadSchema().constructors.get("inputPeerUser")!);
 * assert.ok(info.id === "0xdde8a54c" && info.type === "InputPeer");
 * ```
 */
export function describeCombinator(combinator: TlCombinator): {
  _cons: string;
  kind: "constructor" | "method";
  id: string;
  type?: string;
  returns?: string;
  params: { name: string; type: string; flags?: string; bit?: number }[];
  tl: string;
} {
  const isMethod = combinator.kind === "function";
  return {
    _cons: combinator.name,
    kind: isMethod ? "method" : "constructor",
    id: "0x" + combinator.id.toString(16).padStart(8, "0"),
    ...(isMethod ? { returns: combinator.resultText } : { type: combinator.resultText }),
    params: combinator.params.map((param) => ({
      name: param.name,
      type: param.typeText,
      ...(param.condition ? { flags: param.condition.flagsField, bit: param.condition.bit } : {}),
    })),
    tl: combinator.line,
  };
}

function similarNames(schema: TlSchema, name: string): string[] {
  const wanted = name.toLowerCase();
  const names = [...schema.constructors.keys(), ...schema.functions.keys()];
  return names
    .map((candidate) => ({ candidate, distance: editDistance(candidate.toLowerCase(), wanted) }))
    .filter(({ distance }) => distance <= Math.max(2, Math.floor(wanted.length / 5)))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, 3)
    .map(({ candidate }) => candidate);
}
