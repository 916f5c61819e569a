// The msg_id window on its own: the sender's parity first, then 300 s back and 30 s ahead of the
// receiver's clock, each refusal with its bad_msg_notification code.
import { assertEquals } from "../assert.ts";
import {
  checkMsgId,
  MSG_ID_MAX_AGE_SECONDS,
  MSG_ID_MAX_AHEAD_SECONDS,
} from "../../lib/mtproto/msg_id_window.ts";

const NOW = 1_700_000_000;
const at = (seconds: number, low = 0n) => (BigInt(seconds) << 32n) | low;

Deno.test("a client's msg_id must be divisible by 4 (code 18), a server's odd", () => {
  assertEquals(checkMsgId(at(NOW, 0n), "client", NOW), undefined);
  for (const low of [1n, 2n, 3n]) assertEquals(checkMsgId(at(NOW, low), "client", NOW)?.code, 18);
  assertEquals(checkMsgId(at(NOW, 1n), "server", NOW), undefined);
  assertEquals(checkMsgId(at(NOW, 3n), "server", NOW), undefined);
  for (const low of [0n, 2n]) {
    assertEquals(checkMsgId(at(NOW, low), "server", NOW)?.reason, "server msg_id is not odd");
  }
});

Deno.test("the window is 300 s back and 30 s ahead, its edges included", () => {
  assertEquals([MSG_ID_MAX_AGE_SECONDS, MSG_ID_MAX_AHEAD_SECONDS], [300, 30]);
  assertEquals(checkMsgId(at(NOW - 300), "client", NOW), undefined);
  assertEquals(checkMsgId(at(NOW + 30), "client", NOW), undefined);
  assertEquals(checkMsgId(at(NOW - 301), "client", NOW)?.code, 16);
  assertEquals(checkMsgId(at(NOW + 31), "client", NOW)?.code, 17);
});

Deno.test("parity is checked before time, and the reason names the time and the window", () => {
  assertEquals(checkMsgId(at(NOW - 1000, 2n), "client", NOW)?.code, 18);
  assertEquals(
    checkMsgId(at(NOW + 31, 1n), "server", NOW + 0.5)?.reason,
    `server msg_id time ${NOW + 31} is outside the window around ${NOW}`,
  );
});
