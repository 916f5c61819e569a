/**
 * One client connection to an emulated DC: the server side of the transport, the key exchange and
 * MTProto sessions, from the same lib pieces the client uses. It is fed received bytes and writes
 * replies through a callback; sessions outlive connections, so a client that reconnects keeps its
 * session, and a request resent under the same msg_id is answered from the cache, not run twice.
 *
 * @module
 */

import { RpcError, SecurityError, TransportError } from "../errors.ts";
import { randomLong, type RandomSource } from "../crypto/random.ts";
import type { RsaPrivateKey } from "../crypto/rsa.ts";
import { GZIP_PACKED_ID, isTlObject, type TlCodec, type TlObject } from "../tl/codec.ts";
import { decryptMessage, encryptMessage } from "../mtproto/encrypted_message.ts";
import { type Clock, MessageIdGenerator } from "../mtproto/message_id.ts";
import { isPlainMessage, packPlainMessage, unpackPlainMessage } from "../mtproto/plain_message.ts";
import { MSG_CONTAINER_ID, packContainer, unpackContainer } from "../mtproto/container.ts";
import { packGzip, unpackGzip } from "../mtproto/gzip_packed.ts";
import { peekConstructorId } from "../mtproto/peek.ts";
import { packRpcResult } from "../mtproto/rpc_result.ts";
import { innermostCall, INVOKE_WRAPPERS } from "../mtproto/invoke_wrappers.ts";
import { ServerTransport } from "../transport/transport.ts";
import { AuthKeyServer } from "./auth_key_server.ts";
import type { KeyEntry, KeyStore } from "./key_store.ts";
import type { AppInfo } from "./authorizations.ts";

/** What an API method handler sees besides the call. */
export interface CallContext {
  /** The account's key: the permanent key a bound temporary key acts for, else the key itself. */
  key: KeyEntry;
  /** The key the call came under (a temporary one, with PFS). */
  messageKey: KeyEntry;
  /** The msg_id of the call (auth.bindTempAuthKey's inner message repeats it). */
  messageId: bigint;
  session: ServerSession;
  dc: DcContext;
  /** The api layer from `invokeWithLayer`, when the client sent one. */
  layer?: number;
}

/** Faults a DC can inject to exercise clients. */
export interface DcFaults {
  /** Close the connection after every this many messages received (container contents count). */
  dropEvery?: number;
  /** Answer this method only after `ms` milliseconds (the answer is still cached at once). */
  slow?: { method: string; ms: number };
  /** For tests of hostile servers: the body to answer `method` with instead of its result. */
  answerWith?: (method: string) => Uint8Array | undefined;
  /** Send every encrypted payload a second time, as an attacker replaying traffic would. */
  replay?: boolean;
}

/** Everything one emulated DC shares between its connections. */
export interface DcContext {
  dcId: number;
  codec: TlCodec;
  keys: KeyStore;
  rsaKey: RsaPrivateKey;
  random: RandomSource;
  /** The DC's clock in milliseconds (skewed on purpose, sometimes). */
  clock: Clock;
  sessions: Map<string, ServerSession>;
  faults: DcFaults;
  /** Counters tests and logs read. */
  stats: { gzippedResults: number; badServerSalts: number };
  /** Answers one API call (wrappers already removed); throws {@link RpcError} to refuse it. */
  call(request: TlObject, context: CallContext): unknown;
  log(line: string): void;
}

const ANSWER_CACHE = 2048;
let connectionCount = 0;
const GZIP_ABOVE = 4096;

