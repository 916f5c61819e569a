import { TlCodec } from "../../lib/tl/codec.ts";
import { systemClock } from "../../lib/io/clock.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { fuzzInputs, gzipBombVector, nestedText } from "../support/fuzz_decode.ts";
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { runCli } from "../../lib/cli/run.ts";

async function run(args: string[], stdin = "", files: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const status = await runCli(args, {
    stdin: ReadableStream.from([new TextEncoder().encode(stdin)]),
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    readTextFile: (path) =>
      path in files ? Promise.resolve(files[path]) : Promise.reject(new Error(`no file ${path}`)),
    writeSecretFile: () => Promise.reject(new Error("no writes in this test")),
    stopped: new Promise(() => {}),
    env: () => undefined,
    clock: systemClock,
  });
  return { status, stdout, stderr };
}

const PEER = '{"_cons":"inputPeerUser","user_id":123456789,"access_hash":-8446744073709551615}';

Deno.test("tl encode prints the exact bytes and tl decode gives the same JSON back", async () => {
  const encoded = await run(["tl", "encode"], PEER + "\n");
  assertEquals(encoded, {
    status: 0,
    stdout: "4ca5e8dd15cd5b07000000000100e8890423c78a\n",
    stderr: "",
  });
  const decoded = await run(["tl", "decode"], encoded.stdout);
  assertEquals(decoded.stdout, PEER + "\n");
  const base64 = Uint8Array.fromHex("4ca5e8dd15cd5b07000000000100e8890423c78a").toBase64();
  assertEquals((await run(["tl", "decode", "--base64"], base64)).stdout, PEER + "\n");
  const strings = await run(["tl", "decode", "--long-strings"], encoded.stdout);
  assertEquals(JSON.parse(strings.stdout).access_hash, "-8446744073709551615");
});

Deno.test("a bad line gets a JSON error, the rest are processed and the status is 1", async () => {
  const result = await run(
    ["tl", "encode"],
    `{"_cons":"nope"}\nnot json\n\n${PEER}\n{"_cons":"inputPeerUser","user_id":"x","access_hash":1}\n`,
  );
  const lines = result.stdout.trim().split("\n");
  assertEquals(result.status, 1);
  assertEquals(lines.length, 4);
  assertEquals(JSON.parse(lines[0]), {
    error: "UnknownConstructor",
    msg: "unknown constructor nope",
    line: 1,
  });
  assertEquals(JSON.parse(lines[1]).error, "JsonSyntaxError");
  assertEquals(JSON.parse(lines[1]).line, 2);
  assertEquals(lines[2], "4ca5e8dd15cd5b07000000000100e8890423c78a");
  assertEquals(JSON.parse(lines[3]), {
    error: "WrongType",
    msg: 'inputPeerUser.user_id: expected long, got string "x"',
    line: 5,
  });
  const decode = await run(["tl", "decode"], "zz\nefbeadde\n");
  assertEquals(decode.status, 1);
  assertEquals(decode.stdout.trim().split("\n").map((line) => JSON.parse(line).error), [
    "InputFormatError",
    "TlDecodeError",
  ]);
});

Deno.test("tl describe prints id, type and parameters with flag bits", async () => {
  const result = await run(["tl", "describe", "messages.getDialogs"]);
  const info = JSON.parse(result.stdout);
  assertEquals(info.kind, "method");
  assertEquals(info.returns, "messages.Dialogs");
  assertEquals(info.params[1], { name: "exclude_pinned", type: "true", flags: "flags", bit: 0 });
  const missing = await run(["tl", "describe", "messages.getDialogz"]);
  assertEquals(missing.status, 1);
  assertStringIncludes(missing.stdout, "did you mean messages.getDialogs?");
  assertEquals(
    JSON.parse((await run(["tl", "describe", "0xdde8a54c"])).stdout)._cons,
    "inputPeerUser",
  );
});

Deno.test("--scheme loads another layer's schema file instead of the shipped one", async () => {
  const files = {
    "old.tl": "inputPeerEmpty#7f3b18ea = InputPeer;\nfoo.bar#12345678 x:int = Foo;\n// LAYER 66\n",
  };
  const result = await run(
    ["tl", "encode", "--scheme", "old.tl"],
    '{"_cons":"foo.bar","x":1}\n{"_cons":"inputPeerUser","user_id":1,"access_hash":1}\n',
    files,
  );
  assertEquals(result.stdout.split("\n")[0], "7856341201000000");
  assertEquals(JSON.parse(result.stdout.split("\n")[1]).error, "UnknownConstructor");
  const broken = await run(["tl", "encode", "--scheme", "bad.tl"], "", { "bad.tl": "nonsense\n" });
  assertEquals(broken.status, 1);
  assertStringIncludes(broken.stderr, "bad.tl:1: expected ';'");
});

