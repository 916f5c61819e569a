/**
 * Drives one MTProto connection to one DC: opens the socket, creates the auth key when there is
 * none, and then moves bytes between the socket and the sans-IO session. It batches outgoing
 * messages per tick, acks on a timer, pings to keep the connection alive, and on a dropped
 * connection reconnects with backoff and resends every unanswered request under its msg_id, so
 * each request gets exactly one outcome.
 *
 * Nothing waits for ever: connecting and the key exchange have a deadline, a request's timeout
 * runs from the moment it is submitted (whatever stage the connection is in), a ping that gets no
 * pong drops the connection, and every socket is closed on every failure path.
 *
 * @module
 */

import { Mtproto2jsonError, RpcError, SecurityError, TransportError } from "../errors.ts";
import type { RandomSource } from "../crypto/random.ts";
import type { RsaPublicKey } from "../crypto/rsa.ts";
import type { TlCodec } from "../tl/codec.ts";
import {
  finishExchange,
  requestDhParams,
  requestPq,
  setClientDhParams,
} from "../mtproto/auth_key_exchange.ts";
import { type AuthKey, makeAuthKey } from "../mtproto/encrypted_message.ts";
import { authKeyIdLong, bindTempAuthKeyCall } from "../mtproto/temp_key_binding.ts";
import { type Clock, MessageIdGenerator } from "../mtproto/message_id.ts";
import { packPlainMessage, unpackPlainMessage } from "../mtproto/plain_message.ts";
import { ClientSession, type SessionEvent } from "../mtproto/session.ts";
import { ClientTransport, type TransportOptions } from "../transport/transport.ts";
import { type ByteConnection, connectTcp } from "./tcp_connection.ts";
import { backoffMs, FLOOD_BACKOFF, RECONNECT_BACKOFF } from "./backoff.ts";
import { realTimers, type TimerId, type Timers } from "./timers.ts";

/** Where and how to connect. */
export interface SenderOptions {
  host: string;
  port: number;
  dcId: number;
  publicKeys: RsaPublicKey[];
  transport: TransportOptions;
  /** A codec in native mode with the MTProto schema. */
  codec: TlCodec;
  random: RandomSource;
  clock?: Clock;
  /** Resume with this key (and salt, session id); otherwise one is created on connect. */
  authKey?: Uint8Array;
  salt?: bigint;
  sessionId?: bigint;
  /** Opens the byte pipe; TCP by default. */
  connect?: (host: string, port: number) => Promise<ByteConnection>;
  /** Called with every update (body bytes) the server pushes. */
  onUpdate?: (body: Uint8Array) => void;
  /** Called when the server announces a new session (updates may have been missed). */
  onNewSession?: () => void;
  /** Called after a dropped connection is established again (updates may have been missed). */
  onReconnect?: () => void;
  /**
   * Called once when the server says it does not know the auth key (`-404`): the sender is then
   * closed, and its owner decides whether to create a new key.
   */
  onAuthKeyUnknown?: () => void;
  log?: (line: string) => void;
  /** Send a ping after this much idle time; 0 disables. */
  pingIntervalMs?: number;
  /** A ping with no pong within this time drops the connection (default 10 s). */
  pingTimeoutMs?: number;
  /** Deadline for opening the connection and creating the key (default 10 s). */
  connectTimeoutMs?: number;
  /** Timers for deadlines, backoff, acks and pings; the platform's by default. */
  timers?: Timers;
  /**
   * Perfect forward secrecy: messages go under a temporary key of this lifetime (seconds), bound
   * to the permanent key (`authKey`, or one created first) and renewed before it expires; the
   * permanent key itself never encrypts a message.
   */
  tempKeySeconds?: number;
}

/** Renew a temporary key when this share of its life is left (at least a minute, at most half). */
const TEMP_KEY_RENEW_SHARE = 0.1;

interface Waiter {
  resolve(body: Uint8Array): void;
  reject(error: Error): void;
}

/**
 * How far a connection has come, so that a failure or a missing answer can say which step it
 * was: the TCP connect, the key exchange, the binding of a temporary key (PFS), the first call on
 * the new connection, or (once the server has answered something on it) the call itself.
 */
