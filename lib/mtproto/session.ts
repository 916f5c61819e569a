/**
 * The client side of an MTProto session as a state machine: requests go in with `send`, bytes to
 * write come out of `flush`, received payloads go into `receive`, which returns events. It owns
 * msg_ids, seqnos, salts, acks, containers, compression, and the service messages of the
 * protocol (bad_server_salt, bad_msg_notification, new_session_created, msg_detailed_info,
 * msgs_state_req, msg_resend_req...). It owns no socket and no timer: the sender drives it.
 *
 * Requests are tracked by a local id, since a request's msg_id changes when it must be resent
 * with a new one; every id it was ever sent under still finds it, and it is answered once.
 *
 * @module
 */

import { SecurityError } from "../errors.ts";
import { randomLong, type RandomSource } from "../crypto/random.ts";
import { GZIP_PACKED_ID, MAX_INFLATED, type TlCodec, type TlObject } from "../tl/codec.ts";
import { MSG_CONTAINER_ID, packContainer, unpackContainer } from "./container.ts";
import { type AuthKey, decryptMessage, encryptMessage } from "./encrypted_message.ts";
import { packGzip, unpackGzip } from "./gzip_packed.ts";
import { type Clock, MessageIdGenerator } from "./message_id.ts";
import { peekConstructorId } from "./peek.ts";
import { readRpcResult, RPC_RESULT_ID } from "./rpc_result.ts";

/** Something the session has to tell its owner. */
export type SessionEvent =
  /** The answer to a request: the rpc_result's body (gzip already undone), or a pong/future_salts. */
  | { type: "result"; requestId: number; body: Uint8Array }
  /**
   * A request the server refused at the protocol level (a bad_msg_notification it cannot fix:
   * `code` is its error code), or whose answer could not be unpacked (`code` 0).
   */
  | { type: "failed"; requestId: number; code: number; reason: string }
  /** Anything the server sent that is not an answer: updates, mostly. */
  | { type: "update"; body: Uint8Array; messageId: bigint }
  /** The server started a new session for us: updates in between may have been lost. */
  | { type: "new_session"; firstMessageId: bigint }
  /** A received message that failed a check and was dropped. */
  | { type: "dropped"; reason: string };

/** What a session starts from. */
export interface SessionOptions {
  /** A codec in native mode (bigint longs, Uint8Array bytes) with the MTProto schema. */
  codec: TlCodec;
  authKey: AuthKey;
  salt: bigint;
  random: RandomSource;
  clock: Clock;
  /** Server time minus local time in seconds, when known (from the key exchange). */
  timeOffset?: number;
  /** Resume this session id; a fresh random one otherwise. */
  sessionId?: bigint;
}

interface Pending {
  requestId: number;
  body: Uint8Array;
  /** Every msg_id the request was sent under, newest last. */
  messageIds: bigint[];
  seqNo: number;
  /** True while the request waits in the outgoing queue. */
  queued: boolean;
  internal: boolean;
  /** For a body that names its own msg_id: builds it for the id it goes out under. */
  build?: (messageId: bigint) => Uint8Array;
}

interface Outgoing {
  messageId: bigint;
  seqNo: number;
  body: Uint8Array;
}

const FUTURE_SALTS_ID = 0xae500895;
const DESTROY_SESSION_ID = 0xe7512126;
const DESTROY_AUTH_KEY_ID = 0xd1435160;
/** After a refused get_future_salts, wait this long (doubling to an hour) before asking again. */
const SALTS_RETRY_SECONDS = 60;
const MAX_CONTAINER_MESSAGES = 1020;
const MAX_CONTAINER_BYTES = 1 << 20;
const COMPRESS_ABOVE = 512;
const REPLAY_WINDOW = 4096;
/**
 * Bytes all gzip_packed of one session may inflate to per window: one message may take the whole
 * per-message budget, but a server sending bomb after bomb is cut off instead of eating the CPU.
 */
export const INFLATE_PER_WINDOW = 16 * MAX_INFLATED;
const INFLATE_WINDOW_SECONDS = 10;

