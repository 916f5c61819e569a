import { assertEquals, assertThrows } from "../assert.ts";
import { TlDecodeError, TlEncodeError } from "../../lib/errors.ts";
import { TlCodec } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { TlReader } from "../../lib/tl/reader.ts";
import { parseJsonExact } from "../../lib/tl/json.ts";
import { deflateSync, gzipSync } from "node:zlib";
import { exampleOf } from "../support/example_values.ts";

const schema = loadSchema();
const input = new TlCodec(schema);
const asJson = new TlCodec(schema, { longs: "string", bytes: "base64" });

Deno.test("every constructor and method survives encode then decode", () => {
  let checked = 0;
  for (const combinator of [...schema.constructors.values(), ...schema.functions.values()]) {
    // gzip_packed is unpacked on decode by design; it has its own test below.
    if (combinator.name === "gzip_packed") continue;
    for (const optional of ["all", "none"] as const) {
      const example = exampleOf(schema, combinator, optional);
      let decoded: unknown;
      try {
        decoded = asJson.decode(input.encode(example));
      } catch (error) {
        throw new Error(`${combinator.name} (${optional} optional): ${(error as Error).message}`);
      }
      assertEquals(decoded, example, `${combinator.name} (${optional} optional)`);
      checked++;
    }
  }
  // Both variants of every API and MTProto combinator, so a schema that silently lost entries fails.
  assertEquals(checked > 2 * 2300, true, `only ${checked} round trips`);
});

Deno.test("inputPeerUser encodes to the exact bytes, long included", () => {
  const bytes = input.encode({
    _cons: "inputPeerUser",
    user_id: 123456789,
    access_hash: "-8446744073709551615",
  });
  assertEquals(bytes.toHex(), "4ca5e8dd15cd5b07000000000100e8890423c78a");
  const decoded = new TlCodec(schema, { longs: "json" }).decode(bytes);
  assertEquals(
    JSON.stringify(decoded),
    '{"_cons":"inputPeerUser","user_id":123456789,"access_hash":-8446744073709551615}',
  );
});

Deno.test("long accepts number, bigint and decimal string, and keeps all 64 bits", () => {
  for (const access_hash of [-2, -2n, "-2"]) {
    const bytes = input.encode({ _cons: "inputPeerUser", user_id: 1, access_hash });
    assertEquals(bytes.subarray(12).toHex(), "feffffffffffffff");
  }
  const max = input.encode({
    _cons: "inputPeerUser",
    user_id: 1,
    access_hash: "9223372036854775807",
  });
  assertEquals(new TlCodec(schema).decode(max).access_hash, 9223372036854775807n);
  assertThrows(
    () => input.encode({ _cons: "inputPeerUser", user_id: 1, access_hash: 2 ** 60 }),
    TlEncodeError,
    "inputPeerUser.access_hash: long 1152921504606847000 is not an exact integer",
  );
  assertThrows(
    () => input.encode({ _cons: "inputPeerUser", user_id: 1, access_hash: "18446744073709551616" }),
    TlEncodeError,
    "out of the 64-bit range",
  );
});

Deno.test("Bool and flag fields accept the JSON forms and booleans", () => {
  const call = (value: unknown) => ({ _cons: "account.updateStatus", offline: value });
  assertEquals(input.encode(call(true)), input.encode(call({ _cons: "boolTrue" })));
  assertEquals(input.encode(call(false)), input.encode(call({ _cons: "boolFalse" })));
  const dialogs = (pinned: unknown) =>
    asJson.decode(input.encode({
      _cons: "messages.getDialogs",
      exclude_pinned: pinned,
      offset_date: 0,
      offset_id: 0,
      offset_peer: { _cons: "inputPeerEmpty" },
      limit: 10,
      hash: 0,
    }));
  assertEquals(dialogs(true).exclude_pinned, { _cons: "true" });
  assertEquals(dialogs({ _cons: "true" }).exclude_pinned, { _cons: "true" });
  for (const unset of [false, null, undefined]) {
    assertEquals("exclude_pinned" in dialogs(unset), false);
  }
  assertThrows(
    () => dialogs(1),
    TlEncodeError,
    "messages.getDialogs.exclude_pinned: expected true, false",
  );
});

