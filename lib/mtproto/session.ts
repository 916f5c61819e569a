/**
 * The client side of an MTProto session as a state machine: requests go in with `send`, bytes to
 * write come out of `flush`, received payloads go into `receive`, which returns events. It owns
 * msg_ids, seqnos, salts, acks, containers, compression, and the service messages of the
 * protocol (bad_server_salt, bad_msg_notification, new_session_created, msg_detailed_info,
 * msgs_state_req, msg_resend_req...). It owns no socket and no timer: the sender drives it.
 *
 * Its rules are modules of their own, shared with the emulator where both sides apply them
 * (seq_no, msg_id_window, replay_window, salt_schedule, inflate_budget, service_messages/).
 *
 * @module
 */

import { randomLong, type RandomSource } from "../crypto/random.ts";
import { GZIP_PACKED_ID, type TlCodec, type TlObject } from "../tl/codec.ts";
import { containerBody, MSG_CONTAINER_ID, unpackContainer } from "./container.ts";
import {
  type AuthKey,
  type BodyWriter,
  decryptMessage,
  encryptMessage,
} from "./encrypted_message.ts";
import { InflateBudget } from "./inflate_budget.ts";
import { MessageIdGenerator } from "./message_id.ts";
import { checkMsgId } from "./msg_id_window.ts";
import { peekConstructorId } from "./peek.ts";
import { type Pending, PendingRequests } from "./pending_requests.ts";
import { ReplayWindow } from "./replay_window.ts";
import { readRpcResult, RPC_RESULT_ID } from "./rpc_result.ts";
import { SaltSchedule } from "./salt_schedule.ts";
import type { SessionEvent, SessionOptions } from "./session_types.ts";
import { OutgoingMessages } from "./outgoing_messages.ts";
import { needsAck, SeqNoCounter } from "./seq_no.ts";
import {
  badMsgAction,
  badMsgReason,
  isClockCorrection,
} from "./service_messages/bad_msg_notification.ts";
import { DESTROY_AUTH_KEY_ANSWERS } from "./service_messages/destroy_auth_key.ts";
import { FUTURE_SALTS_ID, readFutureSalts } from "./service_messages/future_salts.ts";
import { detailedInfoAction } from "./service_messages/msg_detailed_info.ts";
import { msgResendReq } from "./service_messages/msg_resend_req.ts";
import { notReceived } from "./service_messages/msgs_state_info.ts";
import { msgsStateInfo } from "./service_messages/msgs_state_req.ts";
import { rpcDropAnswer } from "./service_messages/rpc_drop_answer.ts";

export { INFLATE_PER_WINDOW } from "./inflate_budget.ts";
export type { SessionEvent, SessionOptions } from "./session_types.ts";

/** The client side of one MTProto session. */
export class ClientSession {
  readonly codec: TlCodec;
  readonly authKey: AuthKey;
  readonly ids: MessageIdGenerator;
  sessionId: bigint;
  salt: bigint;
  #salts = new SaltSchedule();
  #random: RandomSource;
  #seqNos = new SeqNoCounter();
  #requests = new PendingRequests();
  #outgoing = new OutgoingMessages();
  /** The server msg_ids received lately. */
  #seen = new ReplayWindow();
  #inflate = new InflateBudget();

  /** Starts (or resumes) a session over an auth key. */
  constructor(options: SessionOptions) {
    this.codec = options.codec;
    this.authKey = options.authKey;
    this.salt = options.salt;
    this.#random = options.random;
    this.ids = new MessageIdGenerator(options.clock, "client");
    if (options.timeOffset) this.ids.offsetMs = options.timeOffset * 1000;
    this.sessionId = options.sessionId ?? randomLong(options.random);
  }

  /** Requests sent and not yet answered. */
  get pendingCount(): number {
    return this.#requests.ownerCount;
  }

  /** True when requests or service answers wait to be sent (acks alone do not count). */
  get hasRequests(): boolean {
    return this.#requests.queue.length > 0 || this.#outgoing.worthAFlush;
  }

  /** True when `flush` has something to send. */
  get hasOutgoing(): boolean {
    return this.#requests.queue.length > 0 || this.#outgoing.hasAny;
  }

