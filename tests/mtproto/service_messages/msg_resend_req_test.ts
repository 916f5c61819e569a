// msg_resend_req on its own: the request, and which kept messages answer it (responses stay
// responses).
import { assertEquals } from "../../assert.ts";
import {
  msgResendReq,
  resendRequested,
} from "../../../lib/mtproto/service_messages/msg_resend_req.ts";
import { codec } from "../../support/session_conversation.ts";

Deno.test("the request encodes the ids it names", () => {
  const value = msgResendReq([9n, 11n]);
  assertEquals(codec.decode(codec.encode(value)), value);
});

Deno.test("kept messages come back in the asked order; unknown ids are skipped", () => {
  const kept = new Map([[9n, new Uint8Array([1])], [11n, new Uint8Array([2])]]);
  const again = resendRequested(msgResendReq([11n, 7n, 9n]), kept);
  assertEquals(again.map((message) => [message.messageId, message.body[0], message.response]), [
    [11n, 2, false], // 3 mod 4: not an answer
    [9n, 1, true], // 1 mod 4: an answer
  ]);
});