Deno.test("flags2 fields are set and read independently of flags", () => {
  const user = {
    _cons: "user",
    bot_can_edit: { _cons: "true" },
    id: "5",
    first_name: "Ann",
    bot_active_users: 3,
  };
  const bytes = input.encode(user);
  const reader = new TlReader(bytes);
  reader.uint32();
  assertEquals(reader.int32(), 1 << 1, "flags: first_name only");
  assertEquals(reader.int32(), (1 << 1) | (1 << 12), "flags2: bot_can_edit and bot_active_users");
  assertEquals(asJson.decode(bytes), user);
});

Deno.test("a wrapped query is accepted as _wrapped or by its schema name", () => {
  const initConnection = {
    _cons: "initConnection",
    api_id: 33333,
    device_model: "d",
    system_version: "s",
    app_version: "a",
    system_lang_code: "en",
    lang_pack: "",
    lang_code: "en",
    query: { _cons: "help.getConfig" },
  };
  const viaName = input.encode({ _cons: "invokeWithLayer", layer: 223, query: initConnection });
  const viaWrapped = input.encode({
    _cons: "invokeWithLayer",
    layer: 223,
    _wrapped: initConnection,
  });
  assertEquals(viaName, viaWrapped);
  assertEquals(asJson.decode(viaName).query, initConnection);
  assertEquals(
    input.resultType({ _cons: "invokeWithLayer", layer: 1, _wrapped: initConnection }),
    "Config",
  );
  assertEquals(input.resultType({ _cons: "contacts.getContactIDs", hash: 0 }), "Vector<int>");
});

Deno.test("encode errors name the path from the outer constructor", () => {
  assertThrows(
    () =>
      input.encode({
        _cons: "messages.sendMessage",
        peer: { _cons: "inputUser", user_id: 1, access_hash: 2 },
        message: "hi",
        random_id: 1,
      }),
    TlEncodeError,
    "messages.sendMessage.peer: expected InputPeer, got inputUser",
  );
  assertThrows(
    () =>
      input.encode({
        _cons: "messages.getDialogs",
        offset_date: 0,
        offset_id: 0,
        limit: 1,
        hash: 0,
      }),
    TlEncodeError,
    "messages.getDialogs: missing required field offset_peer",
  );
  assertThrows(
    () =>
      input.encode({
        _cons: "users.getUsers",
        id: [{ _cons: "inputUserSelf" }, { _cons: "inputUser", user_id: "x", access_hash: 1 }],
      }),
    TlEncodeError,
    'users.getUsers.id[1].user_id: expected long, got string "x"',
  );
  const unknown = assertThrows(() => input.encode({ _cons: "messages.getDialogz" }), TlEncodeError);
  assertEquals(unknown.kind, "UnknownConstructor");
  assertThrows(() => input.encode({ _cons: "ping", ping_id: 1.5 }), TlEncodeError, "ping.ping_id");
  const typo = assertThrows(
    () =>
      input.encode({
        _cons: "messages.getHistory",
        peer: { _cons: "inputPeerSelf" },
        offset_id: 0,
        offset_date: 0,
        add_offset: 0,
        limit: 1,
        max_id: 0,
        min_id: 0,
        hash: 0,
        ofset: 1,
      }),
    TlEncodeError,
    "messages.getHistory: unknown field ofset; its fields are peer, offset_id",
  );
  assertEquals(typo.kind, "UnknownField");
  // Keys starting with "_" are the client's own (the original protocol's _seqno, for one).
  input.encode({ _cons: "help.getConfig", _seqno: 3 });
  assertThrows(() => input.encode("ping"), TlEncodeError, "expected an object with _cons");
  assertThrows(
    () => input.encode({ _cons: "req_pq_multi", nonce: new Uint8Array(15).toBase64() }),
    TlEncodeError,
    "req_pq_multi.nonce: int128 must be 16 bytes, got 15",
  );
});

