// msg_detailed_info on its own: ack an answer we have, ask for one we lack, ignore notices about
// messages that are not ours.
import { assertEquals } from "../../assert.ts";
import { detailedInfoAction } from "../../../lib/mtproto/service_messages/msg_detailed_info.ts";

const notice = { _cons: "msg_detailed_info", msg_id: 8n, answer_msg_id: 13n, bytes: 20, status: 0 };
const fresh = { _cons: "msg_new_detailed_info", answer_msg_id: 17n, bytes: 20, status: 0 };

Deno.test("an answer already received is acknowledged, a missing one asked for", () => {
  assertEquals(detailedInfoAction(notice, (id) => id === 8n, (id) => id === 13n), { ack: 13n });
  assertEquals(detailedInfoAction(notice, (id) => id === 8n, () => false), { resend_req: 13n });
});

Deno.test("a notice about someone else's message needs nothing; msg_new_detailed_info names none", () => {
  assertEquals(detailedInfoAction(notice, () => false, () => false), undefined);
  assertEquals(detailedInfoAction(fresh, () => false, () => false), { resend_req: 17n });
});
