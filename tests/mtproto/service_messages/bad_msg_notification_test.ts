// bad_msg_notification on its own: what the server builds, what each code asks of the client, and
// which notifications may move the client's clock.
import { assertEquals } from "../../assert.ts";
import { packContainer } from "../../../lib/mtproto/container.ts";
import {
  BAD_MSG_NOTIFICATION_ID,
  badMsgAction,
  badMsgNotification,
  badMsgReason,
  isClockCorrection,
} from "../../../lib/mtproto/service_messages/bad_msg_notification.ts";
import { codec } from "../../support/session_conversation.ts";

Deno.test("the server's notification encodes as bad_msg_notification with its id", () => {
  const body = codec.encode(badMsgNotification(8n, 3, 17));
  assertEquals(new DataView(body.buffer).getUint32(0, true), BAD_MSG_NOTIFICATION_ID);
  assertEquals(codec.decode(body), {
    _cons: "bad_msg_notification",
    bad_msg_id: 8n,
    bad_msg_seqno: 3,
    error_code: 17,
  });
});

Deno.test("each code asks the client for one thing", () => {
  const actions = Object.fromEntries(
    [16, 17, 18, 19, 20, 32, 33, 34, 35, 48, 64].map((code) => [code, badMsgAction(code)]),
  );
  assertEquals(actions, {
    16: "synchronize",
    17: "synchronize",
    18: "fail",
    19: "fail",
    20: "resend",
    32: "new_session",
    33: "new_session",
    34: "new_session",
    35: "new_session",
    48: "resend",
    64: "fail",
  });
  assertEquals(badMsgReason(64), "bad_msg_notification 64: invalid container");
  assertEquals(badMsgReason(99), "bad_msg_notification 99: refused by the server");
});

Deno.test("only a 16 or 17 about a message of ours corrects the clock, in a container too", () => {
  const ours = (id: bigint) => id === 8n;
  const notice = (id: bigint, code: number) => codec.encode(badMsgNotification(id, 1, code));
  assertEquals(isClockCorrection(notice(8n, 16), ours), true);
  assertEquals(isClockCorrection(notice(8n, 17), ours), true);
  assertEquals(isClockCorrection(notice(8n, 18), ours), false);
  assertEquals(isClockCorrection(notice(12n, 16), ours), false); // replayed, or not ours
  const inner = [{ messageId: 5n, seqNo: 2, body: notice(8n, 17) }];
  assertEquals(isClockCorrection(packContainer(inner), ours), true);
  assertEquals(
    isClockCorrection(new Uint8Array([0xdc, 0xf8, 0xf1, 0x73, 9, 0, 0, 0]), ours),
    false,
  );
});

Deno.test("a container corrects the clock by any of its messages, unless it is malformed", () => {
  const ours = (id: bigint) => id === 8n;
  const notice = (id: bigint, code: number) => codec.encode(badMsgNotification(id, 1, code));
  const ack = codec.encode({ _cons: "msgs_ack", msg_ids: [1n, 2n] });
  const container = (...bodies: Uint8Array[]) =>
    packContainer(bodies.map((body, i) => ({ messageId: BigInt(4 * i + 4), seqNo: 1, body })));
  assertEquals(isClockCorrection(container(ack, notice(8n, 16), ack), ours), true);
  assertEquals(isClockCorrection(container(ack, ack, notice(8n, 17)), ours), true);
  assertEquals(isClockCorrection(container(ack, notice(12n, 16), notice(8n, 18)), ours), false);
  assertEquals(isClockCorrection(container(ack), ours), false);
  // The notification is there, but the container's last length runs past its end.
  const cut = container(notice(8n, 16), ack);
  assertEquals(isClockCorrection(cut.subarray(0, cut.length - 4), ours), false);
  const odd = container(notice(8n, 16), ack);
  new DataView(odd.buffer).setInt32(8 + 16 + notice(8n, 16).length + 12, 6, true);
  assertEquals(isClockCorrection(odd, ours), false);
});

Deno.test("containers nested deeper than the stack goes are no clock correction, and the check does not throw", () => {
  // A server holding the key may send anything; the session's receive() never throws, and it
  // asks this of every message before its own checks. Each level: the container's id, a count
  // of one, then one message (id, seqno, length) that is the next container.
  const depth = 50_000;
  const body = new Uint8Array(depth * 24 + 8);
  const view = new DataView(body.buffer);
  for (let level = 0; level <= depth; level++) {
    const at = level * 24;
    view.setUint32(at, 0x73f1f8dc, true); // msg_container
    if (level === depth) break; // the innermost is empty
    view.setInt32(at + 4, 1, true);
    view.setInt32(at + 20, body.length - (at + 24), true);
  }
  assertEquals(isClockCorrection(body, () => true), false);
});
