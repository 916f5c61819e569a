import { assertEquals } from "../assert.ts";
import { TlCodec } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { factorizePq } from "../../lib/crypto/factorize.ts";
import { bigintFromBytes } from "../../lib/crypto/bigint.ts";

// Values from the docs' "Creating an Authorization Key: Example" (core.telegram.org/mtproto/samples-auth_key).
const codec = new TlCodec(loadSchema());

Deno.test("the example's req_pq_multi payload is what the TL runtime writes", () => {
  const sent = Uint8Array.fromHex(
    "0000000000000000" + "60970500ebe57767" + "14000000" + "f18e7ebe" +
      "79f0afb50252e5fc96924bfcecda4f05",
  );
  const body = codec.encode({ _cons: "req_pq_multi", nonce: sent.subarray(24).toBase64() });
  assertEquals(body, sent.subarray(20));
  const view = new DataView(sent.buffer);
  assertEquals(view.getUint32(16, true), body.length, "message_length");
  // message_id: (unixtime << 32) + N*4 — divisible by 4, client-generated.
  assertEquals(view.getBigUint64(8, true) % 4n, 0n);
});

Deno.test("the example's pq is p*q with p < q, both as TL big-endian bytes", () => {
  const pq = Uint8Array.fromHex("17ed48941a08f981");
  const [p, q] = factorizePq(bigintFromBytes(pq));
  assertEquals([p.toString(16), q.toString(16)], ["494c553b", "53911073"]);
});