/** The client side of one MTProto session. */
export class ClientSession {
  readonly codec: TlCodec;
  readonly authKey: AuthKey;
  readonly ids: MessageIdGenerator;
  sessionId: bigint;
  salt: bigint;
  #futureSalts: { validSince: number; validUntil: number; salt: bigint }[] = [];
  #random: RandomSource;
  #contentCount = 0;
  #nextRequestId = 1;
  #pending = new Map<number, Pending>();
  #byMessageId = new Map<bigint, Pending>();
  /** Containers we sent: their msg_id → the msg_ids inside, to resend on a container's error. */
  #containers = new Map<bigint, bigint[]>();
  #queue: Pending[] = [];
  #acks: bigint[] = [];
  /** Messages that expect no answer we wait for: service replies, and rpc_drop_answer. */
  #extra: { body: Uint8Array; contentRelated: boolean }[] = [];
  /** The last REPLAY_WINDOW server msg_ids: a set to look up, a ring to know the oldest. */
  #seen = new Set<bigint>();
  #seenRing: bigint[] = []; // grows to the window, then wraps: an idle session stays small
  #seenNext = 0;
  /** The internal get_future_salts request in flight, if any. */
  #saltsRequest?: number;
  /** When get_future_salts may be asked again after a refusal (server seconds), and the wait. */
  #saltsRetryAt = 0;
  #saltsRetrySeconds = SALTS_RETRY_SECONDS;
  /**
   * destroy_session and destroy_auth_key are answered by bare objects, not rpc_result: these find
   * the request (by the session id it names; the auth key request is one at a time).
   */
  #destroySessionRequests = new Map<bigint, Pending>();
  #destroyAuthKeyRequest?: Pending;
  /** Inflated bytes in the current window, and when the window started (server seconds). */
  #inflated = 0;
  #inflateWindowStart = 0;

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
    let count = 0;
    for (const pending of this.#pending.values()) if (!pending.internal) count++;
    return count;
  }

  /** True when requests or service answers wait to be sent (acks alone do not count). */
  get hasRequests(): boolean {
    return this.#queue.length > 0 || this.#extra.length > 0 || this.#acks.length > 1000;
  }

  /** True when `flush` has something to send. */
  get hasOutgoing(): boolean {
    return this.#queue.length > 0 || this.#acks.length > 0 || this.#extra.length > 0;
  }

  /**
   * Queues a content-related request (a serialized function call); returns its local id. A
   * request whose body depends on its own msg_id (auth.bindTempAuthKey) is given as a function
   * of it, called each time the request goes out under a new msg_id.
   */
  send(request: Uint8Array | ((messageId: bigint) => Uint8Array)): number {
    if (typeof request === "function") {
      const requestId = this.#enqueue(new Uint8Array(0), false);
      this.#pending.get(requestId)!.build = request;
      return requestId;
    }
    const body = request;
    const requestId = this.#enqueue(body, false);
    const id = peekConstructorId(body);
    if (id === DESTROY_SESSION_ID && body.length >= 12) {
      const sessionId = new DataView(body.buffer, body.byteOffset, 12).getBigInt64(4, true);
      this.#destroySessionRequests.set(sessionId, this.#pending.get(requestId)!);
    } else if (id === DESTROY_AUTH_KEY_ID) {
      this.#destroyAuthKeyRequest = this.#pending.get(requestId)!;
    }
    return requestId;
  }

  /** True when the request went out at least once: the server may have run it. */
  wasSent(requestId: number): boolean {
    return (this.#pending.get(requestId)?.messageIds.length ?? 0) > 0;
  }

  #enqueue(body: Uint8Array, internal: boolean): number {
    const pending: Pending = {
      requestId: internal ? -this.#nextRequestId++ : this.#nextRequestId++,
      body,
      messageIds: [],
      seqNo: 0,
      queued: true,
      internal,
    };
    this.#pending.set(pending.requestId, pending);
    this.#queue.push(pending);
    return pending.requestId;
  }

  /**
   * Forgets a request (its caller gave up); a late answer to it is then dropped. A request that
   * went out is followed by `rpc_drop_answer`, so the server need not send (or compute) it.
   * https://core.telegram.org/mtproto/service_messages#cancellation-of-an-rpc-query
   */
  cancel(requestId: number): void {
    const pending = this.#pending.get(requestId);
    if (!pending) return;
    this.#forget(pending);
    const last = pending.messageIds.at(-1);
    if (last !== undefined) {
      // Sent once and not tracked: its answer is of no use, and a server that never gives one
      // must not leave an entry behind for every request that timed out.
      const body = this.codec.encode({ _cons: "rpc_drop_answer", req_msg_id: last });
      this.#extra.push({ body, contentRelated: true });
    }
  }

