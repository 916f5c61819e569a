import { assertEquals, assertStringIncludes, assertThrows } from "../assert.ts";
import { TlDecodeError, TlEncodeError } from "../../lib/errors.ts";
import { MAX_GZIP_NESTING, MAX_NESTING, TlCodec } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import {
  fuzzDecode,
  gzipBombVector,
  nestedGzip,
  nestedText,
  nestedVectors,
} from "../support/fuzz_decode.ts";

const codec = new TlCodec(loadSchema());
const json = new TlCodec(loadSchema(), { longs: "json", bytes: "base64" });

Deno.test("TL nested thousands deep is a TlDecodeError naming where, never a stack overflow", () => {
  for (const depth of [MAX_NESTING + 1, 5_000, 100_000]) {
    const error = assertThrows(() => codec.decode(nestedText(depth)), TlDecodeError, "textBold");
    assertStringIncludes(error.message, `deeper than ${MAX_NESTING} levels`);
    assertThrows(() => codec.decode(nestedVectors(depth)), TlDecodeError, "vector nested");
    assertThrows(() => json.decodeResult(nestedText(depth), "RichText"), TlDecodeError);
  }
  // Within the limit nothing changes.
  let value = codec.decode(nestedText(MAX_NESTING - 1));
  for (let i = 0; i < MAX_NESTING - 2; i++) value = value.text as typeof value;
  assertEquals(value, { _cons: "textBold", text: { _cons: "textPlain", text: "x" } });
});

Deno.test("JSON nested thousands deep is a TlEncodeError, never a stack overflow", () => {
  let text: Record<string, unknown> = { _cons: "textPlain", text: "x" };
  for (let i = 0; i < 5_000; i++) text = { _cons: "textBold", text };
  const error = assertThrows(() => codec.encode(text), TlEncodeError, "nested deeper");
  assertEquals(error.kind, "BadValue");
  assertStringIncludes(error.message, "textBold.text.text.text");
  // The codec is still usable afterwards.
  assertEquals(codec.decode(codec.encode({ _cons: "textPlain", text: "y" })).text, "y");
});

Deno.test("gzip_packed inside gzip_packed past a few layers is refused before it is unwrapped", () => {
  // As Telegram packs: an answer packed once, inside a message packed once; and one more.
  for (let depth = 1; depth <= MAX_GZIP_NESTING; depth++) {
    assertEquals(json.decodeResult(nestedGzip(depth), "RichText"), {
      _cons: "textPlain",
      text: "x",
    });
  }
  for (const depth of [MAX_GZIP_NESTING + 1, 1000]) {
    const bytes = nestedGzip(depth);
    const error = assertThrows(() => codec.decode(bytes), TlDecodeError, "gzip_packed nested");
    assertStringIncludes(error.message, `deeper than ${MAX_GZIP_NESTING} levels`);
    assertThrows(() => json.decodeResult(bytes, "RichText"), TlDecodeError, "gzip_packed nested");
    // Behind a boxed vector the same.
    assertThrows(() => codec.decodeResult(bytes, "Vector<int>"), TlDecodeError, "gzip_packed");
  }
});

Deno.test("many gzip_packed in one message share one inflate budget", () => {
  // Nine values of ~4 MiB each: every one is under the budget, together 36 MiB.
  const bomb = gzipBombVector(9, 4 << 20);
  assertEquals(bomb.length < 200_000, true, `${bomb.length} bytes`);
  assertThrows(() => codec.decode(bomb), TlDecodeError, "inflate");
  // Three of them fit, and decode.
  assertEquals((codec.decode(gzipBombVector(3, 4 << 20)) as unknown as unknown[]).length, 3);
});

Deno.test("an answer of another type than the method's is refused", () => {
  const peer = codec.encode({
    _cons: "contacts.resolvedPeer",
    peer: { _cons: "peerUser", user_id: 1 },
    chats: [],
    users: [],
  });
  assertThrows(
    () => codec.decodeResult(peer, "NearestDc"),
    TlDecodeError,
    "expected NearestDc, got contacts.resolvedPeer",
  );
  const error = codec.encode({ _cons: "rpc_error", error_code: 400, error_message: "X" });
  assertEquals(codec.decodeResult(error, "NearestDc"), {
    _cons: "rpc_error",
    error_code: 400,
    error_message: "X",
  });
});

Deno.test("20,000 fuzzed inputs: no error that is not the project's own", () => {
  for (const target of [codec, json]) {
    const report = fuzzDecode(target, 10_000, 7);
    assertEquals(report.uncaught, []);
    assertEquals(report.inputs, 10_000);
  }
});