Deno.test("decode rejects unknown ids, truncation and absurd lengths cleanly", () => {
  const unknownId = assertThrows(
    () => asJson.decode(Uint8Array.fromHex("efbeadde")),
    TlDecodeError,
  );
  assertEquals(unknownId.message, "unknown constructor id 0xdeadbeef (at byte offset 0)");
  const nested = input.encode({ _cons: "inputPeerChannel", channel_id: 1, access_hash: 2 });
  assertThrows(() => asJson.decode(nested.subarray(0, 10)), TlDecodeError, "Cannot decode long");
  // users.getUsers with a vector claiming 4294967295 elements and 4 bytes left.
  const hugeVector = new Uint8Array([
    ...input.encode({ _cons: "users.getUsers", id: [] }),
    0,
    0,
    0,
    0,
  ]);
  hugeVector.fill(0xff, 8, 12);
  assertThrows(
    () => asJson.decode(hugeVector),
    TlDecodeError,
    "Cannot decode vector: length 4294967295 exceeds remaining 4 bytes",
  );
  // inputPeerEmpty's sibling with a string: help.getAppConfig? Use a string whose length runs past the end.
  const ping = input.encode({ _cons: "contacts.resolveUsername", username: "durov" });
  const cut = ping.slice(0, ping.length);
  cut[ping.length - 8] = 200;
  assertThrows(
    () => asJson.decode(cut),
    TlDecodeError,
    "Cannot decode bytes: length 200 exceeds remaining",
  );
  assertThrows(
    () => asJson.decode(new Uint8Array([1, 2])),
    TlDecodeError,
    "needs 4 bytes, 2 remain",
  );
  assertThrows(
    () => asJson.decode(new Uint8Array([0xea, 0x18, 0x3b, 0x7f, 0])),
    TlDecodeError,
    "1 bytes left over",
  );
});

Deno.test("gzip_packed is unpacked transparently wherever an object may stand", () => {
  const config = input.encode({ _cons: "inputPeerChat", chat_id: 42 });
  const writerBytes = input.encode({ _cons: "gzip_packed", packed_data: gzipSync(config) });
  assertEquals(asJson.decode(writerBytes), { _cons: "inputPeerChat", chat_id: "42" });
  // zlib instead of gzip, as mtcute sends it and Telegram accepts it.
  const zlibBytes = input.encode({ _cons: "gzip_packed", packed_data: deflateSync(config) });
  assertEquals(asJson.decode(zlibBytes), { _cons: "inputPeerChat", chat_id: "42" });
  const garbage = input.encode({ _cons: "gzip_packed", packed_data: new Uint8Array(8) });
  assertThrows(() => asJson.decode(garbage), TlDecodeError, "gzip_packed data do not inflate");
});

Deno.test("function results are read with the declared type, bare vectors included", () => {
  const ids = input.encodeType("Vector<int>", [1, 2, 3]);
  assertEquals(ids.toHex(), "15c4b51c03000000010000000200000003000000");
  assertEquals(asJson.readType(new TlReader(ids), "Vector<int>"), [1, 2, 3]);
  const longs = input.encodeType("Vector<long>", ["-1"]);
  assertEquals(asJson.readType(new TlReader(longs), "Vector<long>"), ["-1"]);
});

Deno.test("long strings round-trip at the 254-byte header boundary", () => {
  for (const length of [0, 1, 253, 254, 255, 70000]) {
    const message = "x".repeat(length);
    const bytes = input.encode({ _cons: "contacts.resolveUsername", username: message });
    assertEquals(bytes.length % 4, 0);
    assertEquals(asJson.decode(bytes).username, message);
  }
});

Deno.test("with defaultHashes, only a missing required hash becomes 0", () => {
  const lenient = new TlCodec(schema, { defaultHashes: true });
  const call = { _cons: "contacts.getContactIDs" };
  assertEquals(lenient.encode(call), input.encode({ ...call, hash: 0 }));
  assertThrows(() => input.encode(call), TlEncodeError, "missing required field hash");
  assertThrows(
    () => lenient.encode({ _cons: "messages.getDialogs", offset_date: 0, offset_id: 0, limit: 1 }),
    TlEncodeError,
    "missing required field offset_peer",
  );
});

