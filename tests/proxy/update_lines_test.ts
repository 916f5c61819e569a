// The one writer of unasked lines: a journal row replayed to a connection comes out exactly as the
// live line did, in either long form, whether it is written from its text or parsed.

import assert from "node:assert/strict";
import { parseSchema } from "../../lib/tl/schema.ts";
import { rawJson } from "../../lib/tl/json.ts";
import { writeJournalRow } from "../../lib/store/journal_row.ts";
import { unaskedLine } from "../../lib/proxy/update_lines.ts";

const schema = parseSchema([{
  name: "demo.tl",
  text: [
    "user#1 id:long access_hash:long name:string = User;",
    "updates#2 users:Vector<User> date:int = Updates;",
  ].join("\n"),
}]);

// A user as the emulator (and Telegram) sends it: an access hash past 2^53, a small id.
const value = {
  _cons: "updates",
  users: [{
    _cons: "user",
    id: 1000002,
    access_hash: rawJson("5829392847392847392"),
    name: 'Bob "the builder" \u2603',
  }],
  date: 1765000000,
};
const live = { kind: "updates" as const, value, cursor: "AAAB.c2Vx.MTI" };
const row = writeJournalRow({ cursor: live.cursor, value });
const text = (line: Record<string, unknown> | string) =>
  typeof line === "string" ? line : JSON.stringify(line);

Deno.test("a journaled line reaches a default-form connection byte for byte as the live one", () => {
  const form = { schema, longsAsStrings: false };
  const replayed = unaskedLine({ kind: "journaled", row }, form);
  assert.equal(text(replayed), text(unaskedLine(live, form)));
  assert.match(text(replayed), /"access_hash":5829392847392847392\b/);
});

Deno.test("a journaled line reaches a longs_as_strings connection with its longs as strings", () => {
  const form = { schema, longsAsStrings: true };
  const replayed = text(unaskedLine({ kind: "journaled", row }, form));
  assert.equal(replayed, text(unaskedLine(live, form)));
  assert.match(replayed, /"access_hash":"5829392847392847392"/);
  assert.match(replayed, /"id":"1000002"/);
});

Deno.test("a row not in the shape this store writes is still read, not sent as it is", () => {
  // Key order differs (an older writer, say): the text path must not slice it blindly.
  const reordered = JSON.stringify({
    value: { _cons: "updates", users: [], date: 1 },
    cursor: "x",
  });
  const line = unaskedLine({ kind: "journaled", row: reordered }, {
    schema,
    longsAsStrings: false,
  });
  assert.deepEqual(JSON.parse(text(line)), {
    id: 0,
    message: { _cons: "updates", users: [], date: 1 },
    cursor: "x",
  });
});
