/**
 * Parses TL schema text (the format of Telegram's `scheme.tl` and `mtproto.tl`) into an index of
 * constructors and functions by name and by id. Every line is accounted for: a line that is not a
 * comment, a section marker, a built-in declaration or a combinator is an error naming the line.
 *
 * @module
 */

import { SchemaParseError } from "../errors.ts";
import { crc32 } from "./crc32.ts";

/** The primitive types whose encoding is built into TL. */
export type TlPrimitive = "int" | "long" | "double" | "string" | "bytes" | "int128" | "int256";

/** A parameter or result type, resolved far enough for the codec to compile it. */
export type TlType =
  | { kind: "primitive"; name: TlPrimitive }
  /** `#`: a 32-bit field of flag bits, computed on encode and never shown. */
  | { kind: "flags" }
  /** `true`: present or absent, zero bytes on the wire. */
  | { kind: "true" }
  | { kind: "vector"; boxed: boolean; element: TlType }
  /** A boxed type such as `InputPeer` or `Bool`: a constructor id, then that constructor. */
  | { kind: "boxed"; name: string }
  /**
   * A bare constructor (`%Message`, `future_salt`): its fields with no id in front. It holds the
   * combinator itself because names can clash across files (MTProto's `message` is not the API's).
   */
  | { kind: "bare"; name: string; combinator: TlCombinator }
  /** `!X` or `Object`: any boxed constructor or function call. */
  | { kind: "any" };

/** One parameter of a combinator. */
export interface TlParameter {
  name: string;
  /** The type as written in the schema, without the `flags.N?` prefix. */
  typeText: string;
  type: TlType;
  /** Present for `flags.N?T`: the `#` field holding the bit, and the bit. */
  condition?: { flagsField: string; bit: number };
}

/** A constructor (`= Type`) or a function (after `---functions---`). */
export interface TlCombinator {
  kind: "constructor" | "function";
  name: string;
  /** Unsigned 32-bit id. */
  id: number;
  params: TlParameter[];
  /** The result type as written, e.g. `InputPeer`, `Vector<User>` or `X`. */
  resultText: string;
  /** For constructors: the boxed type they belong to. For functions: what the call returns. */
  result: TlType;
  /** Name of the `{X:Type}` type variable of a generic function such as `invokeWithLayer`. */
  typeVariable?: string;
  /** Canonical TL line, as `tl describe` shows it. */
  line: string;
}

/** An indexed schema: every constructor and function by name and by id. */
export interface TlSchema {
  constructors: Map<string, TlCombinator>;
  functions: Map<string, TlCombinator>;
  constructorsById: Map<number, TlCombinator>;
  functionsById: Map<number, TlCombinator>;
  /** The constructors of each boxed type, e.g. `InputPeer` → inputPeerEmpty, inputPeerUser... */
  typeConstructors: Map<string, TlCombinator[]>;
  /** From a `// LAYER N` comment, when one of the sources has it. */
  layer?: number;
}

/** One schema text and the name errors should use for it. */
export interface TlSource {
  name: string;
  text: string;
}

