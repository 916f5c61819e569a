// future_salts on its own: how many the server gives, what it builds, how the client reads it.
import { assertEquals } from "../../assert.ts";
import {
  FUTURE_SALTS_ID,
  futureSalts,
  futureSaltsCount,
  readFutureSalts,
} from "../../../lib/mtproto/service_messages/future_salts.ts";
import { codec } from "../../support/session_conversation.ts";

Deno.test("a get_future_salts is answered with 1 to 64 salts", () => {
  assertEquals([-5, 0, 1, 32, 64, 65].map(futureSaltsCount), [1, 1, 1, 32, 64, 64]);
});

Deno.test("the answer round-trips through the wire and is read oldest first", () => {
  const salts = [
    { validSince: 3600, validUntil: 7200, salt: 2n },
    { validSince: 0, validUntil: 3600, salt: 1n },
  ];
  const body = codec.encode(futureSalts(12n, 1800.7, salts));
  assertEquals(new DataView(body.buffer).getUint32(0, true), FUTURE_SALTS_ID);
  const value = codec.decode(body);
  assertEquals([value.req_msg_id, value.now], [12n, 1800]);
  assertEquals(readFutureSalts(value), [salts[1], salts[0]]);
});