export type ConnectStep =
  | "tcp_connect"
  | "key_exchange"
  | "temp_key_binding"
  | "first_call"
  | "answer";

/** A request that got no answer in time. */
export class RequestTimeoutError extends Mtproto2jsonError {
  override name = "RequestTimeoutError";
  /**
   * Creates the error; `maybeExecuted` is false when the request never left this process, and
   * `waitingFor` says which step got no answer (see {@link ConnectStep}) when it is known.
   */
  constructor(message: string, readonly maybeExecuted: boolean, readonly waitingFor?: string) {
    super(message);
  }
}

/**
 * The connection failed before it was ready: refused, unreachable, reset, a broken pipe, or closed
 * by the server during the key exchange. `step` says how far it had come; the message names the
 * address, the step and the system's reason.
 */
export class ConnectionFailedError extends Mtproto2jsonError {
  override name = "ConnectionFailed";
  /** Creates the error for a failure at `step`. */
  constructor(message: string, readonly step: ConnectStep = "tcp_connect") {
    super(message);
  }
}

/**
 * Opening the connection or creating the auth key took longer than its deadline; `step` is the
 * one that got no answer (the TCP connect, the key exchange or the binding of a temporary key).
 */
export class ConnectTimeoutError extends Mtproto2jsonError {
  override name = "ConnectTimeout";
  /** Creates the error for a deadline that passed at `step`. */
  constructor(message: string, readonly step: ConnectStep = "tcp_connect") {
    super(message);
  }
}

/**
 * Thrown to pending requests when the sender is closed; `maybeExecuted` is false when the request
 * never left this process (then it can be sent elsewhere without running twice).
 */
export class SenderClosedError extends Mtproto2jsonError {
  override name = "SenderClosedError";
  /** Creates the error; `maybeExecuted` says whether the request went out. */
  constructor(message: string, readonly maybeExecuted = false) {
    super(message);
  }
}

/** An answer arrived but could not be unpacked (e.g. it would inflate past the budget). */
export class BadAnswerError extends Mtproto2jsonError {
  override name = "BadAnswer";
}

/** The server does not know the auth key (`-404`): it was destroyed or the DC forgot it. */
export class AuthKeyUnknownError extends Mtproto2jsonError {
  override name = "AuthKeyUnknown";
}

/** One connection's worth of MTProto, with reconnection. */
export class Sender {
  readonly options: SenderOptions;
  session?: ClientSession;
  #connection?: ByteConnection;
  #transport?: ClientTransport;
  #waiters = new Map<number, Waiter>();
  #flushScheduled = false;
  #closed = false;
  #connecting?: Promise<void>;
  /** The connection being opened (before it carries requests), closed by `close`. */
  #opening?: ByteConnection;
  /** How far the current (or next) connection has come. */
  #step: ConnectStep = "tcp_connect";
  /** During the key exchange: the message waiting for its answer. */
  #exchangeMessage = "req_pq_multi";
  /** Requests sent under an earlier temporary key (PFS), whose new session forgot they went out. */
  readonly #sentEarlier = new Set<number>();
  readonly #timers: Timers;
  #ackTimer?: TimerId;
  #pingTimer?: TimerId;
  #reconnectTimer?: TimerId;
  /** Failed connection attempts in a row, for the backoff. */
  #failures = 0;
  /** After a `-429` (too many connections), no new connection before this time. */
  #notBefore = 0;
  /** With PFS: the permanent key, and when the temporary key in use expires (server time, s). */
  #permKey?: AuthKey;
  #tempExpiresAt = 0;
  #renewTimer?: TimerId;
  /** How many times the connection was re-established (for tests and logs). */
  reconnects = 0;

  /** Prepares a sender; nothing happens until `connect` or the first `invoke`. */
  constructor(options: SenderOptions) {
    this.options = options;
    this.#timers = options.timers ?? realTimers;
  }

  /** The account's key: the permanent one (with PFS the session runs under a temporary key). */
  get authKey(): Uint8Array | undefined {
    return this.options.tempKeySeconds ? this.#permKey?.key : this.session?.authKey.key;
  }