Deno.test("with fitToSchema, values written for another layer are fitted to this one", () => {
  const fitting = new TlCodec(schema, { fitToSchema: true });
  const user = {
    _cons: "user",
    id: 7,
    first_name: "Alice",
    access_hash: 1,
    a_field_of_some_other_layer: "dropped",
  };
  // The extra field is left out; everything else is encoded as the strict codec would.
  const { a_field_of_some_other_layer: _, ...plain } = user;
  assertEquals(fitting.encode(user), input.encode(plain));
  assertThrows(
    () => input.encode(user),
    TlEncodeError,
    "unknown field a_field_of_some_other_layer",
  );

  // Missing required fields get neutral values; a missing or unknown object, the simplest
  // constructor of its type.
  const dialog = asJson.decode(fitting.encode({
    _cons: "dialog",
    peer: { _cons: "peerUser", user_id: 7 },
    top_message: 3,
    notify_settings: { _cons: "peerNotifySettingsOfSomeOtherLayer" },
  }));
  assertEquals(dialog, {
    _cons: "dialog",
    peer: { _cons: "peerUser", user_id: "7" },
    top_message: 3,
    read_inbox_max_id: 0,
    read_outbox_max_id: 0,
    unread_count: 0,
    unread_mentions_count: 0,
    unread_reactions_count: 0,
    notify_settings: { _cons: "peerNotifySettings" },
  });
  const empty = asJson.decode(fitting.encode({ _cons: "messages.dialogs" }));
  assertEquals(empty, {
    _cons: "messages.dialogs",
    dialogs: [],
    messages: [],
    chats: [],
    users: [],
  });
  // A value of the wrong kind is still an error: fitting is about fields, not types.
  assertThrows(
    () => fitting.encode({ _cons: "dialog", peer: { _cons: "peerUser", user_id: "seven" } }),
    TlEncodeError,
    "dialog.peer.user_id",
  );
});

Deno.test("a double field takes any JSON number, an integer beyond 2^53 included", () => {
  const json = new TlCodec(loadSchema(), { longs: "json", bytes: "base64" });
  for (
    const [text, expected] of [
      ["0.30000000000000004", 0.30000000000000004],
      ["1e308", 1e308],
      ["9007199254740993", 9007199254740992],
      ["-1.5771985808088268e-200", -1.5771985808088268e-200],
    ] as const
  ) {
    const request = parseJsonExact(
      `{"_cons": "inputGeoPoint", "lat": ${text}, "long": 1}`,
    );
    const decoded = json.decode(json.encode(request));
    assertEquals(decoded.lat, expected, text);
  }
});

Deno.test("largeBytesAsViews: a file part's bytes are a view into the input, small bytes copies", () => {
  const viewing = new TlCodec(loadSchema(), { largeBytesAsViews: true });
  const copying = new TlCodec(loadSchema());
  const part = (size: number) => ({
    _cons: "upload.file",
    type: { _cons: "storage.filePartial" },
    mtime: 1,
    bytes: new Uint8Array(size).map((_, i) => i * 7),
  });
  for (const size of [100, 64 * 1024 - 1, 64 * 1024, 1 << 20]) {
    const encoded = copying.encode(part(size));
    const viewed = viewing.decode(encoded).bytes as Uint8Array;
    const copied = copying.decode(encoded).bytes as Uint8Array;
    assertEquals(viewed, part(size).bytes);
    assertEquals(copied, part(size).bytes);
    assertEquals(viewed.buffer === encoded.buffer, size >= 64 * 1024, `${size} bytes`);
    assertEquals(copied.buffer === encoded.buffer, false);
  }
});

Deno.test("encodeType's bytes stay whole after the codec encodes more (its writer is its own)", () => {
  const bytes = new Uint8Array(300_000).map((_, i) => i * 13);
  const file = { _cons: "upload.file", type: { _cons: "storage.filePartial" }, mtime: 5, bytes };
  const encoded = input.encodeType("upload.File", file);
  const again = encoded.slice();
  input.encode(file);
  input.encodeType("upload.File", { ...file, bytes: new Uint8Array(300_000) });
  assertEquals(encoded, again);
  assertEquals(input.decodeResult(encoded, "upload.File"), file);
});

Deno.test("big encodings in a row are each their own bytes (an upload's parts)", () => {
  const part = (n: number) => ({
    _cons: "upload.saveBigFilePart",
    file_id: 7n,
    file_part: n,
    file_total_parts: 2,
    bytes: new Uint8Array(512 * 1024).fill(n + 1),
  });
  const first = input.encode(part(0));
  const second = input.encode(part(1));
  const small = input.encode({ _cons: "inputPeerSelf" });
  // The header is 24 bytes (id, file_id, part, total, length): then the part's bytes.
  assertEquals([first[24], first.at(-1), second[24], second.at(-1), small.length], [1, 1, 2, 2, 4]);
  assertEquals(first.length, 24 + 512 * 1024);
  assertEquals(asJson.decode(first).file_part, 0);
  assertEquals(asJson.decode(second).file_part, 1);
});