const PRIMITIVES = new Set<string>([
  "int",
  "long",
  "double",
  "string",
  "bytes",
  "int128",
  "int256",
]);
const COMBINATOR =
  /^([A-Za-z_][\w.]*)(?:#([0-9a-fA-F]{1,8}))?\s*((?:\{[^}]*\}\s*)*)(.*?)=\s*([^=]+)$/;
const PARAMETER = /^([A-Za-z_]\w*):(?:([A-Za-z_]\w*)\.(\d+)\?)?(.+)$/;
const LAYER_COMMENT = /^\/\/\s*LAYER\s+(\d+)/;

/**
 * Parses and indexes one or more schema texts, later sources overriding earlier ones by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSchema } from "./schema.ts";
 * const schema = parseSchema([{ name: "demo.tl", text: "inputPeerEmpty#7f3b18ea = InputPeer;" }]);
 * assert.ok(schema.constructors.get("inputPeerEmpty")?.id === 0x7f3b18ea);
 * ```
 */
export function parseSchema(sources: TlSource[]): TlSchema {
  const schema: TlSchema = {
    constructors: new Map(),
    functions: new Map(),
    constructorsById: new Map(),
    functionsById: new Map(),
    typeConstructors: new Map(),
  };
  const pending: {
    combinator: TlCombinator;
    rawParams: string[];
    file: string;
    line: number;
    scope: Scope;
  }[] = [];
  for (const source of sources) {
    const scope: Scope = { constructors: new Map(), typeConstructors: new Map() };
    let section: "constructor" | "function" = "constructor";
    const lines = source.text.split(/\r?\n/);
    for (let index = 0; index < lines.length; index++) {
      const lineNumber = index + 1;
      const raw = lines[index];
      const layer = LAYER_COMMENT.exec(raw.trim());
      if (layer) schema.layer = Number(layer[1]);
      const text = raw.replace(/\/\/.*$/, "").trim();
      if (text === "") continue;
      if (text === "---functions---") {
        section = "function";
        continue;
      }
      if (text === "---types---") {
        section = "constructor";
        continue;
      }
      if (!text.endsWith(";")) {
        throw new SchemaParseError(source.name, lineNumber, `expected ';' at the end of: ${text}`);
      }
      const statement = text.slice(0, -1).trim();
      if (isBuiltinDeclaration(statement)) continue;
      const parsed = parseCombinatorHead(statement, section, source.name, lineNumber);
      pending.push({ ...parsed, file: source.name, line: lineNumber, scope });
      if (parsed.combinator.kind === "constructor") addToScope(scope, parsed.combinator);
    }
  }
  // Types are resolved only once every constructor is known, since a parameter may name a type
  // declared further down.
  for (const { combinator } of pending) register(schema, combinator);
  for (const { combinator, rawParams, file, line, scope } of pending) {
    const where = { file, line, scope };
    combinator.params = rawParams.map((text) => parseParameter(schema, combinator, text, where));
    combinator.result = resolveType(schema, combinator.resultText, combinator.typeVariable, where);
  }
  return schema;
}

/** The declarations of one source file, which bare type references resolve against first. */
interface Scope {
  constructors: Map<string, TlCombinator>;
  typeConstructors: Map<string, TlCombinator[]>;
}

/** Where a type is being resolved, for error messages and file-local bare references. */
interface Where {
  file: string;
  line: number;
  scope?: Scope;
}

function addToScope(scope: Scope, combinator: TlCombinator): void {
  scope.constructors.set(combinator.name, combinator);
  const siblings = scope.typeConstructors.get(combinator.resultText);
  if (siblings) siblings.push(combinator);
  else scope.typeConstructors.set(combinator.resultText, [combinator]);
}

function isBuiltinDeclaration(statement: string): boolean {
  // `int ? = Int`, `vector {t:Type} # [ t ] = Vector t`, `int128 4*[ int ] = Int128`: the
  // primitives and the vector combinator, which every TL runtime implements natively.
  return /^\w+\s*\?\s*=/.test(statement) || /\[\s*\w+\s*\]/.test(statement);
}

function parseCombinatorHead(
  statement: string,
  kind: "constructor" | "function",
  file: string,
  line: number,
): { combinator: TlCombinator; rawParams: string[] } {
  const match = COMBINATOR.exec(statement);
  if (!match) throw new SchemaParseError(file, line, `not a TL combinator: ${statement}`);
  const [, name, hexId, generics, paramsText, resultText] = match;
  let typeVariable: string | undefined;
  for (const generic of generics.matchAll(/\{\s*(\w+)\s*:\s*Type\s*\}/g)) typeVariable = generic[1];
  const rawParams = paramsText.trim() === "" ? [] : paramsText.trim().split(/\s+/);
  const id = hexId ? parseInt(hexId, 16) >>> 0 : implicitId(statement);
  const combinator: TlCombinator = {
    kind,
    name,
    id,
    params: [],
    resultText: resultText.trim(),
    result: { kind: "any" },
    line: canonicalLine(name, id, generics, rawParams, resultText.trim()),
  };
  if (typeVariable) combinator.typeVariable = typeVariable;
  return { combinator, rawParams };
}

function canonicalLine(
  name: string,
  id: number,
  generics: string,
  params: string[],
  result: string,
): string {
  const head = `${name}#${id.toString(16).padStart(8, "0")}`;
  return [head, ...generics.trim().split(/\s+/).filter(Boolean), ...params, "=", result].join(" ") +
    ";";
}

/**
 * Computes the id of a combinator declared without `#id`: the CRC-32 of its canonical form, in
 * which `flags.N?true` parameters are left out, `bytes` reads as `string`, and the brackets of
 * generics and vectors become spaces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { implicitId } from "./schema.ts";
 * assert.ok(implicitId("inputPeerEmpty = InputPeer") === 0x7f3b18ea);
 * ```
 */
export function implicitId(statement: string): number {
  const canonical = statement
    .replace(/#[0-9a-fA-F]{1,8}/, "")
    .replace(/\s\w+:flags\d*\.\d+\?true\b/g, "")
    .replace(/:bytes\b/g, ":string")
    .replace(/\?bytes\b/g, "?string")
    .replace(/[<>{}]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return crc32(new TextEncoder().encode(canonical));
}

function register(schema: TlSchema, combinator: TlCombinator): void {
  if (combinator.kind === "function") {
    schema.functions.set(combinator.name, combinator);
    schema.functionsById.set(combinator.id, combinator);
    return;
  }
  const previous = schema.constructors.get(combinator.name);
  if (previous) {
    const siblings = schema.typeConstructors.get(previous.resultText) ?? [];
    schema.typeConstructors.set(previous.resultText, siblings.filter((c) => c !== previous));
    schema.constructorsById.delete(previous.id);
  }
  schema.constructors.set(combinator.name, combinator);
  schema.constructorsById.set(combinator.id, combinator);
  const siblings = schema.typeConstructors.get(combinator.resultText);
  if (siblings) siblings.push(combinator);
  else schema.typeConstructors.set(combinator.resultText, [combinator]);
}

function parseParameter(
  schema: TlSchema,
  combinator: TlCombinator,
  text: string,
  where: Where,
): TlParameter {
  const { file, line } = where;
  const match = PARAMETER.exec(text);
  if (!match) throw new SchemaParseError(file, line, `${combinator.name}: bad parameter ${text}`);
  const [, name, flagsField, bit, typeText] = match;
  const parameter: TlParameter = {
    name,
    typeText,
    type: typeText === "#"
      ? { kind: "flags" }
      : resolveType(schema, typeText, combinator.typeVariable, where),
  };
  if (flagsField !== undefined) {
    if (Number(bit) > 31) {
      throw new SchemaParseError(file, line, `${combinator.name}.${name}: flag bit ${bit} > 31`);
    }
    parameter.condition = { flagsField, bit: Number(bit) };
  }
  return parameter;
}

/** Resolves a type as written in a schema (`Vector<long>`, `%Message`, `!X`...) against it. */
export function resolveType(
  schema: TlSchema,
  text: string,
  typeVariable: string | undefined,
  where: Where = { file: "<type>", line: 0 },
): TlType {
  const { file, line, scope } = where;
  const trimmed = text.trim();
  if (PRIMITIVES.has(trimmed)) return { kind: "primitive", name: trimmed as TlPrimitive };
  if (trimmed === "true") return { kind: "true" };
  if (trimmed === "Object" || trimmed === "!" + typeVariable || trimmed === typeVariable) {
    return { kind: "any" };
  }
  const vector = /^([Vv])ector\s*<\s*(.+)\s*>$/.exec(trimmed) ??
    /^([Vv])ector\s+(\S+)$/.exec(trimmed);
  if (vector) {
    return {
      kind: "vector",
      boxed: vector[1] === "V",
      element: resolveType(schema, vector[2], typeVariable, where),
    };
  }
  if (trimmed.startsWith("%")) {
    const typeName = trimmed.slice(1);
    const constructors = scope?.typeConstructors.get(typeName) ??
      schema.typeConstructors.get(typeName);
    if (constructors?.length === 1) {
      return { kind: "bare", name: constructors[0].name, combinator: constructors[0] };
    }
    const named = scope?.constructors.get(typeName) ?? schema.constructors.get(typeName);
    if (named) return { kind: "bare", name: typeName, combinator: named };
    throw new SchemaParseError(file, line, `bare type ${trimmed} needs exactly one constructor`);
  }
  const simpleName = trimmed.slice(trimmed.lastIndexOf(".") + 1);
  if (/^[a-z]/.test(simpleName)) {
    const named = scope?.constructors.get(trimmed) ?? schema.constructors.get(trimmed);
    if (!named) throw new SchemaParseError(file, line, `unknown bare constructor ${trimmed}`);
    return { kind: "bare", name: trimmed, combinator: named };
  }
  if (!/^[A-Za-z_][\w.]*$/.test(trimmed)) {
    throw new SchemaParseError(file, line, `unknown type ${trimmed}`);
  }
  return { kind: "boxed", name: trimmed };
}
