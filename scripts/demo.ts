/**
 * `deno task demo`: what runs today. Takes the JSON requests from the original mtproto2json README
 * through the TL runtime — JSON → TL bytes → JSON — and prints each step. (Once the emulator and
 * `serve` exist, the demo runs a scripted client against them instead.)
 *
 * @module
 */

import { TlCodec } from "../lib/tl/codec.ts";
import { loadSchema } from "../lib/tl/default_schema.ts";
import { parseJsonExact } from "../lib/tl/json.ts";

const REQUESTS = [
  '{"id": 100, "message": {"_cons": "ping", "ping_id": 100}}',
  '{"message":{"_cons":"messages.getDialogs","offset_date":0,"offset_id":0,"offset_peer":{"_cons":"inputPeerEmpty"},"limit":0}}',
  '{"id": 104, "message": {"_cons": "invokeWithLayer", "layer": 223, "_wrapped": {"_cons": "initConnection", "api_id": 33333, "device_model": "demo", "system_version": "1", "app_version": "1", "system_lang_code": "en", "lang_pack": "", "lang_code": "en", "query": {"_cons": "help.getConfig"}}}}',
  '{"id": 7, "message": {"_cons": "messages.sendMessage", "peer": {"_cons": "inputPeerUser", "user_id": 123456789, "access_hash": -8446744073709551615}, "message": "héllo", "random_id": 9223372036854775807}}',
  '{"id": 8, "message": {"_cons": "messages.sendMessage", "peer": {"_cons": "inputUser", "user_id": 1, "access_hash": 2}, "message": "hi", "random_id": 1}}',
];

const schema = loadSchema();
const input = new TlCodec(schema);
const output = new TlCodec(schema, { longs: "json", bytes: "base64" });

console.log(`mtproto2json demo: the TL runtime on layer ${schema.layer}\n`);
for (const line of REQUESTS) {
  const request = parseJsonExact(line);
  console.log(`request   ${line}`);
  try {
    const bytes = input.encode(request.message);
    console.log(
      `TL bytes  ${bytes.length} bytes: ${bytes.toHex().slice(0, 96)}${
        bytes.length > 48 ? "…" : ""
      }`,
    );
    console.log(`decoded   ${JSON.stringify(output.decode(bytes))}\n`);
  } catch (error) {
    console.log(
      `error     {"id": ${request.id ?? 1}, "error": "${
        (error as { kind?: string }).kind
      }", "msg": ${JSON.stringify((error as Error).message)}}\n`,
    );
  }
}
