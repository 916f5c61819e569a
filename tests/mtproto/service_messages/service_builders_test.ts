// The small service messages on their own: each builds what the schema declares, and the
// client-side rules that go with them (ack batching, ping delay, destroy requests).
import { assertEquals } from "../../assert.ts";
import { badServerSalt } from "../../../lib/mtproto/service_messages/bad_server_salt.ts";
import {
  DESTROY_AUTH_KEY_ANSWERS,
  isDestroyAuthKey,
} from "../../../lib/mtproto/service_messages/destroy_auth_key.ts";
import {
  destroySessionAnswer,
  destroySessionTarget,
} from "../../../lib/mtproto/service_messages/destroy_session.ts";
import { MAX_ACKS_PER_MESSAGE, takeAcks } from "../../../lib/mtproto/service_messages/msgs_ack.ts";
import { newSessionCreated } from "../../../lib/mtproto/service_messages/new_session_created.ts";
import { disconnectDelayMs, pong } from "../../../lib/mtproto/service_messages/pong.ts";
import {
  dropAnswerOfComputedCall,
  rpcDropAnswer,
} from "../../../lib/mtproto/service_messages/rpc_drop_answer.ts";
import { codec } from "../../support/session_conversation.ts";

const roundTrip = (value: Record<string, unknown> & { _cons: string }) =>
  assertEquals(codec.decode(codec.encode(value)), value);

Deno.test("every builder gives an object the schema encodes as it is", () => {
  roundTrip(badServerSalt(8n, 1, 77n));
  roundTrip(newSessionCreated(8n, 5n, 77n));
  roundTrip(pong(8n, 42n));
  roundTrip(destroySessionAnswer(3n, true));
  roundTrip(destroySessionAnswer(3n, false));
  roundTrip(rpcDropAnswer(8n));
  roundTrip(dropAnswerOfComputedCall());
  assertEquals(badServerSalt(8n, 1, 77n).error_code, 48);
});

Deno.test("acks go out at most 8192 to a msgs_ack, oldest first", () => {
  const pending = Array.from({ length: MAX_ACKS_PER_MESSAGE + 2 }, (_, i) => BigInt(i * 4 + 1));
  const first = takeAcks(pending);
  assertEquals((first.msg_ids as bigint[]).length, 8192);
  assertEquals(takeAcks(pending).msg_ids, [32769n, 32773n]);
  roundTrip(takeAcks([5n]));
});

Deno.test("ping_delay_disconnect waits its delay, at least a second", () => {
  const ping = (delay: number) => ({
    _cons: "ping_delay_disconnect",
    ping_id: 1n,
    disconnect_delay: delay,
  });
  assertEquals([
    disconnectDelayMs(ping(75)),
    disconnectDelayMs(ping(0)),
    disconnectDelayMs(ping(-3)),
  ], [
    75_000,
    1000,
    1000,
  ]);
});

Deno.test("destroy requests are recognized from their bytes", () => {
  assertEquals(
    destroySessionTarget(codec.encode({ _cons: "destroy_session", session_id: -2n })),
    -2n,
  );
  assertEquals(destroySessionTarget(codec.encode({ _cons: "ping", ping_id: 1n })), undefined);
  assertEquals(destroySessionTarget(new Uint8Array([0x26, 0x21, 0x51, 0xe7])), undefined); // cut
  assertEquals(isDestroyAuthKey(codec.encode({ _cons: "destroy_auth_key" })), true);
  assertEquals(isDestroyAuthKey(codec.encode({ _cons: "ping", ping_id: 1n })), false);
  assertEquals([...DESTROY_AUTH_KEY_ANSWERS].map((name) => codec.combinator(name)?.kind), [
    "constructor",
    "constructor",
    "constructor",
  ]);
});