/** An MTProto session on the server: ids, seqnos, and the answers kept for resends. */
export class ServerSession {
  readonly ids: MessageIdGenerator;
  contentCount = 0;
  connection?: ServerConnection;
  /** Answers by request msg_id: a request resent under the same id gets the same answer. */
  readonly answers = new Map<bigint, Uint8Array>();
  /** Content messages sent, by their own msg_id, for a client's msg_resend_req. */
  readonly sent = new Map<bigint, Uint8Array>();
  layer?: number;
  /** What the client said about itself in initConnection, for account.getAuthorizations. */
  app?: AppInfo;
  /**
   * Whether updates are pushed here: as on Telegram, once the session makes a call that is not
   * wrapped in `invokeWithoutUpdates` (clients wrap the calls of their download and upload
   * connections so).
   */
  wantsUpdates = false;

  /** Creates a session the client opened with `firstMessageId`. */
  constructor(
    readonly sessionId: bigint,
    readonly key: KeyEntry,
    readonly firstMessageId: bigint,
    clock: Clock,
  ) {
    this.ids = new MessageIdGenerator(clock, "server");
  }

  /** The next seqno: odd for content-related messages. */
  nextSeqNo(contentRelated: boolean): number {
    return contentRelated ? 2 * this.contentCount++ + 1 : 2 * this.contentCount;
  }

  remember(requestId: bigint, answer: Uint8Array): void {
    this.answers.set(requestId, answer);
    if (this.answers.size > ANSWER_CACHE) this.answers.delete(this.answers.keys().next().value!);
  }

  /** Keeps a content message by the msg_id it went out under. */
  rememberSent(messageId: bigint, body: Uint8Array): void {
    this.sent.set(messageId, body);
    if (this.sent.size > ANSWER_CACHE) this.sent.delete(this.sent.keys().next().value!);
  }

  /** Sends an unsolicited message (an update) if the session has a live connection. */
  push(body: Uint8Array): boolean {
    if (!this.connection || this.connection.closed) return false;
    this.connection.sendToSession(this, [{ body, contentRelated: true, response: false }]);
    return true;
  }
}

interface OutgoingBody {
  body: Uint8Array;
  contentRelated: boolean;
  /** Answers get msg_ids ≡ 1 mod 4, other server messages ≡ 3 mod 4. */
  response: boolean;
}

/** The server side of one TCP connection. */
export class ServerConnection {
  readonly transport: ServerTransport;
  readonly #handshake: AuthKeyServer;
  #received = 0;
  #dropDue = false;
  /** Content messages of the payload being handled, acknowledged together in one msgs_ack. */
  #acks: bigint[] = [];
  /** Armed by ping_delay_disconnect: closes the connection if the client goes silent. */
  #silenceTimer?: ReturnType<typeof setTimeout>;
  closed = false;
  /** A number for logs, unique in the process. */
  readonly id = ++connectionCount;
  readonly #handshakeIds: MessageIdGenerator;
  /** The previous encrypted payload, sent again under the `replay` fault. */
  #lastPayload?: Uint8Array;