  /**
   * After a reconnect: queues every unanswered request again under its last msg_id, so that a
   * server which already ran it answers from its cache instead of running it twice.
   */
  resendPending(): void {
    for (const pending of this.#pending.values()) {
      if (pending.queued) continue;
      pending.queued = true;
      this.#queue.push(pending);
    }
  }

  /**
   * Takes over the unanswered requests of the session this one replaces (under a new temporary
   * key): they go out again here under new msg_ids, keeping their local ids.
   */
  adopt(previous: ClientSession): void {
    for (const pending of previous.#pending.values()) {
      if (pending.internal) continue;
      pending.messageIds = [];
      pending.queued = true;
      this.#pending.set(pending.requestId, pending);
      this.#queue.push(pending);
    }
    this.#nextRequestId = Math.max(this.#nextRequestId, previous.#nextRequestId);
  }

  /** Starts a new session id (the server will announce new_session_created). */
  renewSession(): void {
    this.sessionId = randomLong(this.#random);
    this.#contentCount = 0;
    this.#seen.clear();
    this.#seenRing = [];
    this.#seenNext = 0;
    for (const pending of this.#pending.values()) {
      pending.messageIds.length = 0;
      if (!pending.queued) {
        pending.queued = true;
        this.#queue.push(pending);
      }
    }
  }

  /**
   * Builds the next encrypted payload: queued requests, acks and service answers, in one
   * container when there is more than one. Returns undefined when there is nothing to send.
   */
  flush(): Uint8Array | undefined {
    this.#maybeAskForSalts();
    this.#rotateSalt();
    const messages: Outgoing[] = [];
    let size = 0;
    while (this.#queue.length && messages.length < MAX_CONTAINER_MESSAGES - 2) {
      const pending = this.#queue[0];
      const last = pending.messageIds.at(-1);
      // A request resent after a reconnect keeps its id while the server can still know it.
      const reuse = last !== undefined && this.ids.now() - Number(last >> 32n) < 240;
      const messageId = reuse ? last : this.ids.next();
      if (pending.build && !reuse) pending.body = pending.build(messageId);
      const body = packGzip(pending.body, COMPRESS_ABOVE);
      if (messages.length > 0 && size + body.length > MAX_CONTAINER_BYTES) break;
      this.#queue.shift();
      pending.queued = false;
      if (!reuse) {
        pending.messageIds.push(messageId);
        pending.seqNo = this.#nextSeqNo(true);
        this.#byMessageId.set(messageId, pending);
      }
      messages.push({ messageId, seqNo: pending.seqNo, body });
      size += body.length + 16;
    }
    for (const { body, contentRelated } of this.#extra.splice(0)) {
      messages.push({ messageId: this.ids.next(), seqNo: this.#nextSeqNo(contentRelated), body });
    }
    if (this.#acks.length) {
      const body = this.codec.encode({ _cons: "msgs_ack", msg_ids: this.#acks.splice(0, 8192) });
      messages.push({ messageId: this.ids.next(), seqNo: this.#nextSeqNo(false), body });
    }
    if (messages.length === 0) return undefined;
    if (messages.length === 1) return this.#encrypt(messages[0]);
    const containerId = this.ids.next();
    this.#containers.set(containerId, messages.map((message) => message.messageId));
    if (this.#containers.size > 4096) {
      this.#containers.delete(this.#containers.keys().next().value!);
    }
    return this.#encrypt({
      messageId: containerId,
      seqNo: this.#nextSeqNo(false),
      body: packContainer(messages),
    });
  }

  #encrypt(message: Outgoing): Uint8Array {
    return encryptMessage(
      this.authKey,
      {
        salt: this.salt,
        sessionId: this.sessionId,
        messageId: message.messageId,
        seqNo: message.seqNo,
      },
      message.body,
      "client",
      this.#random,
    );
  }

  #nextSeqNo(contentRelated: boolean): number {
    return contentRelated ? 2 * this.#contentCount++ + 1 : 2 * this.#contentCount;
  }

  #maybeAskForSalts(): void {
    // Ask ahead of expiry: when at most one known salt is left and no request is in flight, and
    // not again soon after the server refused.
    if (this.#saltsRequest !== undefined || this.#futureSalts.length > 1) return;
    if (this.ids.now() < this.#saltsRetryAt) return;
    this.#saltsRequest = this.#enqueue(
      this.codec.encode({ _cons: "get_future_salts", num: 32 }),
      true,
    );
  }

  #rotateSalt(): void {
    const now = this.ids.now();
    while (this.#futureSalts.length && this.#futureSalts[0].validUntil < now) {
      this.#futureSalts.shift();
    }
    const current = this.#futureSalts[0];
    if (current && current.validSince <= now && current.salt !== this.salt) {
      this.salt = current.salt;
    }
  }

  /** Decrypts and checks a received payload, returning what it means. Never throws. */
  receive(payload: Uint8Array): SessionEvent[] {
    let message;
    try {
      message = decryptMessage(this.authKey, payload, "server");
    } catch (error) {
      return [{ type: "dropped", reason: (error as Error).message }];
    }
    if (message.sessionId !== this.sessionId) {
      return [{ type: "dropped", reason: "message for another session" }];
    }
    // A clock far off makes every server message look out of the time window — including the
    // bad_msg_notification that says so. Such a notification (authenticated like any message)
    // corrects the clock first.
    if (this.#isClockCorrection(message.body)) this.ids.synchronizeToMessageId(message.messageId);
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

  #isClockCorrection(body: Uint8Array): boolean {
    const id = peekConstructorId(body);
    if (id === MSG_CONTAINER_ID) {
      try {
        return unpackContainer(body).some((inner) => this.#isClockCorrection(inner.body));
      } catch {
        return false;
      }
    }
    if (this.codec.schema.constructorsById.get(id)?.name !== "bad_msg_notification") return false;
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    if (body.length < 20) return false;
    // Only about a message we sent: an old notification replayed by someone on the path must
    // not move the clock.
    const badId = view.getBigInt64(4, true);
    if (!this.#byMessageId.has(badId) && !this.#containers.has(badId)) return false;
    const code = view.getInt32(16, true);
    return code === 16 || code === 17;
  }

  #checkMessageId(messageId: bigint): string | undefined {
    if ((messageId & 3n) !== 1n && (messageId & 3n) !== 3n) return "server msg_id is not odd";
    const seconds = Number(messageId >> 32n);
    const now = this.ids.now();
    if (seconds < now - 300 || seconds > now + 30) {
      return `server msg_id time ${seconds} is outside the window around ${Math.floor(now)}`;
    }
    if (this.#seen.has(messageId)) return "replayed msg_id";
    if (this.#seenRing.length === REPLAY_WINDOW && messageId < this.#seenRing[this.#seenNext]) {
      return "msg_id older than the replay window";
    }
    this.#seen.add(messageId);
    if (this.#seenRing.length < REPLAY_WINDOW) {
      this.#seenRing.push(messageId);
      return undefined;
    }
    this.#seen.delete(this.#seenRing[this.#seenNext]);
    this.#seenRing[this.#seenNext] = messageId;
    this.#seenNext = (this.#seenNext + 1) % REPLAY_WINDOW;
    return undefined;
  }

  /** Routes one received message (checked already) to the handler of its constructor. */
  #handle(messageId: bigint, seqNo: number, body: Uint8Array, events: SessionEvent[]): void {
    if (seqNo & 1) this.#acks.push(messageId);
    const id = peekConstructorId(body);
    if (id === MSG_CONTAINER_ID) return this.#onContainer(body, events);
    if (id === RPC_RESULT_ID) return this.#onRpcResult(body, events);
    if (id === GZIP_PACKED_ID) {
      return this.#handle(messageId, seqNo & ~1, this.#inflate(body), events);
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
        return this.#onMsgsStateReq(value(), messageId);
      case "msg_resend_req":
        return this.#onMsgResendReq(value());
      case "msgs_all_info":
      case "msgs_state_info":
        return this.#onMsgsInfo(value());
      case "destroy_session_ok":
      case "destroy_session_none":
        return this.#onDestroySession(value(), body, events);
      case "destroy_auth_key_ok":
      case "destroy_auth_key_none":
      case "destroy_auth_key_fail":
        return this.#onDestroyAuthKey(body, events);
      case "rpc_answer_unknown":
      case "rpc_answer_dropped_running":
      case "rpc_answer_dropped":
      case "http_wait":
        return; // answers to rpc_drop_answer travel in rpc_result; bare ones need nothing
    }
    events.push({ type: "update", body, messageId });
  }

  /** Undoes gzip_packed within what is left of this window's inflate allowance. */
  #inflate(body: Uint8Array): Uint8Array {
    if (peekConstructorId(body) !== GZIP_PACKED_ID) return body;
    const now = this.ids.now();
    if (now - this.#inflateWindowStart >= INFLATE_WINDOW_SECONDS) {
      this.#inflateWindowStart = now;
      this.#inflated = 0;
    }
    const left = INFLATE_PER_WINDOW - this.#inflated;
    if (left <= 0) {
      throw new SecurityError(
        `this connection inflated ${INFLATE_PER_WINDOW} bytes in ${INFLATE_WINDOW_SECONDS} s; ` +
          `no more for now`,
      );
    }
    const inflated = unpackGzip(body, Math.min(MAX_INFLATED, left));
    this.#inflated += inflated.length;
    return inflated;
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
    const salts = (value.salts as TlObject[]).map((salt) => ({
      validSince: salt.valid_since as number,
      validUntil: salt.valid_until as number,
      salt: salt.salt as bigint,
    }));
    salts.sort((a, b) => a.validSince - b.validSince);
    this.#futureSalts = salts;
    this.#resolve(value.req_msg_id as bigint, body, events);
  }

  /** https://core.telegram.org/mtproto/service_messages_about_messages#notice-of-ignored-error-message */
  #onBadServerSalt(value: TlObject): void {
    this.salt = value.new_server_salt as bigint;
    this.#futureSalts = [];
    this.#resendWithNewId(value.bad_msg_id as bigint);
  }

  /** https://core.telegram.org/mtproto/service_messages#new-session-creation-notification */
  #onNewSessionCreated(value: TlObject, events: SessionEvent[]): void {
    this.salt = value.server_salt as bigint;
    events.push({ type: "new_session", firstMessageId: value.first_msg_id as bigint });
  }

  /**
   * The answer exists on the server; ask for it unless we already have it.
   * https://core.telegram.org/mtproto/service_messages_about_messages#extended-voluntary-communication-of-status-of-one-message
   */
  #onMsgDetailedInfo(value: TlObject): void {
    const answerId = value.answer_msg_id as bigint;
    const original = value.msg_id as bigint | undefined;
    if (original !== undefined && !this.#byMessageId.has(original)) return;
    if (this.#seen.has(answerId)) this.#acks.push(answerId);
    else {
      const body = this.codec.encode({ _cons: "msg_resend_req", msg_ids: [answerId] });
      this.#extra.push({ body, contentRelated: false });
    }
  }

  /**
   * 1 = nothing known, 4 = received; all the session keeps is its replay window.
   * https://core.telegram.org/mtproto/service_messages_about_messages#request-for-message-status-information
   */
  #onMsgsStateReq(value: TlObject, messageId: bigint): void {
    const ids = value.msg_ids as bigint[];
    const info = Uint8Array.from(ids, (id) => (this.#seen.has(id) ? 4 : 1));
    const body = this.codec.encode({ _cons: "msgs_state_info", req_msg_id: messageId, info });
    this.#extra.push({ body, contentRelated: false });
  }

  /** https://core.telegram.org/mtproto/service_messages_about_messages#explicit-request-to-re-send-messages */
  #onMsgResendReq(value: TlObject): void {
    for (const id of value.msg_ids as bigint[]) {
      const pending = this.#byMessageId.get(id);
      if (pending && !pending.queued) {
        pending.queued = true;
        this.#queue.push(pending);
      }
    }
  }

  /**
   * The server's word on our messages: 1 (unknown), 2 (msg_id too low) and 3 (too high) mean it
   * never got them, so they are sent again under new ids.
   * https://core.telegram.org/mtproto/service_messages_about_messages#voluntary-communication-of-status-of-messages
   */
  #onMsgsInfo(value: TlObject): void {
    const ids = (value.msg_ids as bigint[] | undefined) ?? [];
    const info = value.info as Uint8Array;
    for (let i = 0; i < ids.length && i < info.length; i++) {
      const state = info[i] & 7;
      if (state >= 1 && state <= 3 && this.#byMessageId.has(ids[i])) this.#resendWithNewId(ids[i]);
    }
  }

  /**
   * Bare answers with no request id: the session they name finds the request.
   * https://core.telegram.org/mtproto/service_messages#request-to-destroy-session
   */
  #onDestroySession(value: TlObject, body: Uint8Array, events: SessionEvent[]): void {
    const pending = this.#destroySessionRequests.get(value.session_id as bigint);
    if (pending && this.#pending.has(pending.requestId)) this.#answer(pending, body, events);
  }

  /** https://core.telegram.org/mtproto/auth_key#destroying-the-auth-key */
  #onDestroyAuthKey(body: Uint8Array, events: SessionEvent[]): void {
    const pending = this.#destroyAuthKeyRequest;
    if (pending && this.#pending.has(pending.requestId)) this.#answer(pending, body, events);
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
      unpacked = this.#inflate(result);
    } catch (error) {
      const pending = this.#byMessageId.get(requestMessageId);
      if (!pending || !this.#pending.has(pending.requestId)) return;
      this.#forget(pending);
      if (pending.requestId === this.#saltsRequest) this.#saltsAnswered(new Uint8Array(0));
      const reason = `the answer could not be unpacked: ${(error as Error).message}`;
      if (!pending.internal) {
        events.push({ type: "failed", requestId: pending.requestId, code: 0, reason });
      }
      return;
    }
    this.#resolve(requestMessageId, unpacked, events);
  }

  #resolve(requestMessageId: bigint, body: Uint8Array, events: SessionEvent[]): void {
    const pending = this.#byMessageId.get(requestMessageId);
    if (!pending || !this.#pending.has(pending.requestId)) return; // answered already, or cancelled
    this.#answer(pending, body, events);
  }

  #answer(pending: Pending, body: Uint8Array, events: SessionEvent[]): void {
    this.#forget(pending);
    if (pending.requestId === this.#saltsRequest) this.#saltsAnswered(body);
    if (!pending.internal) events.push({ type: "result", requestId: pending.requestId, body });
  }

  /** A refused get_future_salts is asked again later, not on the very next flush. */
  #saltsAnswered(body: Uint8Array): void {
    this.#saltsRequest = undefined;
    if (peekConstructorId(body) === FUTURE_SALTS_ID) {
      this.#saltsRetrySeconds = SALTS_RETRY_SECONDS;
      return;
    }
    this.#saltsRetryAt = this.ids.now() + this.#saltsRetrySeconds;
    this.#saltsRetrySeconds = Math.min(3600, this.#saltsRetrySeconds * 2);
  }

  #forget(pending: Pending): void {
    this.#pending.delete(pending.requestId);
    for (const id of pending.messageIds) this.#byMessageId.delete(id);
    // Answered requests are rarely still queued (only when an answer beats a resend).
    if (pending.queued) this.#queue = this.#queue.filter((queued) => queued !== pending);
    if (this.#destroyAuthKeyRequest === pending) this.#destroyAuthKeyRequest = undefined;
    for (const [sessionId, known] of this.#destroySessionRequests) {
      if (known === pending) this.#destroySessionRequests.delete(sessionId);
    }
  }

  /** Queues again, under a new msg_id, the request (or the container's requests) sent as `id`. */
  #resendWithNewId(id: bigint): void {
    const ids = this.#containers.get(id) ?? [id];
    for (const inner of ids) {
      const pending = this.#byMessageId.get(inner);
      if (!pending) continue;
      // Drop the refused id so the next flush issues a fresh one.
      pending.messageIds = pending.messageIds.filter((known) => known !== inner);
      this.#byMessageId.delete(inner);
      if (!pending.queued) {
        pending.queued = true;
        this.#queue.push(pending);
      }
    }
  }

  /** https://core.telegram.org/mtproto/service_messages_about_messages#notice-of-ignored-error-message */
  #onBadMsgNotification(value: TlObject, messageId: bigint, events: SessionEvent[]): void {
    const code = value.error_code as number;
    const badId = value.bad_msg_id as bigint;
    switch (code) {
      case 16: // msg_id too low
      case 17: // msg_id too high: our clock is off; the notification's own id carries the time
        this.ids.synchronizeToMessageId(messageId);
        this.#resendWithNewId(badId);
        return;
      case 32: // seqno too low
      case 33: // seqno too high: start over in a fresh session
      case 34: // an even seqno on a content message
      case 35: // an odd seqno on a non-content message
        this.renewSession();
        return;
      case 48: // bad salt; bad_server_salt normally carries the new one
        this.#resendWithNewId(badId);
        return;
      case 20: // too old to be handled: send again
        this.#resendWithNewId(badId);
        return;
    }
    const reasons: Record<number, string> = {
      18: "msg_id is not divisible by 4",
      19: "a container msg_id repeats a previous one",
      64: "invalid container",
    };
    for (const inner of this.#containers.get(badId) ?? [badId]) {
      const pending = this.#byMessageId.get(inner);
      if (!pending || pending.internal) continue;
      this.#forget(pending);
      events.push({
        type: "failed",
        requestId: pending.requestId,
        code,
        reason: `bad_msg_notification ${code}: ${reasons[code] ?? "refused by the server"}`,
      });
    }
  }
}