  /**
   * Queues a content-related request (a serialized function call); returns its local id. A
   * request whose body depends on its own msg_id (auth.bindTempAuthKey) is given as a function
   * of it, called each time the request goes out under a new msg_id.
   */
  send(request: Uint8Array | ((messageId: bigint) => Uint8Array)): number {
    if (typeof request === "function") {
      const pending = this.#requests.enqueue(new Uint8Array(0), false);
      pending.build = request;
      return pending.requestId;
    }
    return this.#requests.enqueue(request, false).requestId;
  }

  /** True when the request went out at least once: the server may have run it. */
  wasSent(requestId: number): boolean {
    return (this.#requests.get(requestId)?.messageIds.length ?? 0) > 0;
  }

  /**
   * Forgets a request (its caller gave up); a late answer to it is then dropped. A request that
   * went out is followed by `rpc_drop_answer`, so the server need not send (or compute) it.
   * https://core.telegram.org/mtproto/service_messages#cancellation-of-an-rpc-query
   */
  cancel(requestId: number): void {
    const pending = this.#requests.get(requestId);
    if (!pending) return;
    this.#requests.forget(pending);
    const last = pending.messageIds.at(-1);
    if (last !== undefined) {
      // Sent once and not tracked: its answer is of no use, and a server that never gives one
      // must not leave an entry behind for every request that timed out.
      this.#outgoing.push(this.codec.encode(rpcDropAnswer(last)), true);
    }
  }

  /**
   * After a reconnect: queues every unanswered request again under its last msg_id, so that a
   * server which already ran it answers from its cache instead of running it twice.
   */
  resendPending(): void {
    this.#requests.requeueAll();
  }

  /**
   * Takes over the unanswered requests of the session this one replaces (under a new temporary
   * key): they go out again here under new msg_ids, keeping their local ids.
   */
  adopt(previous: ClientSession): void {
    this.#requests.adopt(previous.#requests);
  }

  /** Starts a new session id (the server will announce new_session_created). */
  renewSession(): void {
    this.sessionId = randomLong(this.#random);
    this.#seqNos.reset();
    this.#seen.clear();
    this.#requests.restart();
  }

  /**
   * Builds the next encrypted payload: queued requests, acks and service answers, in one
   * container when there is more than one. Returns undefined when there is nothing to send.
   * `headroom`: spare bytes to leave before the payload for the framing; `allocate`: where the
   * payload is made (see encryptMessage).
   */
  flush(
    { headroom = 0, allocate }: {
      headroom?: number;
      allocate?: (length: number) => Uint8Array;
    } = {},
  ): Uint8Array | undefined {
    this.#maybeAskForSalts();
    this.salt = this.#salts.current(this.ids.now(), this.salt);
    const messages = this.#outgoing.take(this.#requests, this.ids, this.#seqNos, this.codec);
    if (messages.length === 0) return undefined;
    if (messages.length === 1) {
      const { messageId, seqNo, body } = messages[0];
      return this.#encrypt(messageId, seqNo, body, headroom, allocate);
    }
    const containerId = this.ids.next();
    this.#requests.sentContainer(containerId, messages.map((message) => message.messageId));
    const seqNo = this.#seqNos.next(false);
    return this.#encrypt(containerId, seqNo, containerBody(messages), headroom, allocate);
  }

  #encrypt(
    messageId: bigint,
    seqNo: number,
    body: Uint8Array | BodyWriter,
    headroom: number,
    allocate: ((length: number) => Uint8Array) | undefined,
  ) {
    const header = { salt: this.salt, sessionId: this.sessionId, messageId, seqNo };
    return encryptMessage(
      this.authKey,
      header,
      body,
      "client",
      this.#random,
      0,
      headroom,
      allocate,
    );
  }

  /** Asks for future salts ahead of expiry (see salt_schedule.ts for when). */
  #maybeAskForSalts(): void {
    if (!this.#salts.shouldAsk(this.ids.now())) return;
    const body = this.codec.encode({ _cons: "get_future_salts", num: 32 });
    this.#salts.asked(this.#requests.enqueue(body, true).requestId);
  }

  /**
   * Decrypts and checks a received payload, returning what it means. Never throws. `inPlace`:
   * the caller hands over a payload it never reads again, which is decrypted in its own bytes
   * (see {@link decryptMessage}).
   */
  receive(payload: Uint8Array, { inPlace = false }: { inPlace?: boolean } = {}): SessionEvent[] {
    let message;
    try {
      message = decryptMessage(this.authKey, payload, "server", { inPlace });
    } catch (error) {
      return [{ type: "dropped", reason: (error as Error).message }];
    }
    if (message.sessionId !== this.sessionId) {
      return [{ type: "dropped", reason: "message for another session" }];
    }
    // A clock far off makes every server message look out of the time window — including the
    // bad_msg_notification that says so. Such a notification (authenticated like any message)
    // corrects the clock first.
    if (isClockCorrection(message.body, (id) => this.#requests.isOurs(id))) {
      this.ids.synchronizeToMessageId(message.messageId);
    }
    const problem = this.#checkMessageId(message.messageId);
    if (problem) return [{ type: "dropped", reason: problem }];
    const events: SessionEvent[] = [];
    try {
      this.#handle(message.messageId, message.seqNo, message.body, events);
    } catch (error) {
      events.push({ type: "dropped", reason: `undecodable message: ${(error as Error).message}` });
    }
    return events;
  }

  /** The time window, then the replay window: why a server msg_id is refused, or undefined. */
  #checkMessageId(messageId: bigint): string | undefined {
    return checkMsgId(messageId, "server", this.ids.now())?.reason ?? this.#seen.accept(messageId);
  }

  /** Routes one received message (checked already) to the handler of its constructor. */
  #handle(messageId: bigint, seqNo: number, body: Uint8Array, events: SessionEvent[]): void {
    if (needsAck(seqNo)) this.#outgoing.ack(messageId);
    const id = peekConstructorId(body);
    if (id === MSG_CONTAINER_ID) return this.#onContainer(body, events);
    if (id === RPC_RESULT_ID) return this.#onRpcResult(body, events);
    if (id === GZIP_PACKED_ID) {
      const inflated = this.#inflate.inflate(body, this.ids.now());
      return this.#handle(messageId, seqNo & ~1, inflated, events);
    }
    const name = this.codec.schema.constructorsById.get(id)?.name;
    const value = () => this.codec.decode(body);
    switch (name) {
      case "msgs_ack":
        return; // nothing to do: unacknowledged requests are resent after a reconnect anyway
      case "pong":
        return this.#resolve(value().msg_id as bigint, body, events);
      case "future_salts":
        return this.#onFutureSalts(value(), body, events);
      case "bad_server_salt":
        return this.#onBadServerSalt(value());
      case "bad_msg_notification":
        return this.#onBadMsgNotification(value(), messageId, events);
      case "new_session_created":
        return this.#onNewSessionCreated(value(), events);
      case "msg_detailed_info":
      case "msg_new_detailed_info":
        return this.#onMsgDetailedInfo(value());
      case "msgs_state_req":
        return this.#reply(msgsStateInfo(messageId, value().msg_ids as bigint[], this.#received));
      case "msg_resend_req":
        return this.#onMsgResendReq(value());
      case "msgs_all_info":
      case "msgs_state_info":
        return notReceived(value()).forEach((lost) => this.#resendIfOurs(lost));
      case "destroy_session_ok":
      case "destroy_session_none":
        return this.#answerIf(
          this.#requests.destroySessionRequest(value().session_id as bigint),
          body,
          events,
        );
      case "rpc_answer_unknown":
      case "rpc_answer_dropped_running":
      case "rpc_answer_dropped":
      case "http_wait":
        return; // answers to rpc_drop_answer travel in rpc_result; bare ones need nothing
    }
    if (name !== undefined && DESTROY_AUTH_KEY_ANSWERS.has(name)) {
      return this.#answerIf(this.#requests.destroyAuthKeyRequest(), body, events);
    }
    events.push({ type: "update", body, messageId });
  }

