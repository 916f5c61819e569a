/**
 * One client connection to an emulated DC: the server side of the transport, the key exchange and
 * MTProto sessions, from the same lib pieces the client uses. It is fed received bytes and writes
 * replies through a callback; sessions outlive connections, so a client that reconnects keeps its
 * session, and a request resent under the same msg_id is answered from the cache, not run twice.
 *
 * The session is server_session.ts, MTProto's own messages server_service_messages.ts, API calls
 * server_call.ts, injected faults server_faults.ts; the protocol rules (msg_id window, seqnos,
 * service messages) are lib/mtproto's, the same the client follows.
 *
 * @module
 */

import { SecurityError, TransportError } from "../errors.ts";
import type { TimerId } from "../io/clock.ts";
import { randomLong } from "../crypto/random.ts";
import { GZIP_PACKED_ID, type TlObject } from "../tl/codec.ts";
import { decryptMessage, encryptMessage } from "../mtproto/encrypted_message.ts";
import { MessageIdGenerator } from "../mtproto/message_id.ts";
import { checkMsgId } from "../mtproto/msg_id_window.ts";
import { isPlainMessage, packPlainMessage, unpackPlainMessage } from "../mtproto/plain_message.ts";
import { containerBody, MSG_CONTAINER_ID, unpackContainer } from "../mtproto/container.ts";
import { unpackGzip } from "../mtproto/gzip_packed.ts";
import { peekConstructorId } from "../mtproto/peek.ts";
import { needsAck } from "../mtproto/seq_no.ts";
import { badMsgNotification } from "../mtproto/service_messages/bad_msg_notification.ts";
import { badServerSalt } from "../mtproto/service_messages/bad_server_salt.ts";
import { takeAcks } from "../mtproto/service_messages/msgs_ack.ts";
import { newSessionCreated } from "../mtproto/service_messages/new_session_created.ts";
import { innermostCall } from "../mtproto/invoke_wrappers.ts";
import { ServerTransport } from "../transport/transport.ts";
import { FRAME_HEADROOM } from "../transport/framing.ts";
import { AuthKeyServer } from "./auth_key_server.ts";
import type { KeyEntry } from "./key_store.ts";
import type { AnswerOptions, DcContext } from "./dc_context.ts";
import { errorBody, rpcResult, runCall } from "./server_call.ts";
import { ConnectionFaults } from "./server_faults.ts";
import { receivedFrames, SEND_BUFFER_FROM, takeSendBuffer } from "./files/send_buffers.ts";
import { answerServiceMessage, serviceBody } from "./server_service_messages.ts";
import { type OutgoingBody, ServerSession } from "./server_session.ts";
import { setImmediate } from "node:timers";
import type { BodyWriter } from "../mtproto/encrypted_message.ts";

/** Answers from this size on (file parts) are sent one at a time, not in a container. */
const STREAM_FROM = 64 * 1024;

export type { AnswerOptions, CallContext, DcContext, DcFaults } from "./dc_context.ts";
export { ServerSession } from "./server_session.ts";

let connectionCount = 0;

/** The server side of one TCP connection. */
export class ServerConnection {
  readonly transport: ServerTransport;
  readonly #handshake: AuthKeyServer;
  readonly #faults: ConnectionFaults;
  /** Content messages of the payload being handled, acknowledged together in one msgs_ack. */
  #acks: bigint[] = [];
  /** What the answers of the payload being handled asked to hear once they are sent. */
  #afterSend: (() => void)[] = [];
  /** Big answers (file parts) going out one at a time, each made in a turn of its own. */
  #streaming: { session: ServerSession; body: Uint8Array | BodyWriter; onSent?: () => void }[] = [];
  #streamScheduled = false;
  /** Armed by ping_delay_disconnect: closes the connection if the client goes silent. */
  #silenceTimer?: TimerId;
  closed = false;
  /** The account's key this connection last used (for the record of who drives each key). */
  #accountKey?: KeyEntry;
  /** A number for logs, unique in the process. */
  readonly id = ++connectionCount;
  readonly #handshakeIds: MessageIdGenerator;

