// The client session as the state machine it is: payloads in, events and payloads out, with a
// hand-driven server on the other side (no sockets, no emulator, a fixed clock).
import { assertEquals } from "../assert.ts";
import {
  clock,
  codec,
  conversation,
  NEAREST,
  NOW,
  rpcResult,
  SALT,
} from "../support/session_conversation.ts";
import {
  decryptMessage,
  encryptMessage,
  makeAuthKey,
} from "../../lib/mtproto/encrypted_message.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { MessageIdGenerator } from "../../lib/mtproto/message_id.ts";
import { containerBody, packContainer, unpackContainer } from "../../lib/mtproto/container.ts";
import type { SessionEvent } from "../../lib/mtproto/session.ts";

const results = (events: SessionEvent[]) => events.filter((event) => event.type === "result");

Deno.test("an rpc_result answers its request once; a replayed copy is dropped", () => {
  const { session, received, send } = conversation();
  const requestId = session.send(codec.encode({ _cons: "help.getNearestDc" }));
  const request = received().find((message) => message.body._cons === "help.getNearestDc")!;
  const answer = send(rpcResult(request.messageId, NEAREST));
  const events = session.receive(answer);
  assertEquals(results(events).map((event) => event.requestId), [requestId]);
  assertEquals(codec.decode((results(events)[0] as { body: Uint8Array }).body), NEAREST);
  assertEquals(session.receive(answer).map((event) => event.type), ["dropped"]);
  assertEquals(session.pendingCount, 0);
});

Deno.test("a server message with an even or stale msg_id, another session id, or tampered bytes is dropped", () => {
  const { session, send } = conversation();
  const update = codec.encode({ _cons: "updatesTooLong" });
  const even = send(update, { messageId: (BigInt(NOW / 1000) << 32n) | 8n });
  assertEquals(session.receive(even)[0].type, "dropped");
  const otherSession = send(update, { sessionId: session.sessionId + 1n });
  assertEquals(session.receive(otherSession), [
    { type: "dropped", reason: "message for another session" },
  ]);
  const stale = send(update, { messageId: (BigInt(NOW / 1000 - 3600) << 32n) | 1n });
  assertEquals(session.receive(stale)[0].type, "dropped");
  const tampered = send(update);
  tampered[40] ^= 1;
  assertEquals(session.receive(tampered)[0].type, "dropped");
  // The good one still gets through after all that.
  assertEquals(session.receive(send(update, { response: false }))[0].type, "update");
});

Deno.test("bad_server_salt replaces the salt and resends the request under a new msg_id", () => {
  const { session, received, send } = conversation();
  const requestId = session.send(codec.encode({ _cons: "help.getNearestDc" }));
  const first = received().find((message) => message.body._cons === "help.getNearestDc")!;
  assertEquals(first.salt, SALT);
  const events = session.receive(send(
    codec.encode({
      _cons: "bad_server_salt",
      bad_msg_id: first.messageId,
      bad_msg_seqno: 1,
      error_code: 48,
      new_server_salt: 0x2222n,
    }),
    { response: false },
  ));
  assertEquals(results(events), []);
  assertEquals(session.salt, 0x2222n);
  const again = received().find((message) => message.body._cons === "help.getNearestDc")!;
  assertEquals(again.salt, 0x2222n);
  assertEquals(again.messageId > first.messageId, true);
  const answered = session.receive(send(rpcResult(again.messageId, NEAREST)));
  assertEquals(results(answered).map((event) => event.requestId), [requestId]);
});

Deno.test("content-related server messages are acknowledged with the next flush", () => {
  const { session, received, send } = conversation();
  const update = send(codec.encode({ _cons: "updatesTooLong" }), { response: false });
  const [event] = session.receive(update);
  assertEquals(event.type, "update");
  const acks = received().filter((message) => message.body._cons === "msgs_ack");
  assertEquals(acks.map((ack) => ack.body.msg_ids), [[(event as { messageId: bigint }).messageId]]);
  assertEquals(session.hasOutgoing, false, "an ack is sent once");
});

Deno.test("a server container is opened: an answer and an update in one payload", () => {
  const { session, received, send } = conversation();
  const requestId = session.send(codec.encode({ _cons: "help.getNearestDc" }));
  const request = received().find((message) => message.body._cons === "help.getNearestDc")!;
  const ids = new MessageIdGenerator(clock, "server");
  const container = packContainer([
    { messageId: ids.next(true), seqNo: 1, body: rpcResult(request.messageId, NEAREST) },
    { messageId: ids.next(false), seqNo: 3, body: codec.encode({ _cons: "updatesTooLong" }) },
  ]);
  const events = session.receive(send(container, { response: false }));
  assertEquals(events.map((event) => event.type).sort(), ["result", "update"]);
  assertEquals(results(events)[0].requestId, requestId);
});

