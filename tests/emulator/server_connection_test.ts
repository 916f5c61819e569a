// The emulator's connection handler driven in memory: client-side framing, key exchange steps
// and session on one side, ServerConnection on the other, bytes passed by hand.
import { assertEquals } from "../assert.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { ServerConnection } from "../../lib/emulator/server_connection.ts";
import {
  finishExchange,
  requestDhParams,
  requestPq,
  setClientDhParams,
} from "../../lib/mtproto/auth_key_exchange.ts";
import {
  decryptMessage,
  encryptMessage,
  makeAuthKey,
} from "../../lib/mtproto/encrypted_message.ts";
import { MessageIdGenerator } from "../../lib/mtproto/message_id.ts";
import { packPlainMessage, unpackPlainMessage } from "../../lib/mtproto/plain_message.ts";
import { packContainer, unpackContainer } from "../../lib/mtproto/container.ts";
import { ClientSession } from "../../lib/mtproto/session.ts";
import { ClientTransport } from "../../lib/transport/transport.ts";
import { testCodec as codec } from "../support/emulated_sender.ts";

/** Every message in a server payload, containers opened. */
function messagesIn(payload: Uint8Array, authKey: ReturnType<typeof makeAuthKey>) {
  const message = decryptMessage(authKey, payload, "server");
  const isContainer = new DataView(message.body.buffer, message.body.byteOffset, 4)
    .getUint32(0, true) === 0x73f1f8dc;
  return isContainer
    ? unpackContainer(message.body)
    : [{ messageId: message.messageId, seqNo: message.seqNo, body: message.body }];
}

/** An emulator, a ServerConnection to it driven by hand, a key exchange done, and a session. */
async function openSession() {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {} });
  const written: Uint8Array[] = [];
  const connection = new ServerConnection(
    emulator.contexts[0],
    (bytes) => written.push(bytes),
    () => {},
  );
  const transport = new ClientTransport({ kind: "intermediate" }, secureRandom);
  const deliver = (payload: Uint8Array) => {
    connection.receiveBytes(transport.pack(payload));
    return written.splice(0).flatMap((bytes) => transport.unpack(bytes));
  };
  const close = async () => {
    connection.close();
    await emulator.close();
  };
  try {
    // The key exchange, unencrypted.
    const plainIds = new MessageIdGenerator(Date.now, "client");
    const exchange = (body: Uint8Array) =>
      unpackPlainMessage(deliver(packPlainMessage(plainIds.next(), body))[0]).body;
    const context = { codec, random: secureRandom, publicKeys: [emulator.rsaKey], dcId: 1 };
    const step1 = requestPq(context);
    const step2 = requestDhParams(context, step1.state, exchange(step1.request));
    const step3 = setClientDhParams(
      context,
      step2.state,
      exchange(step2.request),
      Date.now() / 1000,
    );
    const finished = finishExchange(context, step3.state, exchange(step3.request));
    if (!("done" in finished)) throw new Error("the key exchange did not finish");
    const authKey = makeAuthKey(finished.done.authKey);
    const session = new ClientSession({
      codec,
      authKey,
      salt: finished.done.serverSalt,
      random: secureRandom,
      clock: Date.now,
      timeOffset: finished.done.timeOffset,
    });
    /** Sends one message with the given msg_id and seqno, bypassing the session's rules. */
    const sendRaw = (messageId: bigint, seqNo: number, body: Uint8Array) =>
      deliver(encryptMessage(
        authKey,
        { salt: session.salt, sessionId: session.sessionId, messageId, seqNo },
        body,
        "client",
        secureRandom,
      )).flatMap((payload) => messagesIn(payload, authKey));
    return { authKey, session, deliver, sendRaw, close };
  } catch (error) {
    await close();
    throw error;
  }
}

Deno.test("msg_resend_req for a server message id gets that message again", async () => {
  const { authKey, session, deliver, sendRaw, close } = await openSession();
  try {
    // A call, and the server message that answers it (after a bad_server_salt, maybe).
    const requestId = session.send(codec.encode({ _cons: "help.getNearestDc" }));
    let answer: { messageId: bigint; body: Uint8Array } | undefined;
    for (let round = 0; round < 5 && !answer; round++) {
      for (const payload of deliver(session.flush()!)) {
        const result = session.receive(payload).find((event) =>
          event.type === "result" && event.requestId === requestId
        );
        if (!result) continue;
        answer = messagesIn(payload, authKey).find((message) =>
          codec.decode(message.body)._cons === "rpc_result"
        );
      }
    }
    if (!answer) throw new Error("help.getNearestDc was not answered");

    // As if that answer had been lost: ask for it by its own msg_id.
    const request = codec.encode({ _cons: "msg_resend_req", msg_ids: [answer.messageId] });
    const again = sendRaw(session.ids.next(), 100, request);
    assertEquals(again.map((message) => message.body), [answer.body]);
  } finally {
    await close();
  }
});

Deno.test("the emulator refuses client msg_ids by the window the client checks too: 18, 16, 17", async () => {
  const { session, sendRaw, close } = await openSession();
  try {
    const ping = codec.encode({ _cons: "ping", ping_id: 7n });
    const notices = (messages: { body: Uint8Array }[]) =>
      messages.map((message) => codec.decode(message.body)).filter((value) =>
        value._cons === "bad_msg_notification"
      ).map((value) => value.error_code);
    const now = session.ids.next();
    // The first message of the session is announced; its msg_id is not divisible by 4.
    const first = sendRaw(now | 1n, 1, ping).map((message) => codec.decode(message.body)._cons);
    assertEquals(first.includes("new_session_created"), true);
    assertEquals(notices(sendRaw(now | 2n, 1, ping)), [18]);
    assertEquals(notices(sendRaw(now - (301n << 32n), 1, ping)), [16]);
    assertEquals(notices(sendRaw(now + (31n << 32n), 1, ping)), [17]);
    // Inside a container each message is checked on its own: the good one is answered.
    const container = packContainer([
      { messageId: session.ids.next() + (60n << 32n), seqNo: 1, body: ping },
      { messageId: session.ids.next(), seqNo: 3, body: ping },
    ]);
    const answers = sendRaw(session.ids.next(), 4, container).map((message) =>
      codec.decode(message.body)._cons
    );
    assertEquals(answers.filter((name) => name !== "bad_server_salt").sort(), [
      "bad_msg_notification",
      "msgs_ack",
      "pong",
    ]);
  } finally {
    await close();
  }
});