  /** Connects (creating the auth key if needed); resolves once requests can flow. */
  connect(): Promise<void> {
    this.#connecting ??= this.#open().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  /**
   * Sends a serialized function call and resolves with the body of its answer (an `rpc_error`
   * body included: the caller decodes it with the method's result type). `timeoutMs` counts from
   * now, connecting and the key exchange included; when it runs out the request is forgotten (a
   * late answer is dropped, and the server is asked not to send it) and the call rejects with
   * {@link RequestTimeoutError}.
   */
  async invoke(body: Uint8Array, timeoutMs?: number): Promise<Uint8Array> {
    if (this.#closed) throw new SenderClosedError("the connection is closed");
    const request: { id?: number; expired: boolean } = { expired: false };
    let timer: TimerId;
    const timeout = new Promise<never>((_, reject) => {
      if (timeoutMs === undefined) return;
      timer = this.#timers.setTimeout(() => {
        request.expired = true;
        const sent = request.id !== undefined && this.#wasSent(request.id);
        if (request.id !== undefined) this.cancel(request.id);
        this.#scheduleFlush();
        const waitingFor = this.waitingFor(sent);
        reject(
          new RequestTimeoutError(
            `no answer within ${timeoutMs / 1000} s: ${waitingFor}`,
            sent,
            waitingFor,
          ),
        );
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.#submit(body, request), timeout]);
    } finally {
      this.#timers.clearTimeout(timer);
    }
  }

  async #submit(body: Uint8Array, request: { id?: number; expired: boolean }) {
    if (!this.session || !this.#connection) {
      try {
        await this.connect();
      } catch (error) {
        // Closed while connecting: what failed is the connection we gave up, not this request.
        const ours = error instanceof ConnectionFailedError || error instanceof ConnectTimeoutError;
        if (this.#closed && ours) throw new SenderClosedError("the connection was closed");
        throw error;
      }
    }
    // The deadline may have passed while connecting: then the request is not sent at all.
    if (request.expired) return new Promise<never>(() => {});
    if (this.#closed) throw new SenderClosedError("the connection is closed");
    const requestId = this.session!.send(body);
    request.id = requestId;
    const answer = new Promise<Uint8Array>((resolve, reject) =>
      this.#waiters.set(requestId, { resolve, reject })
    );
    this.#scheduleFlush();
    return await answer;
  }

  /** Stops waiting for a request (after a client-side timeout); a late answer is dropped. */
  cancel(requestId: number): void {
    this.session?.cancel(requestId);
    this.#waiters.delete(requestId);
    this.#sentEarlier.delete(requestId);
  }

  /**
   * Closes for good; pending requests fail with `reason` ({@link SenderClosedError} by default,
   * then each says whether it went out). A connection still being opened is closed too.
   */
  close(reason: Error = new SenderClosedError("the connection was closed")): void {
    this.#closed = true;
    this.#timers.clearInterval(this.#ackTimer);
    this.#timers.clearInterval(this.#pingTimer);
    this.#timers.clearTimeout(this.#reconnectTimer);
    this.#timers.clearTimeout(this.#renewTimer);
    this.#opening?.close();
    this.#connection?.close();
    this.#connection = undefined;
    this.#failAll(reason);
  }

  /**
   * Which step the sender waits for, in words, for error messages: "the TCP connect to … got no
   * answer", "… accepted TCP but did not answer the key exchange (req_DH_params)", "… did not
   * answer the first call on a new connection", … `sent` says whether the request in question
   * went out (once it did, it is its answer that is missing).
   */
  waitingFor(sent = false): string {
    const { host, port, dcId } = this.options;
    const at = `${host}:${port} (DC ${dcId})`;
    switch (this.#step) {
      case "tcp_connect":
        return `the TCP connect to ${at} got no answer`;
      case "key_exchange":
        return `${at} accepted TCP but did not answer the key exchange (${this.#exchangeMessage})`;
      case "temp_key_binding":
        return `${at} did not answer the binding of a temporary key (auth.bindTempAuthKey)`;
      case "first_call":
        return `${at} is connected and has the key, but did not answer the first call`;
      case "answer":
        return sent ? `${at} did not answer this call` : `the call did not go out to ${at} in time`;
    }
  }

  /** True once closed: a closed sender is never used again. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Drops the socket without closing the sender: it reconnects (a test hook, and for network changes). */
  dropConnection(): void {
    this.#connection?.close();
  }

  async #open(): Promise<void> {
    // A request and the backoff timer may both ask to reconnect; one connection is enough.
    if (this.#connection || this.#closed) return;
    const wait = this.#notBefore - this.#timers.now();
    if (wait > 0) {
      this.#log(`the server said -429: waiting ${Math.round(wait)} ms before connecting`);
      await new Promise((resolve) => this.#timers.setTimeout(() => resolve(0), wait));
      if (this.#connection || this.#closed) return;
    }
    if (this.session) this.reconnects++;
    const { options } = this;
    const deadlineMs = options.connectTimeoutMs ?? 10_000;
    let connection: ByteConnection | undefined;
    let timedOut = false;
    let timer: TimerId;
    this.#step = "tcp_connect";
    const deadline = new Promise<never>((_, reject) => {
      timer = this.#timers.setTimeout(() => {
        timedOut = true;
        const step = this.#step;
        const waitingFor = this.waitingFor();
        connection?.close();
        reject(
          new ConnectTimeoutError(
            `no connection within ${deadlineMs / 1000} s: ${waitingFor}`,
            step,
          ),
        );
      }, deadlineMs);
    });
    try {
      await Promise.race([
        deadline,
        this.#establish((opened) => {
          connection = opened;
          this.#opening = opened;
          // Opened after the deadline or after close(): nobody will use it.
          if (timedOut || this.#closed) opened.close();
        }),
      ]);
    } catch (error) {
      connection?.close();
      this.#failures++;
      if (error instanceof TransportError && error.code === 429) this.#backOff();
      throw this.#named(error);
    } finally {
      this.#opening = undefined;
      this.#timers.clearTimeout(timer);
    }
  }

  /**
   * A failure while opening as one of the documented errors: a socket error (reset, broken pipe,
   * …) becomes {@link ConnectionFailedError} naming the address and the step it happened at.
   */
  #named(error: unknown): Error {
    if (error instanceof Mtproto2jsonError) return error;
    const { host, port, dcId } = this.options;
    const reason = error instanceof Error ? error.message : String(error);
    return new ConnectionFailedError(
      `the connection to ${host}:${port} (DC ${dcId}) failed ${this.#stepPhrase()}: ${reason}`,
      this.#step,
    );
  }

  /** Where a connection attempt is, as a phrase: "during the key exchange (req_DH_params)". */
  #stepPhrase(): string {
    switch (this.#step) {
      case "tcp_connect":
        return "at the TCP connect";
      case "key_exchange":
        return `during the key exchange (${this.#exchangeMessage})`;
      case "temp_key_binding":
        return "while binding a temporary key";
      default:
        return "before it was ready";
    }
  }

  /** The server closed the connection before it was ready. */
  #closedEarly(): ConnectionFailedError {
    const { host, port, dcId } = this.options;
    return new ConnectionFailedError(
      `${host}:${port} (DC ${dcId}) closed the connection ${this.#stepPhrase()}`,
      this.#step,
    );
  }

  /** Connects and, when there is no key yet, creates one; then starts reading. */
  async #establish(opened: (connection: ByteConnection) => void): Promise<void> {
    const { options } = this;
    const connect = options.connect ?? connectTcp;
    let connection: ByteConnection;
    try {
      connection = await connect(options.host, options.port);
    } catch (error) {
      if (error instanceof Mtproto2jsonError) throw error;
      throw new ConnectionFailedError(
        `cannot reach ${options.host}:${options.port} (DC ${options.dcId}) at the TCP connect: ${
          (error as Error).message
        }`,
      );
    }
    opened(connection);
    this.#step = "key_exchange";
    this.#exchangeMessage = "req_pq_multi";
    const transport = new ClientTransport(
      { ...options.transport, dcId: options.dcId },
      options.random,
    );
    const reader = connection.readable[Symbol.asyncIterator]();
    if (options.tempKeySeconds) {
      await this.#ensureBoundTempKey(connection, transport, reader, options.tempKeySeconds);
    } else if (!this.session) {
      if (options.authKey) {
        this.session = this.#newSession(options.authKey, options.salt ?? 0n, 0, options.sessionId);
      } else {
        const created = await this.#createKey(connection, transport, reader);
        this.session = this.#newSession(created.authKey, created.serverSalt, created.timeOffset);
      }
    }
    if (this.#closed) {
      connection.close();
      return;
    }
    this.#step = "first_call";
    this.#connection = connection;
    this.#transport = transport;
    this.#startTimers();
    this.#readLoop(connection, transport, reader);
    this.session!.resendPending();
    this.#scheduleFlush();
    if (this.reconnects > 0) this.options.onReconnect?.();
  }