Deno.test("new_session_created takes the server's salt and is reported", () => {
  const { session, send } = conversation();
  const events = session.receive(send(
    codec.encode({
      _cons: "new_session_created",
      first_msg_id: 4n,
      unique_id: 7n,
      server_salt: 0x3333n,
    }),
    { response: false },
  ));
  assertEquals(events, [{ type: "new_session", firstMessageId: 4n }]);
  assertEquals(session.salt, 0x3333n);
});

Deno.test("msg_detailed_info for an answer never received asks for it with msg_resend_req", () => {
  const { session, received, send } = conversation();
  session.send(codec.encode({ _cons: "help.getNearestDc" }));
  const request = received().find((message) => message.body._cons === "help.getNearestDc")!;
  const lostAnswerId = new MessageIdGenerator(clock, "server").next(true) + 400n;
  session.receive(send(
    codec.encode({
      _cons: "msg_detailed_info",
      msg_id: request.messageId,
      answer_msg_id: lostAnswerId,
      bytes: 64,
      status: 0,
    }),
    { response: false },
  ));
  const resend = received().find((message) => message.body._cons === "msg_resend_req")!;
  assertEquals(resend.body.msg_ids, [lostAnswerId]);
});

/** A bad_msg_notification about `badId`, sent with the given server msg_id. */
function badMessage(errorCode: number, badId: bigint) {
  return codec.encode({
    _cons: "bad_msg_notification",
    bad_msg_id: badId,
    bad_msg_seqno: 1,
    error_code: errorCode,
  });
}

Deno.test("bad_msg_notification 17 sets the clock from the server's msg_id and resends", () => {
  const { session, received, send } = conversation();
  const requestId = session.send(codec.encode({ _cons: "help.getNearestDc" }));
  const first = received().find((message) => message.body._cons === "help.getNearestDc")!;
  // The server's clock is two hours behind ours: its notification says so through its msg_id.
  const serverSeconds = BigInt(NOW / 1000 - 7200);
  session.receive(
    send(badMessage(17, first.messageId), { messageId: (serverSeconds << 32n) | 3n }),
  );
  const again = received().find((message) => message.body._cons === "help.getNearestDc")!;
  assertEquals(again.messageId >> 32n, serverSeconds, "the new msg_id follows the server's clock");
  const answered = session.receive(send(rpcResult(again.messageId, NEAREST), {
    messageId: (serverSeconds << 32n) | 101n,
  }));
  assertEquals(results(answered).map((event) => event.requestId), [requestId]);
});

Deno.test("bad_msg_notification 32 starts a fresh session and resends there", () => {
  const { session, received, send } = conversation();
  session.send(codec.encode({ _cons: "help.getNearestDc" }));
  const first = received().find((message) => message.body._cons === "help.getNearestDc")!;
  const oldSession = session.sessionId;
  session.receive(send(badMessage(32, first.messageId), { response: false }));
  assertEquals(session.sessionId !== oldSession, true);
  const again = received().find((message) => message.body._cons === "help.getNearestDc");
  assertEquals(again !== undefined, true, "the request goes out again in the new session");
});

Deno.test("bad_msg_notification 64 fails the requests of that container with the reason", () => {
  const { session, received, send } = conversation();
  const requestId = session.send(codec.encode({ _cons: "help.getNearestDc" }));
  const payload = session.flush()!;
  const containerId = decryptMessage(session.authKey, payload, "client").messageId;
  assertEquals(received(), [], "nothing else waits to be sent");
  const events = session.receive(send(badMessage(64, containerId), { response: false }));
  assertEquals(events, [{
    type: "failed",
    requestId,
    code: 64,
    reason: "bad_msg_notification 64: invalid container",
  }]);
  assertEquals(session.pendingCount, 0);
});

Deno.test("msg_container's bytes: id, count, then each message's id, seqno, length and body", () => {
  const messages = [
    { messageId: -2n, seqNo: 3, body: Uint8Array.of(1, 2, 3, 4) },
    { messageId: 0x0123456789abcdefn, seqNo: 8, body: new Uint8Array(200_000).fill(9) },
  ];
  const packed = packContainer(messages);
  assertEquals(
    packed.subarray(0, 36).toHex(),
    "dcf8f173" + "02000000" + "feffffffffffffff" + "03000000" + "04000000" + "01020304" +
      "efcdab8967452301",
  );
  assertEquals(packed.length, 8 + 20 + 16 + 200_000);
  assertEquals(unpackContainer(packed), messages);
});

Deno.test("a container written straight into a message is the container packContainer makes", () => {
  const authKey = makeAuthKey(secureRandom(256));
  const messages = [
    { messageId: 12n << 32n, seqNo: 1, body: secureRandom(300_000) },
    { messageId: (12n << 32n) + 4n, seqNo: 2, body: secureRandom(20) },
  ];
  const header = { salt: 1n, sessionId: 2n, messageId: 13n << 32n, seqNo: 3 };
  const sealed = encryptMessage(authKey, header, containerBody(messages), "client", secureRandom);
  assertEquals(decryptMessage(authKey, sealed, "client").body, packContainer(messages));
});
