import { assertEquals, assertThrows } from "../assert.ts";
import { SecurityError } from "../../lib/errors.ts";
import { packGzip, unpackGzip } from "../../lib/mtproto/gzip_packed.ts";
import { MAX_GZIP_NESTING, TlCodec } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { nestedGzip } from "../support/fuzz_decode.ts";

const codec = new TlCodec(loadSchema());

Deno.test("a long text request is sent compressed; a file's part is sent as it is, however compressible", () => {
  const text = codec.encode({
    _cons: "messages.sendMessage",
    peer: { _cons: "inputPeerSelf" },
    message: "hello ".repeat(1000),
    random_id: 1n,
  });
  const packed = packGzip(text, 512);
  assertEquals(packed.length < text.length / 10, true, `${packed.length} of ${text.length}`);
  assertEquals(unpackGzip(packed), text);
  // Zeros compress to nothing, yet a part is never tried: real files rarely shrink, and gzip on
  // every part was an upload's biggest cost. The same for the answers that carry file bytes.
  const bytes = new Uint8Array(128 * 1024);
  for (
    const part of [
      { _cons: "upload.saveFilePart", file_id: 1n, file_part: 0, bytes },
      { _cons: "upload.saveBigFilePart", file_id: 1n, file_part: 0, file_total_parts: 2, bytes },
      { _cons: "upload.file", type: { _cons: "storage.fileUnknown" }, mtime: 0, bytes },
      { _cons: "upload.cdnFile", bytes },
    ]
  ) {
    const body = codec.encode(part);
    assertEquals(packGzip(body, 512).length, body.length, part._cons);
    // As file calls go: without updates, after a message, in a layer.
    const wrapped = codec.encode({
      _cons: "invokeWithoutUpdates",
      query: {
        _cons: "invokeAfterMsg",
        msg_id: 5n,
        query: { _cons: "invokeWithLayer", layer: 1, query: part },
      },
    });
    assertEquals(packGzip(wrapped, 512).length, wrapped.length, `${part._cons}, wrapped`);
  }
});

Deno.test("a connection's first part, inside initConnection, is not tried with gzip either", () => {
  const part = {
    _cons: "upload.saveBigFilePart",
    file_id: 1n,
    file_part: 0,
    file_total_parts: 2,
    bytes: new Uint8Array(128 * 1024),
  };
  const init = (extra: Record<string, unknown>) =>
    codec.encode({
      _cons: "invokeWithLayer",
      layer: 1,
      query: {
        _cons: "initConnection",
        api_id: 12345,
        device_model: "a device model of some length",
        system_version: "Linux",
        app_version: "1.0",
        system_lang_code: "en",
        lang_pack: "",
        lang_code: "en",
        ...extra,
        query: { _cons: "invokeWithoutUpdates", query: part },
      },
    });
  for (
    const extra of [{}, { proxy: { _cons: "inputClientProxy", address: "127.0.0.1", port: 1 } }]
  ) {
    const body = init(extra);
    assertEquals(packGzip(body, 512).length, body.length, JSON.stringify(extra));
  }
  // With params (a JSONValue) the query is not looked for: compressible bytes are still packed.
  const withParams = init({ params: { _cons: "jsonNull" } });
  assertEquals(packGzip(withParams, 512).length < withParams.length / 10, true);
  // A long text request in initConnection is still compressed.
  const text = codec.encode({
    _cons: "invokeWithLayer",
    layer: 1,
    query: {
      _cons: "initConnection",
      api_id: 1,
      device_model: "d",
      system_version: "s",
      app_version: "a",
      system_lang_code: "en",
      lang_pack: "",
      lang_code: "en",
      query: { _cons: "help.getConfig" },
    },
  });
  const long = codec.encode({
    _cons: "messages.sendMessage",
    peer: { _cons: "inputPeerSelf" },
    message: "hello ".repeat(1000),
    random_id: 1n,
  });
  const both = new Uint8Array([...text.subarray(0, text.length - 4), ...long]);
  assertEquals(packGzip(both, 512).length < both.length / 5, true);
});

Deno.test("a message packed in gzip_packed a few layers deep is unpacked; deeper is refused", () => {
  const body = codec.encode({ _cons: "textPlain", text: "x" });
  for (let depth = 1; depth <= MAX_GZIP_NESTING; depth++) {
    assertEquals(unpackGzip(nestedGzip(depth)), body);
  }
  for (const depth of [MAX_GZIP_NESTING + 1, 1000]) {
    assertThrows(() => unpackGzip(nestedGzip(depth)), SecurityError, "gzip_packed nested deeper");
  }
});
