// The service messages the session answers or sends on its own, checked on the wire and in the
// events only: destroy_session and destroy_auth_key answers, rpc_drop_answer after a cancel,
// get_future_salts backing off, msgs_all_info, undecodable answers, and the clock.
import { gzipSync } from "node:zlib";
import { assertEquals } from "../assert.ts";
import { MessageIdGenerator } from "../../lib/mtproto/message_id.ts";
import { INFLATE_PER_WINDOW, type SessionEvent } from "../../lib/mtproto/session.ts";
import { MAX_INFLATED } from "../../lib/tl/codec.ts";
import { TlWriter } from "../../lib/tl/writer.ts";
import { codec, conversation, NEAREST, NOW, rpcResult } from "../support/session_conversation.ts";

const kinds = (events: SessionEvent[]) => events.map((event) => event.type);
const names = (messages: { body: Record<string, unknown> }[]) =>
  messages.map((message) => message.body._cons);

Deno.test("destroy_session is answered by the bare destroy_session_ok naming its session", () => {
  const { session, received, send } = conversation();
  const other = 0x5555n;
  const requestId = session.send(codec.encode({ _cons: "destroy_session", session_id: other }));
  const unrelated = session.send(codec.encode({ _cons: "destroy_session", session_id: 7n }));
  received();
  // Bare answers carry no request id: the session they name says which request they answer.
  const none = session.receive(
    send(codec.encode({ _cons: "destroy_session_none", session_id: other })),
  );
  assertEquals(none.map((event) => event.type === "result" && event.requestId), [requestId]);
  assertEquals(
    codec.decode((none[0] as { body: Uint8Array }).body),
    { _cons: "destroy_session_none", session_id: other },
  );
  const ok = session.receive(send(codec.encode({ _cons: "destroy_session_ok", session_id: 7n })));
  assertEquals(ok.map((event) => event.type === "result" && event.requestId), [unrelated]);
  assertEquals(session.pendingCount, 0);
});

Deno.test("destroy_auth_key is answered by destroy_auth_key_ok, _none or _fail", () => {
  const { session, received, send } = conversation();
  const requestId = session.send(codec.encode({ _cons: "destroy_auth_key" }));
  received();
  const events = session.receive(send(codec.encode({ _cons: "destroy_auth_key_fail" })));
  assertEquals(events.map((event) => event.type === "result" && event.requestId), [requestId]);
  // A second, unasked one answers nothing.
  assertEquals(session.receive(send(codec.encode({ _cons: "destroy_auth_key_ok" }))), []);
});

Deno.test("a request given up after it went out is followed by rpc_drop_answer; one never sent is not", () => {
  const { session, received, send } = conversation();
  const sent = session.send(codec.encode({ _cons: "help.getNearestDc" }));
  const request = received().find((message) => message.body._cons === "help.getNearestDc")!;
  assertEquals(session.wasSent(sent), true);
  session.cancel(sent);
  const drop = received().filter((message) => message.body._cons === "rpc_drop_answer");
  assertEquals(drop.map((message) => message.body.req_msg_id), [request.messageId]);
  // Sent once, not tracked: a reconnect does not send it again.
  session.resendPending();
  assertEquals(names(received()).includes("rpc_drop_answer"), false);
  // The late answer is dropped silently; the drop's own answer too.
  assertEquals(kinds(session.receive(send(rpcResult(request.messageId, NEAREST)))), []);
  const dropAnswer = rpcResult(drop[0].messageId, { _cons: "rpc_answer_dropped_running" });
  assertEquals(kinds(session.receive(send(dropAnswer))), []);
  // Cancelled before a flush: nothing about it goes out.
  const unsent = session.send(codec.encode({ _cons: "help.getConfig" }));
  assertEquals(session.wasSent(unsent), false);
  session.cancel(unsent);
  const after = names(received());
  assertEquals(after.includes("help.getConfig") || after.includes("rpc_drop_answer"), false);
});

Deno.test("get_future_salts refused by the server is asked again only after a growing wait", () => {
  const { session, received, send, time } = conversation();
  const asks = () => received().filter((message) => message.body._cons === "get_future_salts");
  const refuse = (ask: { messageId: bigint }) =>
    session.receive(send(rpcResult(ask.messageId, {
      _cons: "rpc_error",
      error_code: 400,
      error_message: "METHOD_INVALID",
    })));
  session.send(codec.encode({ _cons: "help.getNearestDc" }));
  const first = asks();
  assertEquals(first.length, 1);
  refuse(first[0]);
  // Many flushes soon after: no new ask.
  for (let i = 0; i < 50; i++) {
    session.send(codec.encode({ _cons: "ping", ping_id: BigInt(i) }));
    assertEquals(asks().length, 0);
    time.ms += 1000;
  }
  // 60 s after the refusal it is asked once more; refused again, the wait doubles.
  time.ms = NOW + 61_000;
  session.send(codec.encode({ _cons: "help.getNearestDc" }));
  const second = asks();
  assertEquals(second.length, 1);
  refuse(second[0]);
  time.ms += 100_000;
  session.send(codec.encode({ _cons: "help.getNearestDc" }));
  assertEquals(asks().length, 0);
  time.ms += 25_000;
  session.send(codec.encode({ _cons: "help.getNearestDc" }));
  assertEquals(asks().length, 1);
});