  /** True when the server message `id` was received (it is in the replay window). */
  #received = (id: bigint): boolean => this.#seen.has(id);

  /** Queues a service message that answers the server; it is not content-related. */
  #reply(value: TlObject): void {
    this.#outgoing.push(this.codec.encode(value), false);
  }

  /** Each message of a container goes through the same checks as a message of its own. */
  #onContainer(body: Uint8Array, events: SessionEvent[]): void {
    for (const inner of unpackContainer(body)) {
      if (this.#checkMessageId(inner.messageId)) continue;
      this.#handle(inner.messageId, inner.seqNo, inner.body, events);
    }
  }

  /** https://core.telegram.org/mtproto/service_messages#request-for-several-future-salts */
  #onFutureSalts(value: TlObject, body: Uint8Array, events: SessionEvent[]): void {
    this.#salts.replace(readFutureSalts(value));
    this.#resolve(value.req_msg_id as bigint, body, events);
  }

  /** https://core.telegram.org/mtproto/service_messages_about_messages#notice-of-ignored-error-message */
  #onBadServerSalt(value: TlObject): void {
    this.salt = value.new_server_salt as bigint;
    this.#salts.clear();
    this.#requests.resendWithNewId(value.bad_msg_id as bigint);
  }

  /** https://core.telegram.org/mtproto/service_messages#new-session-creation-notification */
  #onNewSessionCreated(value: TlObject, events: SessionEvent[]): void {
    this.salt = value.server_salt as bigint;
    events.push({ type: "new_session", firstMessageId: value.first_msg_id as bigint });
  }

  /** https://core.telegram.org/mtproto/service_messages_about_messages#extended-voluntary-communication-of-status-of-one-message */
  #onMsgDetailedInfo(value: TlObject): void {
    const isOurs = (id: bigint) => this.#requests.sentAs(id) !== undefined;
    const action = detailedInfoAction(value, isOurs, this.#received);
    if (action && "ack" in action) this.#outgoing.ack(action.ack);
    else if (action) this.#reply(msgResendReq([action.resend_req]));
  }

  /** https://core.telegram.org/mtproto/service_messages_about_messages#explicit-request-to-re-send-messages */
  #onMsgResendReq(value: TlObject): void {
    for (const id of value.msg_ids as bigint[]) {
      const pending = this.#requests.sentAs(id);
      if (pending) this.#requests.requeue(pending);
    }
  }

  /** A message the server never got is sent again under a new msg_id, if it is ours. */
  #resendIfOurs(id: bigint): void {
    if (this.#requests.sentAs(id)) this.#requests.resendWithNewId(id);
  }

  /**
   * An answer: its request is resolved with the body, gzip undone. An answer that cannot be
   * unpacked (a gzip bomb, broken data) fails its request at once rather than leaving it to time
   * out. https://core.telegram.org/mtproto/service_messages#response-to-an-rpc-query
   */
  #onRpcResult(body: Uint8Array, events: SessionEvent[]): void {
    const { requestMessageId, result } = readRpcResult(body);
    let unpacked;
    try {
      unpacked = this.#inflate.inflate(result, this.ids.now());
    } catch (error) {
      const pending = this.#requests.unanswered(requestMessageId);
      if (!pending) return;
      this.#requests.forget(pending);
      this.#saltsAnswered(pending, new Uint8Array(0));
      const reason = `the answer could not be unpacked: ${(error as Error).message}`;
      if (!pending.internal) {
        events.push({ type: "failed", requestId: pending.requestId, code: 0, reason });
      }
      return;
    }
    this.#resolve(requestMessageId, unpacked, events);
  }

  #resolve(requestMessageId: bigint, body: Uint8Array, events: SessionEvent[]): void {
    // Nothing when answered already, or cancelled.
    this.#answerIf(this.#requests.unanswered(requestMessageId), body, events);
  }

  #answerIf(pending: Pending | undefined, body: Uint8Array, events: SessionEvent[]): void {
    if (!pending) return;
    this.#requests.forget(pending);
    this.#saltsAnswered(pending, body);
    if (!pending.internal) events.push({ type: "result", requestId: pending.requestId, body });
  }

  /** A refused get_future_salts is asked again later, not on the very next flush. */
  #saltsAnswered(pending: Pending, body: Uint8Array): void {
    if (!this.#salts.isRequest(pending.requestId)) return;
    this.#salts.answered(peekConstructorId(body) === FUTURE_SALTS_ID, this.ids.now());
  }

  /** https://core.telegram.org/mtproto/service_messages_about_messages#notice-of-ignored-error-message */
  #onBadMsgNotification(value: TlObject, messageId: bigint, events: SessionEvent[]): void {
    const code = value.error_code as number;
    const badId = value.bad_msg_id as bigint;
    switch (badMsgAction(code)) {
      case "synchronize":
        this.ids.synchronizeToMessageId(messageId);
        return this.#requests.resendWithNewId(badId);
      case "new_session":
        return this.renewSession();
      case "resend":
        return this.#requests.resendWithNewId(badId);
    }
    for (const pending of this.#requests.sentIn(badId)) {
      if (pending.internal) continue;
      this.#requests.forget(pending);
      events.push({
        type: "failed",
        requestId: pending.requestId,
        code,
        reason: badMsgReason(code),
      });
    }
  }
}