  /** `write` sends bytes on the socket; `close` ends it. */
  constructor(
    private readonly dc: DcContext,
    private readonly write: (bytes: Uint8Array) => void,
    private readonly onClose: () => void,
  ) {
    this.transport = new ServerTransport(dc.random, receivedFrames);
    this.#faults = new ConnectionFaults(dc);
    this.#handshakeIds = new MessageIdGenerator(() => dc.clock.wall(), "server");
    this.#handshake = new AuthKeyServer(
      dc.codec,
      dc.rsaKey,
      dc.random,
      () => dc.clock.wall() / 1000,
      (created) =>
        dc.keys.register(
          created.authKey,
          created.serverSalt,
          dc.clock.wall() / 1000,
          created.expiresIn,
        ),
    );
  }

  /** Feeds bytes read from the socket. */
  receiveBytes(chunk: Uint8Array): void {
    if (this.closed) return;
    let payloads: Uint8Array[];
    try {
      payloads = this.transport.unpack(chunk);
    } catch (error) {
      this.dc.log(
        `dc${this.dc.dcId} connection ${this.id}: transport error: ${(error as Error).message}`,
      );
      this.close();
      return;
    }
    for (const payload of payloads) {
      if (this.closed) return;
      try {
        if (isPlainMessage(payload)) this.#receivePlain(payload);
        else this.#receiveEncrypted(payload);
        // Handled: nothing holds its bytes now (a big frame's buffer goes to the next frame).
        receivedFrames.release(payload);
      } catch (error) {
        this.#flushAfterSend();
        if (error instanceof SecurityError || error instanceof TransportError) {
          this.dc.log(`dc${this.dc.dcId}: dropped a message: ${error.message}`);
          continue;
        }
        // Anything else is a fault in the emulator or a message it cannot make sense of: say
        // so, with the connection, and end it — never in silence.
        this.dc.log(
          `dc${this.dc.dcId} connection ${this.id}: closing after an unexpected error: ${
            (error as Error).stack ?? error
          }`,
        );
        this.close();
        return;
      }
    }
  }

  /** Ends the connection; its sessions wait for the client to come back. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dc.clock.clearTimeout(this.#silenceTimer);
    for (const session of this.dc.sessions.values()) {
      if (session.connection === this) session.connection = undefined;
    }
    this.onClose();
  }

  #receivePlain(payload: Uint8Array): void {
    const { body } = unpackPlainMessage(payload);
    const reply = this.#handshake.receive(body);
    this.write(this.transport.pack(packPlainMessage(this.#handshakeIds.next(true), reply)));
  }

  #receiveEncrypted(payload: Uint8Array): void {
    const key = this.dc.keys.find(payload.subarray(0, 8), this.dc.clock.wall() / 1000);
    if (!key) {
      // Telegram's answer to an unknown (or expired temporary) auth key: a -404 transport error.
      this.write(this.transport.packError(404));
      return;
    }
    if (key.hasBoundTemp) {
      // With PFS the permanent key only signs bindings: say so when a client uses it for more.
      this.dc.log(
        `dc${this.dc.dcId} connection ${this.id}: a message under permanent key ` +
          `${key.authKey.id.toHex()}, to which a temporary key is bound`,
      );
    }
    // The transport's payload is this message's alone until it is handled (its frame goes back to
    // the pool only after): decrypted in place, which spares an upload's part its own copy.
    const message = decryptMessage(key.authKey, payload, "client", { inPlace: true });
    // Only a message that decrypted counts: bytes under a key id prove nothing.
    if (this.dc.holders && this.#accountKey !== (key.boundTo ?? key)) {
      this.#accountKey = key.boundTo ?? key;
      this.dc.holders.use(this.id, this.dc.dcId, this.#accountKey.authKey.id.toHex());
    }
    const now = this.dc.clock.wall() / 1000;
    const sessionKey = `${key.authKey.id.toHex()}:${message.sessionId}`;
    let session = this.dc.sessions.get(sessionKey);
    const out: OutgoingBody[] = [];
    if (!session) {
      session = new ServerSession(
        message.sessionId,
        key,
        message.messageId,
        () => this.dc.clock.wall(),
      );
      this.dc.sessions.set(sessionKey, session);
      const salt = this.dc.keys.currentSalt(now);
      const created = newSessionCreated(message.messageId, randomLong(this.dc.random), salt);
      out.push(serviceBody(this.dc, created));
    }
    session.connection = this;
    const refusal = checkMsgId(message.messageId, "client", now);
    if (refusal !== undefined) {
      out.push(this.#badMessage(message.messageId, message.seqNo, refusal.code));
    } else if (!this.dc.keys.acceptsSalt(message.salt, now, key)) {
      this.dc.stats.badServerSalts++;
      const salt = this.dc.keys.currentSalt(now);
      out.push(serviceBody(this.dc, badServerSalt(message.messageId, message.seqNo, salt)));
    } else {
      this.#handle(session, message.messageId, message.seqNo, message.body, out, now);
    }
    // Telegram's limit is 8192 ids to a msgs_ack; a payload with more gets several.
    while (this.#acks.length) {
      out.push({
        body: this.dc.codec.encode(takeAcks(this.#acks)),
        contentRelated: false,
        response: false,
      });
    }
    this.sendToSession(session, out);
    this.#flushAfterSend();
    this.#scheduleStream();
    if (this.#faults.takeDropDue()) {
      this.dc.log(`dc${this.dc.dcId}: dropping the connection (fault injection)`);
      this.close();
    }
  }

  /** Sends the next big answer in a turn of its own (after what the socket has to do). */
  #scheduleStream(): void {
    if (this.#streamScheduled || this.#streaming.length === 0) return;
    this.#streamScheduled = true;
    setImmediate(() => {
      this.#streamScheduled = false;
      const next = this.#streaming.shift()!;
      if (!this.closed) {
        this.sendToSession(next.session, [{
          body: next.body,
          contentRelated: true,
          response: true,
        }]);
      }
      next.onSent?.();
      this.#scheduleStream();
    });
  }

  /** Tells the answers of the payload just handled that they went out. */
  #flushAfterSend(): void {
    const callbacks = this.#afterSend;
    this.#afterSend = [];
    for (const callback of callbacks) callback();
  }

  /** https://core.telegram.org/mtproto/service_messages_about_messages#notice-of-ignored-error-message */
  #badMessage(messageId: bigint, seqNo: number, code: number): OutgoingBody {
    return serviceBody(this.dc, badMsgNotification(messageId, seqNo, code));
  }

  #handle(
    session: ServerSession,
    messageId: bigint,
    seqNo: number,
    body: Uint8Array,
    out: OutgoingBody[],
    now: number,
  ): void {
    const id = peekConstructorId(body);
    if (id === MSG_CONTAINER_ID) {
      // Each message of a container goes through the same msg_id checks as one of its own.
      for (const inner of unpackContainer(body)) {
        const refusal = checkMsgId(inner.messageId, "client", now);
        if (refusal !== undefined) {
          out.push(this.#badMessage(inner.messageId, inner.seqNo, refusal.code));
        } else this.#handle(session, inner.messageId, inner.seqNo, inner.body, out, now);
      }
      return;
    }
    if (id === GZIP_PACKED_ID) body = unpackGzip(body);
    this.#faults.received();
    if (needsAck(seqNo)) this.#acks.push(messageId);
    let request: TlObject;
    try {
      request = this.dc.codec.decode(body);
    } catch (error) {
      out.push(this.#answer(messageId, errorBody(this.dc, 400, "INPUT_METHOD_INVALID")));
      this.dc.log(`dc${this.dc.dcId}: undecodable request: ${(error as Error).message}`);
      return;
    }
    const service = answerServiceMessage({
      dc: this.dc,
      session,
      messageId,
      now,
      closeUnlessPingedWithin: (delayMs) => this.#closeUnlessPingedWithin(delayMs),
    }, request);
    if (service !== undefined) {
      out.push(...service);
      return;
    }
    const cached = session.answers.get(messageId);
    if (cached) {
      out.push({ body: cached, contentRelated: true, response: true });
      return;
    }
    const method = innermostCall(request)._cons;
    const options: AnswerOptions = {};
    const result = this.#faults.forgedAnswer(method) ??
      runCall(this.dc, session, request, messageId, options);
    const answer = rpcResult(this.dc, messageId, result, !options.uncompressed);
    session.remember(messageId, answer);
    const delay = this.#faults.delayMs(method) ?? options.delayMs;
    if (delay !== undefined) {
      this.dc.clock.setTimeout(
        () => {
          if (!this.closed) {
            this.sendToSession(session, [{ body: answer, contentRelated: true, response: true }]);
          }
          options.onSent?.();
        },
        delay,
        { keepAlive: false },
      );
      return;
    }
    if (answer.length >= STREAM_FROM) {
      // A file part goes in a message of its own, made in a turn of its own: the client
      // decrypts one while the next is encrypted, as from a server that sends each answer when
      // it is ready, instead of waiting for all of a payload's parts in one container.
      this.#streaming.push({
        session,
        body: answer,
        ...(options.onSent ? { onSent: options.onSent } : {}),
      });
      return;
    }
    out.push({ body: answer, contentRelated: true, response: true });
    // Answers of one payload go out together, after it is all handled.
    if (options.onSent) this.#afterSend.push(options.onSent);
  }

  /** The rpc_result carrying `result` to the request sent as `requestId`. */
  #answer(requestId: bigint, result: Uint8Array): OutgoingBody {
    return { body: rpcResult(this.dc, requestId, result), contentRelated: true, response: true };
  }

  /** Armed by ping_delay_disconnect: closes the connection if the client goes silent. */
  #closeUnlessPingedWithin(delayMs: number): void {
    this.dc.clock.clearTimeout(this.#silenceTimer);
    this.#silenceTimer = this.dc.clock.setTimeout(
      () => {
        this.dc.log(`dc${this.dc.dcId}: no ping within ${delayMs / 1000} s, disconnecting`);
        this.close();
      },
      delayMs,
      { keepAlive: false },
    );
  }

  /** Encrypts messages for a session (in a container when several) and writes them. */
  sendToSession(session: ServerSession, bodies: OutgoingBody[]): void {
    if (bodies.length === 0 || this.closed) return;
    const salt = this.dc.keys.currentSalt(this.dc.clock.wall() / 1000);
    const messages = bodies.map((item) => ({
      messageId: session.ids.next(item.response),
      seqNo: session.nextSeqNo(item.contentRelated),
      body: item.body,
    }));
    for (const [index, message] of messages.entries()) {
      if (bodies[index].contentRelated) session.rememberSent(message.messageId, message.body);
    }
    const single = messages.length === 1 ? messages[0] : undefined;
    const header = single ?? {
      messageId: session.ids.next(false),
      seqNo: session.nextSeqNo(false),
      // Laid out straight into the encrypted message: an answer's bytes are copied once.
      body: containerBody(messages),
    };
    const payload = encryptMessage(
      session.key.authKey,
      { salt, sessionId: session.sessionId, messageId: header.messageId, seqNo: header.seqNo },
      header.body,
      "server",
      this.dc.random,
      0,
      FRAME_HEADROOM,
      // A big message (a file part) is made in a buffer used again once written (dc_server
      // gives it back); not under `replay`, which keeps the payload to write it once more.
      header.body.length >= SEND_BUFFER_FROM && !this.dc.faults.replay ? takeSendBuffer : undefined,
    );
    // Framed in the room left before it: a file part is not copied once more.
    this.write(this.transport.pack(payload, { headroom: FRAME_HEADROOM }));
    const replayed = this.#faults.replayAfter(payload);
    if (replayed) this.write(this.transport.pack(replayed));
  }
}