Deno.test("--version prints the layer of the shipped schema, help lists only working subcommands", async () => {
  const layer = (await Deno.readTextFile(new URL("../../scheme/layer", import.meta.url))).trim();
  assertEquals((await run(["--version"])).stdout, `mtproto2json 0.1.0 (TL layer ${layer})\n`);
  const help = await run(["--help"]);
  assertStringIncludes(help.stdout, "  tl ");
  assertStringIncludes(help.stdout, "  emulator ");
  for (const working of ["serve", "pipe", "signin"]) {
    assertStringIncludes(help.stdout, `  ${working} `);
  }
  const unknown = await run(["frobnicate"]);
  assertEquals(unknown.status, 2);
  assertStringIncludes(unknown.stderr, 'unknown subcommand "frobnicate"');
  assertEquals((await run(["tl", "--bogus"])).status, 2);
});

Deno.test("tl decode answers every hostile line with JSON or a named error, and goes on", async () => {
  const codec = new TlCodec(loadSchema());
  // Empty inputs would be blank lines, which are skipped by design.
  const lines = [...fuzzInputs(codec, 3000, 5)].filter((input) => input.bytes.length)
    .map((input) => input.bytes.toHex());
  lines.push(nestedText(100_000).toHex(), gzipBombVector(9, 4 << 20).toHex());
  const result = await run(["tl", "decode"], lines.join("\n") + "\n");
  const out = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assertEquals(out.length, lines.length);
  const unexpected = out.filter((line) =>
    line.error !== undefined && !["TlDecodeError", "InputFormatError"].includes(line.error)
  );
  assertEquals(unexpected, []);
  assertEquals(out.at(-2).error, "TlDecodeError");
  assertStringIncludes(out.at(-1).msg, "inflate budget");
  assertEquals(result.status, 1);
});

Deno.test("tl describe --all prints every constructor and method; tl schema prints them as TL", async () => {
  const schema = loadSchema();
  const total = schema.constructors.size + schema.functions.size;
  const all = await run(["tl", "describe", "--all"]);
  assertEquals(all.status, 0);
  const lines = all.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assertEquals(lines.length, total);
  assertEquals(
    lines.find((line) => line._cons === "messages.getDialogs"),
    JSON.parse((await run(["tl", "describe", "messages.getDialogs"])).stdout),
  );
  const tl = await run(["tl", "schema"]);
  assertEquals(tl.stdout.trim().split("\n").length, total);
  assertStringIncludes(
    tl.stdout,
    "\ninputPeerUser#dde8a54c user_id:long access_hash:long = InputPeer;\n",
  );
});

Deno.test("tl schema --json-schema is a JSON Schema an independent validator applies to tl's JSON", async () => {
  // deno-lint-ignore no-import-prefix
  const { Ajv2020 } = await import("npm:ajv@8.20.0/dist/2020.js");
  const printed = await run(["tl", "schema", "--json-schema"]);
  assertEquals(printed.status, 0);
  const document = JSON.parse(printed.stdout);
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema(document, "tl");
  const peer = ajv.getSchema("tl#/$defs/type.InputPeer")!;
  assertEquals(peer(JSON.parse(PEER)), true);
  assertEquals(peer({ _cons: "inputPeerUser", user_id: 1 }), false);
  assertEquals(peer({ _cons: "inputUser", user_id: 1, access_hash: 2 }), false);
  // What tl decode prints validates, longs as numbers; with --long-strings, as strings.
  const strings = JSON.parse(
    (await run(["tl", "schema", "--json-schema", "--long-strings"])).stdout,
  );
  ajv.addSchema(strings, "tl-strings");
  const stringPeer = ajv.getSchema("tl-strings#/$defs/cons.inputPeerUser")!;
  assertEquals(stringPeer(JSON.parse(PEER)), false);
  assertEquals(stringPeer({ ...JSON.parse(PEER), user_id: "123456789", access_hash: "-1" }), true);
  const params = ajv.getSchema("tl#/$defs/params.messages.getDialogs")!;
  assertEquals(
    params({ offset_date: 0, offset_id: 0, offset_peer: JSON.parse(PEER), limit: 1 }),
    false,
  );
  assertEquals(
    params({
      exclude_pinned: true,
      offset_date: 0,
      offset_id: 0,
      offset_peer: JSON.parse(PEER),
      limit: 1,
      hash: 0,
    }),
    true,
  );
});