Deno.test("msgs_all_info saying a request never arrived sends it again under a new msg_id", () => {
  const { session, received, send } = conversation();
  session.send(codec.encode({ _cons: "help.getNearestDc" }));
  const request = received().find((message) => message.body._cons === "help.getNearestDc")!;
  session.receive(send(
    codec.encode({
      _cons: "msgs_all_info",
      msg_ids: [request.messageId],
      info: new Uint8Array([1]),
    }),
    { response: false },
  ));
  const again = received().find((message) => message.body._cons === "help.getNearestDc")!;
  assertEquals(again !== undefined && again.messageId !== request.messageId, true);
  // State 4 (received) changes nothing.
  session.receive(send(
    codec.encode({
      _cons: "msgs_all_info",
      msg_ids: [again.messageId],
      info: new Uint8Array([4]),
    }),
    { response: false },
  ));
  assertEquals(names(received()).includes("help.getNearestDc"), false);
});

Deno.test("an answer that inflates past the budget fails its request at once", () => {
  const { session, received, send } = conversation();
  const requestId = session.send(codec.encode({ _cons: "help.getNearestDc" }));
  const request = received().find((message) => message.body._cons === "help.getNearestDc")!;
  const packed = gzipSync(new Uint8Array(20 << 20), { level: 9 });
  const bomb = new TlWriter(packed.length + 8);
  bomb.int32(0x3072cfa1);
  bomb.bytes(packed);
  const events = session.receive(send(rpcResult(request.messageId, bomb.finish())));
  assertEquals(events.length, 1);
  const failed = events[0] as Extract<SessionEvent, { type: "failed" }>;
  assertEquals([failed.type, failed.requestId, failed.code], ["failed", requestId, 0]);
  assertEquals(failed.reason.includes("could not be unpacked"), true);
  assertEquals(session.pendingCount, 0);
});

Deno.test("only a bad_msg_notification about a message we sent may move the clock", () => {
  const { session, received, send } = conversation();
  session.send(codec.encode({ _cons: "help.getNearestDc" }));
  const request = received().find((message) => message.body._cons === "help.getNearestDc")!;
  // Two hours behind, about a msg_id we never sent: dropped as outside the time window.
  const farBehind = new MessageIdGenerator(() => NOW - 7_200_000, "server");
  const forged = session.receive(send(
    codec.encode({
      _cons: "bad_msg_notification",
      bad_msg_id: request.messageId + 4000n,
      bad_msg_seqno: 1,
      error_code: 16,
    }),
    { messageId: farBehind.next(false) },
  ));
  assertEquals(kinds(forged), ["dropped"]);
  assertEquals(session.ids.offsetMs, 0);
  // About our request, it corrects the clock.
  session.receive(send(
    codec.encode({
      _cons: "bad_msg_notification",
      bad_msg_id: request.messageId,
      bad_msg_seqno: 1,
      error_code: 16,
    }),
    { messageId: farBehind.next(false) },
  ));
  assertEquals(Math.abs(session.ids.offsetMs + 7_200_000) < 1000, true);
});

Deno.test("msg_ids never have their low 32 bits all zero", () => {
  // A clock exactly on a second boundary made the fraction zero once in a thousand ids.
  const ids = new MessageIdGenerator(() => NOW, "client");
  const id = ids.next();
  assertEquals(id & 0xffffffffn, 4n);
  assertEquals(id >> 32n, BigInt(NOW / 1000));
});

Deno.test("a server that sends bomb after bomb is cut off for the rest of the window", () => {
  const { session, received, send, time } = conversation();
  const packed = gzipSync(new Uint8Array(MAX_INFLATED - 1024), { level: 9 });
  const big = new TlWriter(packed.length + 8);
  big.int32(0x3072cfa1);
  big.bytes(packed);
  const answer = big.finish();
  const outcomes: string[] = [];
  for (let i = 0; i < 17; i++) {
    session.send(codec.encode({ _cons: "help.getNearestDc" }));
    const request = received().find((message) => message.body._cons === "help.getNearestDc")!;
    outcomes.push(...kinds(session.receive(send(rpcResult(request.messageId, answer)))));
  }
  // 16 per-message budgets per window: the 17th answer is refused, and fails its request.
  assertEquals(outcomes, [...Array(16).fill("result"), "failed"]);
  assertEquals(INFLATE_PER_WINDOW, 16 * MAX_INFLATED);
  time.ms += 10_000;
  session.send(codec.encode({ _cons: "help.getNearestDc" }));
  const later = received().find((message) => message.body._cons === "help.getNearestDc")!;
  assertEquals(kinds(session.receive(send(rpcResult(later.messageId, answer)))), ["result"]);
});

Deno.test("the replay window keeps the last 4096 msg_ids; older ones are refused", () => {
  const { session, send } = conversation();
  const update = codec.encode({ _cons: "updatesTooLong" });
  const ids = new MessageIdGenerator(() => NOW, "server");
  const first = ids.next(false);
  const early = send(update, { messageId: first, response: false });
  assertEquals(kinds(session.receive(early)), ["update"]);
  for (let i = 0; i < 4096; i++) {
    session.receive(send(update, { messageId: ids.next(false), response: false }));
  }
  // The first has left the window: its replay is refused as too old, not as a duplicate.
  const replayed = session.receive(early);
  assertEquals(replayed.map((event) => event.type === "dropped" && event.reason), [
    "msg_id older than the replay window",
  ]);
  const fresh = send(update, { messageId: ids.next(false), response: false });
  assertEquals(kinds(session.receive(fresh)), ["update"]);
});
