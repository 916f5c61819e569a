import { assertEquals, assertThrows } from "../assert.ts";
import { SchemaParseError } from "../../lib/errors.ts";
import { API_SOURCE, DEFAULT_LAYER, loadSchema } from "../../lib/tl/default_schema.ts";
import { implicitId, parseSchema } from "../../lib/tl/schema.ts";

Deno.test("the shipped schema parses whole, with its layer", () => {
  const schema = loadSchema();
  assertEquals(schema.layer, DEFAULT_LAYER);
  assertEquals(DEFAULT_LAYER, 223);
  assertEquals(schema.constructors.get("inputPeerUser")?.id, 0xdde8a54c);
  assertEquals(schema.functions.get("invokeWithLayer")?.typeVariable, "X");
  assertEquals(schema.functions.get("req_pq_multi")?.id, 0xbe7e8ef1);
  const combinatorLines = API_SOURCE.text.split("\n").filter((line) => /^\w[\w.]*#/.test(line));
  // Every API line but the vector combinator becomes a constructor or function.
  assertEquals(
    combinatorLines.length - 1,
    [...schema.constructors.values(), ...schema.functions.values()].filter((c) =>
      API_SOURCE.text.includes(c.line.split(" ")[0])
    ).length,
  );
});

Deno.test("implicit ids reproduce the explicit ids of the shipped schema", () => {
  let matched = 0;
  const differing: string[] = [];
  for (const line of API_SOURCE.text.split("\n")) {
    const match = /^([\w.]+)#([0-9a-f]{8}) /.exec(line);
    if (!match || match[1] === "vector") continue;
    if (implicitId(line.slice(0, -1)) === parseInt(match[2], 16)) matched++;
    else differing.push(match[1]);
  }
  assertEquals(matched > 2300, true);
  // Two constructors kept from older layers carry their old ids on a newer signature.
  assertEquals(differing, ["inputPeerPhotoFileLocationLegacy", "inputStickerSetThumbLegacy"]);
});

Deno.test("a line that is not TL is an error naming file and line", () => {
  const error = assertThrows(
    () => parseSchema([{ name: "x.tl", text: "a#00000001 = A;\n\nthis is not tl;\n" }]),
    SchemaParseError,
    "x.tl:3: not a TL combinator: this is not tl",
  );
  assertEquals(error.line, 3);
  assertThrows(
    () => parseSchema([{ name: "y.tl", text: "a#1 x:int = A" }]),
    SchemaParseError,
    "y.tl:1: expected ';'",
  );
  assertThrows(
    () => parseSchema([{ name: "z.tl", text: "a#1 x:%Nope = A;" }]),
    SchemaParseError,
    "z.tl:1: bare type %Nope",
  );
});

Deno.test("builtin declarations, comments and section markers are accepted", () => {
  const schema = parseSchema([{
    name: "tiny.tl",
    text: [
      "int ? = Int; // builtin",
      "vector {t:Type} # [ t ] = Vector t;",
      "int128 4*[ int ] = Int128;",
      "---types---",
      "pair#11111111 a:int b:flags.0?string flags:# = Pair;",
      "---functions---",
      "getPair#22222222 = Pair;",
      "// LAYER 7",
    ].join("\n"),
  }]);
  assertEquals(schema.layer, 7);
  assertEquals(schema.constructors.get("pair")?.params.length, 3);
  assertEquals(schema.functions.get("getPair")?.resultText, "Pair");
});

Deno.test("MTProto's bare message and the API's message constructor do not collide", () => {
  const schema = loadSchema();
  const container = schema.constructors.get("msg_container")!;
  const element = container.params[0].type;
  assertEquals(
    element.kind === "vector" && element.element.kind === "bare" &&
      element.element.combinator.params.map((p) => p.name),
    ["msg_id", "seqno", "bytes", "body"],
  );
  assertEquals(schema.constructors.get("message")?.resultText, "Message");
  assertEquals(schema.constructors.get("message")?.params.some((p) => p.name === "peer_id"), true);
});