  /** `write` sends bytes on the socket; `close` ends it. */
  constructor(
    private readonly dc: DcContext,
    private readonly write: (bytes: Uint8Array) => void,
    private readonly onClose: () => void,
  ) {
    this.transport = new ServerTransport(dc.random);
    this.#handshakeIds = new MessageIdGenerator(dc.clock, "server");
    this.#handshake = new AuthKeyServer(
      dc.codec,
      dc.rsaKey,
      dc.random,
      () => dc.clock() / 1000,
      (created) =>
        dc.keys.register(created.authKey, created.serverSalt, dc.clock() / 1000, created.expiresIn),
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
      } catch (error) {
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
    clearTimeout(this.#silenceTimer);
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
    const key = this.dc.keys.find(payload.subarray(0, 8), this.dc.clock() / 1000);
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
    const message = decryptMessage(key.authKey, payload, "client");
    const now = this.dc.clock() / 1000;
    const sessionKey = `${key.authKey.id.toHex()}:${message.sessionId}`;
    let session = this.dc.sessions.get(sessionKey);
    const out: OutgoingBody[] = [];
    if (!session) {
      session = new ServerSession(message.sessionId, key, message.messageId, this.dc.clock);
      this.dc.sessions.set(sessionKey, session);
      out.push(this.#service({
        _cons: "new_session_created",
        first_msg_id: message.messageId,
        unique_id: randomLong(this.dc.random),
        server_salt: this.dc.keys.currentSalt(now),
      }));
    }
    session.connection = this;
    const refusal = this.#checkMessage(message.messageId, message.seqNo, now);
    if (refusal !== undefined) {
      out.push(this.#badMessage(message.messageId, message.seqNo, refusal));
    } else if (!this.dc.keys.acceptsSalt(message.salt, now, key)) {
      this.dc.stats.badServerSalts++;
      out.push(this.#service({
        _cons: "bad_server_salt",
        bad_msg_id: message.messageId,
        bad_msg_seqno: message.seqNo,
        error_code: 48,
        new_server_salt: this.dc.keys.currentSalt(now),
      }));
    } else {
      this.#handle(session, message.messageId, message.seqNo, message.body, out, now);
    }
    if (this.#acks.length) {
      out.push({
        body: this.dc.codec.encode({ _cons: "msgs_ack", msg_ids: this.#acks.splice(0) }),
        contentRelated: false,
        response: false,
      });
    }
    this.sendToSession(session, out);
    if (this.#dropDue) {
      this.#dropDue = false;
      this.dc.log(`dc${this.dc.dcId}: dropping the connection (fault injection)`);
      this.close();
    }
  }

  /** Returns a bad_msg_notification code for an unacceptable msg_id, or undefined. */
  #checkMessage(messageId: bigint, _seqNo: number, now: number): number | undefined {
    if (messageId % 4n !== 0n) return 18;
    const seconds = Number(messageId >> 32n);
    if (seconds < now - 300) return 16;
    if (seconds > now + 30) return 17;
    return undefined;
  }

  #badMessage(messageId: bigint, seqNo: number, code: number): OutgoingBody {
    return this.#service({
      _cons: "bad_msg_notification",
      bad_msg_id: messageId,
      bad_msg_seqno: seqNo,
      error_code: code,
    });
  }

  #service(value: TlObject, response = false): OutgoingBody {
    return { body: this.dc.codec.encode(value), contentRelated: true, response };
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
      for (const inner of unpackContainer(body)) {
        const refusal = this.#checkMessage(inner.messageId, inner.seqNo, now);
        if (refusal !== undefined) {
          out.push(this.#badMessage(inner.messageId, inner.seqNo, refusal));
        } else this.#handle(session, inner.messageId, inner.seqNo, inner.body, out, now);
      }
      return;
    }
    if (id === GZIP_PACKED_ID) body = unpackGzip(body);
    const dropEvery = this.dc.faults.dropEvery;
    if (dropEvery && ++this.#received % dropEvery === 0) this.#dropDue = true;
    if (seqNo & 1) this.#acks.push(messageId);
    let request: TlObject;
    try {
      request = this.dc.codec.decode(body);
    } catch (error) {
      out.push(this.#rpcError(messageId, 400, "INPUT_METHOD_INVALID"));
      this.dc.log(`dc${this.dc.dcId}: undecodable request: ${(error as Error).message}`);
      return;
    }
    const service = this.#serviceMessage(session, request, messageId, now);
    if (service !== undefined) {
      out.push(...service);
      return;
    }
    const cached = session.answers.get(messageId);
    if (cached) {
      out.push({ body: cached, contentRelated: true, response: true });
      return;
    }
    const forged = this.dc.faults.answerWith?.(innermostCall(request)._cons);
    const answer = this.#rpcResult(messageId, forged ?? this.#call(session, request, messageId));
    session.remember(messageId, answer);
    const slow = this.dc.faults.slow;
    if (slow && innermostCall(request)._cons === slow.method) {
      const timer = setTimeout(() => {
        if (!this.closed) {
          this.sendToSession(session, [{ body: answer, contentRelated: true, response: true }]);
        }
      }, slow.ms);
      Deno.unrefTimer(timer);
      return;
    }
    out.push({ body: answer, contentRelated: true, response: true });
  }

  /**
   * Answers MTProto's own messages; undefined for anything else (an API call). Each has a handler
   * named after it, as in the docs: https://core.telegram.org/mtproto/service_messages
   */
  #serviceMessage(
    session: ServerSession,
    request: TlObject,
    messageId: bigint,
    now: number,
  ): OutgoingBody[] | undefined {
    switch (request._cons) {
      case "msgs_ack":
      case "http_wait":
      case "msgs_state_info":
        return [];
      case "ping":
        return [this.#onPing(request, messageId)];
      case "ping_delay_disconnect":
        return [this.#onPingDelayDisconnect(request, messageId)];
      case "get_future_salts":
        return [this.#onGetFutureSalts(request, messageId, now)];
      case "msgs_state_req":
        return [this.#onMsgsStateReq(session, request, messageId)];
      case "msg_resend_req":
        return this.#onMsgResendReq(session, request);
      case "destroy_session":
        return [this.#onDestroySession(session, request)];
      case "rpc_drop_answer":
        return [this.#onRpcDropAnswer(messageId)];
    }
    return undefined;
  }

  #onPing(request: TlObject, messageId: bigint): OutgoingBody {
    return this.#service({ _cons: "pong", msg_id: messageId, ping_id: request.ping_id }, true);
  }

  /** Closes the connection unless another ping comes within the delay, as Telegram does. */
  #onPingDelayDisconnect(request: TlObject, messageId: bigint): OutgoingBody {
    clearTimeout(this.#silenceTimer);
    const delay = Math.max(1, request.disconnect_delay as number) * 1000;
    this.#silenceTimer = setTimeout(() => {
      this.dc.log(`dc${this.dc.dcId}: no ping within ${delay / 1000} s, disconnecting`);
      this.close();
    }, delay);
    Deno.unrefTimer(this.#silenceTimer);
    return this.#onPing(request, messageId);
  }

  /** https://core.telegram.org/mtproto/service_messages#request-for-several-future-salts */
  #onGetFutureSalts(request: TlObject, messageId: bigint, now: number): OutgoingBody {
    const salts = this.dc.keys.salts(now, Math.min(64, Math.max(1, request.num as number)));
    return this.#service({
      _cons: "future_salts",
      req_msg_id: messageId,
      now: Math.floor(now),
      salts: salts.map((period) => ({
        _cons: "future_salt",
        valid_since: period.validSince,
        valid_until: period.validUntil,
        salt: period.salt,
      })),
    }, true);
  }

  /** 4: received, answer kept; 1: nothing known (all the emulator remembers is its answers). */
  #onMsgsStateReq(session: ServerSession, request: TlObject, messageId: bigint): OutgoingBody {
    const ids = request.msg_ids as bigint[];
    const info = Uint8Array.from(ids, (id) => (session.answers.has(id) ? 4 : 1));
    return this.#service({ _cons: "msgs_state_info", req_msg_id: messageId, info }, true);
  }

  /** The ids are of messages this side sent (answers, updates) that the client never got. */
  #onMsgResendReq(session: ServerSession, request: TlObject): OutgoingBody[] {
    const out: OutgoingBody[] = [];
    for (const id of request.msg_ids as bigint[]) {
      const body = session.sent.get(id);
      if (body) out.push({ body, contentRelated: true, response: (id & 3n) === 1n });
    }
    return out;
  }

  /** https://core.telegram.org/mtproto/service_messages#request-to-destroy-session */
  #onDestroySession(session: ServerSession, request: TlObject): OutgoingBody {
    const target = `${session.key.authKey.id.toHex()}:${request.session_id}`;
    const existed = this.dc.sessions.delete(target);
    return this.#service({
      _cons: existed ? "destroy_session_ok" : "destroy_session_none",
      session_id: request.session_id,
    }, true);
  }

  /** Answers are computed at once here, so there is never one to drop. */
  #onRpcDropAnswer(messageId: bigint): OutgoingBody {
    return {
      body: this.#rpcResult(messageId, this.dc.codec.encode({ _cons: "rpc_answer_unknown" })),
      contentRelated: true,
      response: true,
    };
  }

  #call(session: ServerSession, request: TlObject, messageId: bigint): Uint8Array {
    let call = request;
    const context: CallContext = {
      key: session.key.boundTo ?? session.key,
      messageKey: session.key,
      messageId,
      session,
      dc: this.dc,
    };
    let withoutUpdates = false;
    while (INVOKE_WRAPPERS.has(call._cons)) {
      if (call._cons === "invokeWithoutUpdates") withoutUpdates = true;
      if (call._cons === "invokeWithLayer") {
        const layer = call.layer as number;
        const served = this.dc.codec.schema.layer;
        if (session.layer !== layer && served !== undefined && layer !== served) {
          this.dc.log(
            `dc${this.dc.dcId}: the client declares layer ${layer}, the emulator serves layer ` +
              `${served}; objects whose ids changed between the two will not decode on the ` +
              `client (start the emulator with --scheme and that layer's api.tl)`,
          );
        }
        session.layer = context.layer = layer;
      }
      if (call._cons === "initConnection") {
        session.app = {
          apiId: Number(call.api_id),
          deviceModel: String(call.device_model ?? ""),
          systemVersion: String(call.system_version ?? ""),
          appVersion: String(call.app_version ?? ""),
        };
      }
      const inner = call.query;
      if (!isTlObject(inner)) return this.#errorBody(400, "INPUT_REQUEST_INVALID");
      call = inner;
    }
    if (!withoutUpdates) session.wantsUpdates = true;
    const combinator = this.dc.codec.combinator(call._cons);
    if (!combinator || combinator.kind !== "function") {
      return this.#errorBody(400, "INPUT_METHOD_INVALID");
    }
    try {
      const value = this.dc.call(call, context);
      return this.dc.codec.encodeType(combinator.resultText, value);
    } catch (error) {
      if (error instanceof RpcError) return this.#errorBody(error.code, error.errorMessage);
      this.dc.log(`dc${this.dc.dcId}: ${call._cons} failed: ${(error as Error).stack ?? error}`);
      return this.#errorBody(500, "INTERNAL_SERVER_ERROR");
    }
  }

  #errorBody(code: number, message: string): Uint8Array {
    return this.dc.codec.encode({ _cons: "rpc_error", error_code: code, error_message: message });
  }

  #rpcError(requestId: bigint, code: number, message: string): OutgoingBody {
    return {
      body: this.#rpcResult(requestId, this.#errorBody(code, message)),
      contentRelated: true,
      response: true,
    };
  }

  #rpcResult(requestId: bigint, result: Uint8Array): Uint8Array {
    // Large results travel compressed, as Telegram sends them, when that is smaller.
    const packed = packGzip(result, GZIP_ABOVE);
    if (packed !== result) this.dc.stats.gzippedResults++;
    return packRpcResult(requestId, packed);
  }

  /** Encrypts messages for a session (in a container when several) and writes them. */
  sendToSession(session: ServerSession, bodies: OutgoingBody[]): void {
    if (bodies.length === 0 || this.closed) return;
    const salt = this.dc.keys.currentSalt(this.dc.clock() / 1000);
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
      body: packContainer(messages),
    };
    const payload = encryptMessage(
      session.key.authKey,
      { salt, sessionId: session.sessionId, messageId: header.messageId, seqNo: header.seqNo },
      header.body,
      "server",
      this.dc.random,
    );
    this.write(this.transport.pack(payload));
    if (this.dc.faults.replay) {
      if (this.#lastPayload) this.write(this.transport.pack(this.#lastPayload));
      this.#lastPayload = payload;
    }
  }
}