  /**
   * PFS: makes sure the permanent key exists, and that a temporary key with time left is bound
   * to it; a new one is created and bound here, on this connection, before any request goes out
   * under it. Requests left unanswered under the previous temporary key move to the new session.
   */
  async #ensureBoundTempKey(
    connection: ByteConnection,
    transport: ClientTransport,
    reader: AsyncIterator<Uint8Array>,
    lifetime: number,
  ): Promise<void> {
    const { options } = this;
    this.#permKey ??= makeAuthKey(
      options.authKey ?? (await this.#createKey(connection, transport, reader)).authKey,
    );
    // A day's key is renewed 2.4 h before its end; a short-lived one (tests) half-way.
    const margin = Math.min(lifetime / 2, Math.max(60, lifetime * TEMP_KEY_RENEW_SHARE));
    if (this.session && this.session.ids.now() < this.#tempExpiresAt - margin) return;
    const created = await this.#createKey(connection, transport, reader, lifetime);
    const session = this.#newSession(created.authKey, created.serverSalt, created.timeOffset);
    const expiresAt = Math.floor(session.ids.now()) + lifetime;
    this.#step = "temp_key_binding";
    await this.#bind(session, this.#permKey, expiresAt, connection, transport, reader);
    if (this.session) {
      // The new session sends them afresh and forgets they went out before: remember it here,
      // so that a timeout still says they may have run.
      for (const requestId of this.#waiters.keys()) {
        if (this.session.wasSent(requestId)) this.#sentEarlier.add(requestId);
      }
      session.adopt(this.session);
    }
    this.session = session;
    this.#tempExpiresAt = expiresAt;
    this.#log(`temporary key bound until ${new Date(expiresAt * 1000).toISOString()}`);
    this.#timers.clearTimeout(this.#renewTimer);
    this.#renewTimer = this.#timers.setTimeout(() => {
      // Reconnecting renews it: #establish finds it near its end.
      this.#log("renewing the temporary key");
      this.#failures = 0;
      this.dropConnection();
    }, (expiresAt - margin - session.ids.now()) * 1000);
  }

  /** Sends auth.bindTempAuthKey under the new temporary key and waits for its answer. */
  async #bind(
    session: ClientSession,
    permKey: AuthKey,
    expiresAt: number,
    connection: ByteConnection,
    transport: ClientTransport,
    reader: AsyncIterator<Uint8Array>,
  ): Promise<void> {
    const { codec, random } = this.options;
    const binding = {
      tempAuthKeyId: authKeyIdLong(session.authKey),
      tempSessionId: session.sessionId,
      expiresAt,
    };
    const requestId = session.send((messageId) =>
      codec.encode(bindTempAuthKeyCall(codec, permKey, binding, messageId, random))
    );
    for (;;) {
      for (let payload; (payload = session.flush());) {
        await connection.write(transport.pack(payload));
      }
      const next = await reader.next();
      if (next.done) throw this.#closedEarly();
      for (const payload of transport.unpack(next.value)) {
        for (const event of session.receive(payload)) {
          if (event.type === "failed" && event.requestId === requestId) {
            throw new BadAnswerError(`auth.bindTempAuthKey: ${event.reason}`);
          }
          if (event.type !== "result" || event.requestId !== requestId) continue;
          const answer = codec.decode(event.body);
          if (answer._cons === "boolTrue") return;
          // The permanent key is not (or no longer) known: what -404 means for a plain session.
          const error = new AuthKeyUnknownError(
            `AUTH_KEY_UNKNOWN: DC ${this.options.dcId} refused to bind a temporary key to our ` +
              `permanent key (${answer.error_message ?? answer._cons})`,
          );
          this.close(error);
          this.options.onAuthKeyUnknown?.();
          throw error;
        }
      }
    }
  }

  #newSession(
    authKey: Uint8Array,
    salt: bigint,
    timeOffset: number,
    sessionId?: bigint,
  ): ClientSession {
    return new ClientSession({
      codec: this.options.codec,
      authKey: makeAuthKey(authKey),
      salt,
      random: this.options.random,
      clock: this.options.clock ?? Date.now,
      timeOffset,
      ...(sessionId !== undefined ? { sessionId } : {}),
    });
  }

  async #createKey(
    connection: ByteConnection,
    transport: ClientTransport,
    reader: AsyncIterator<Uint8Array>,
    expiresIn?: number,
  ) {
    const { options } = this;
    const clock = options.clock ?? Date.now;
    const ids = new MessageIdGenerator(clock, "client");
    const context = {
      codec: options.codec,
      random: options.random,
      publicKeys: options.publicKeys,
      dcId: options.dcId,
      ...(expiresIn !== undefined ? { expiresIn } : {}),
    };
    const pending: Uint8Array[] = [];
    const exchange = async (body: Uint8Array, message: string): Promise<Uint8Array> => {
      this.#step = "key_exchange";
      this.#exchangeMessage = message;
      await connection.write(transport.pack(packPlainMessage(ids.next(), body)));
      while (pending.length === 0) {
        const next = await reader.next();
        if (next.done) throw this.#closedEarly();
        pending.push(...transport.unpack(next.value));
      }
      return unpackPlainMessage(pending.shift()!).body;
    };
    const step1 = requestPq(context);
    const step2 = requestDhParams(
      context,
      step1.state,
      await exchange(step1.request, "req_pq_multi"),
    );
    let step3 = setClientDhParams(
      context,
      step2.state,
      await exchange(step2.request, "req_DH_params"),
      clock() / 1000,
    );
    for (let attempt = 0; attempt < 5; attempt++) {
      const result = finishExchange(
        context,
        step3.state,
        await exchange(step3.request, "set_client_DH_params"),
      );
      if ("done" in result) return result.done;
      step3 = result.retry;
    }
    throw new SecurityError("the server kept asking to retry the key exchange");
  }

  async #readLoop(
    connection: ByteConnection,
    transport: ClientTransport,
    reader: AsyncIterator<Uint8Array>,
  ) {
    try {
      for (;;) {
        const next = await reader.next();
        if (next.done) break;
        for (const payload of transport.unpack(next.value)) {
          this.#step = "answer";
          const events = this.session!.receive(payload);
          if (events.some((event) => event.type !== "dropped")) this.#failures = 0;
          this.#dispatch(events);
        }
        // Acks alone wait for the ack timer or the next request.
        if (this.session!.hasRequests) this.#scheduleFlush();
      }
    } catch (error) {
      if (error instanceof TransportError && error.code === 404) {
        connection.close();
        if (!this.options.tempKeySeconds) {
          this.#authKeyUnknown();
          return;
        }
        // PFS: the temporary key is gone (it expired, or the server forgot it). A new one is
        // bound on reconnecting, and the requests in flight go out again under it; only a
        // refused binding means the permanent key is gone too.
        this.#log("the server does not know our temporary key (-404): binding a new one");
        this.#tempExpiresAt = 0;
      }
      if (error instanceof TransportError && error.code === 429) this.#backOff();
      this.#log(`connection error: ${(error as Error).message}`);
    }
    connection.close();
    if (this.#connection === connection) {
      this.#connection = undefined;
      this.#step = "tcp_connect";
    }
    // Counted as a failure until the next connection delivers a message, so that a server that
    // accepts and drops at once is retried with a growing wait, not in a tight loop.
    this.#failures++;
    if (!this.#closed) this.#reconnect();
  }

  /** `-404`: the key is gone, so is everything sent under it; the owner decides what is next. */
  #authKeyUnknown(): void {
    this.#log(`the server does not know our auth key (-404)`);
    this.close(
      new AuthKeyUnknownError(
        `AUTH_KEY_UNKNOWN: DC ${this.options.dcId} does not know this auth key (it was destroyed, ` +
          `or the server forgot it)`,
      ),
    );
    this.options.onAuthKeyUnknown?.();
  }

  /** `-429`: too many connections from here; no new one for a while (growing, with jitter). */
  #backOff(): void {
    const attempt = Math.max(0, this.#failures - 1);
    this.#notBefore = this.#timers.now() + backoffMs(attempt, FLOOD_BACKOFF);
  }

  /** Reconnects after a backoff (longer after a `-429`, see #backOff). One at a time. */
  #reconnect(): void {
    if (this.#reconnectTimer !== undefined) return;
    const attempt = Math.max(0, this.#failures - 1);
    const wait = Math.max(
      backoffMs(attempt, RECONNECT_BACKOFF),
      this.#notBefore - this.#timers.now(),
    );
    this.#reconnectTimer = this.#timers.setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#closed || this.#connection) return;
      this.connect().catch((error) => {
        if (error instanceof TransportError && error.code === 404) return this.#authKeyUnknown();
        this.#log(`reconnect failed: ${(error as Error).message}`);
        if (!this.#closed) this.#reconnect();
      });
    }, wait);
  }

  #dispatch(events: SessionEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case "result": {
          const waiter = this.#waiters.get(event.requestId);
          this.#waiters.delete(event.requestId);
          this.#sentEarlier.delete(event.requestId);
          waiter?.resolve(event.body);
          break;
        }
        case "failed": {
          const waiter = this.#waiters.get(event.requestId);
          this.#waiters.delete(event.requestId);
          this.#sentEarlier.delete(event.requestId);
          waiter?.reject(
            event.code === 0
              ? new BadAnswerError(event.reason)
              : new RpcError(400, `BAD_MSG_${event.code}`),
          );
          break;
        }
        case "update":
          this.options.onUpdate?.(event.body);
          break;
        case "new_session":
          this.options.onNewSession?.();
          break;
        case "dropped":
          this.#log(`dropped a message: ${event.reason}`);
          break;
      }
    }
  }

  #failAll(error: Error): void {
    for (const [requestId, waiter] of this.#waiters) {
      // Each request says whether it went out: one that did not can be sent elsewhere.
      waiter.reject(
        error instanceof SenderClosedError
          ? new SenderClosedError(error.message, this.#wasSent(requestId))
          : error,
      );
    }
    this.#waiters.clear();
    this.#sentEarlier.clear();
  }

  /** True when the request went out at least once (under this session or an earlier one). */
  #wasSent(requestId: number): boolean {
    return this.#sentEarlier.has(requestId) || (this.session?.wasSent(requestId) ?? false);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const connection = this.#connection, transport = this.#transport, session = this.session;
    if (!connection || !transport || !session) return;
    // Requests stay queued in the session until a write; acks wait for the ack timer unless
    // something else is going out.
    for (let payload; (payload = session.flush());) {
      connection.write(transport.pack(payload)).catch((error) => {
        this.#log(`write failed: ${(error as Error).message}`);
        connection.close();
      });
    }
  }

  #startTimers(): void {
    this.#timers.clearInterval(this.#ackTimer);
    this.#timers.clearInterval(this.#pingTimer);
    this.#ackTimer = this.#timers.setInterval(() => {
      if (this.session?.hasOutgoing) this.#flush();
    }, 200);
    const interval = this.options.pingIntervalMs ?? 30000;
    if (interval > 0) {
      this.#pingTimer = this.#timers.setInterval(() => {
        if (!this.session || !this.#connection) return;
        // ping_delay_disconnect asks the server to close the connection if we go silent.
        const body = this.options.codec.encode({
          _cons: "ping_delay_disconnect",
          ping_id: BigInt(Date.now()),
          disconnect_delay: Math.ceil(interval / 1000) + 45,
        });
        const connection = this.#connection;
        this.invoke(body, this.options.pingTimeoutMs ?? 10_000).catch((error) => {
          // No pong: the connection is half-open or the server is stuck. Start over.
          if (error instanceof RequestTimeoutError && this.#connection === connection) {
            this.#log(`no pong within the ping deadline: reconnecting`);
            connection.close();
          }
        });
      }, interval);
    }
  }

  #log(line: string): void {
    this.options.log?.(line);
  }
}
