/**
 * Drives one MTProto connection to one DC: opens the socket, creates the auth key when there is
 * none, and then moves bytes between the socket and the sans-IO session. It batches outgoing
 * messages per tick, acks on a timer, pings to keep the connection alive, and on a dropped
 * connection reconnects with backoff and resends every unanswered request under its msg_id, so
 * each request gets exactly one outcome.
 *
 * @module
 */

import { RpcError, SecurityError, TransportError } from "../errors.ts";
import type { RandomSource } from "../crypto/random.ts";
import type { RsaPublicKey } from "../crypto/rsa.ts";
import type { TlCodec } from "../tl/codec.ts";
import {
  finishExchange,
  requestDhParams,
  requestPq,
  setClientDhParams,
} from "../mtproto/auth_key_exchange.ts";
import { makeAuthKey } from "../mtproto/encrypted_message.ts";
import { type Clock, MessageIdGenerator } from "../mtproto/message_id.ts";
import { packPlainMessage, unpackPlainMessage } from "../mtproto/plain_message.ts";
import { ClientSession, type SessionEvent } from "../mtproto/session.ts";
import { ClientTransport, type TransportOptions } from "../transport/transport.ts";
import { type ByteConnection, connectTcp } from "./tcp_connection.ts";

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
  log?: (line: string) => void;
  /** Send a ping after this much idle time; 0 disables. */
  pingIntervalMs?: number;
}

interface Waiter {
  resolve(body: Uint8Array): void;
  reject(error: Error): void;
}

/** A request that got no answer in time. */
export class RequestTimeoutError extends Error {
  override name = "RequestTimeoutError";
}

/** Thrown to pending requests when the sender is closed. */
export class SenderClosedError extends Error {
  override name = "SenderClosedError";
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
  #ackTimer?: ReturnType<typeof setInterval>;
  #pingTimer?: ReturnType<typeof setInterval>;
  #backoffMs = 0;
  /** How many times the connection was re-established (for tests and logs). */
  reconnects = 0;

  /** Prepares a sender; nothing happens until `connect` or the first `invoke`. */
  constructor(options: SenderOptions) {
    this.options = options;
  }

  /** The auth key in use, once there is one. */
  get authKey(): Uint8Array | undefined {
    return this.session?.authKey.key;
  }

  /** Connects (creating the auth key if needed); resolves once requests can flow. */
  connect(): Promise<void> {
    this.#connecting ??= this.#open().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  /**
   * Sends a serialized function call and resolves with the body of its answer (an `rpc_error`
   * body included: the caller decodes it with the method's result type).
   */
  async invoke(body: Uint8Array, timeoutMs?: number): Promise<Uint8Array> {
    if (this.#closed) throw new SenderClosedError("the connection is closed");
    if (!this.session || !this.#connection) await this.connect();
    const session = this.session!;
    const requestId = session.send(body);
    const answer = new Promise<Uint8Array>((resolve, reject) =>
      this.#waiters.set(requestId, { resolve, reject })
    );
    this.#scheduleFlush();
    if (timeoutMs === undefined) return await answer;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Forget the request: an answer arriving later is dropped, not delivered twice.
        this.cancel(requestId);
        reject(new RequestTimeoutError(`no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops waiting for a request (after a client-side timeout); a late answer is dropped. */
  cancel(requestId: number): void {
    this.session?.cancel(requestId);
    this.#waiters.delete(requestId);
  }

  /** Closes for good; pending requests fail with {@link SenderClosedError}. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#ackTimer);
    clearInterval(this.#pingTimer);
    this.#connection?.close();
    for (const waiter of this.#waiters.values()) {
      waiter.reject(new SenderClosedError("the connection was closed"));
    }
    this.#waiters.clear();
  }

  /** Drops the socket without closing the sender: it reconnects (a test hook, and for network changes). */
  dropConnection(): void {
    this.#connection?.close();
  }

  async #open(): Promise<void> {
    // A request and the backoff timer may both ask to reconnect; one connection is enough.
    if (this.#connection) return;
    if (this.session) this.reconnects++;
    const { options } = this;
    const connect = options.connect ?? connectTcp;
    const connection = await connect(options.host, options.port);
    const transport = new ClientTransport(
      { ...options.transport, dcId: options.dcId },
      options.random,
    );
    const reader = connection.readable[Symbol.asyncIterator]();
    if (!this.session) {
      if (options.authKey) {
        this.session = this.#newSession(options.authKey, options.salt ?? 0n, 0, options.sessionId);
      } else {
        const created = await this.#createKey(connection, transport, reader);
        this.session = this.#newSession(created.authKey, created.serverSalt, created.timeOffset);
      }
    }
    this.#connection = connection;
    this.#transport = transport;
    this.#backoffMs = 0;
    this.#startTimers();
    this.#readLoop(connection, transport, reader);
    this.session.resendPending();
    this.#scheduleFlush();
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
  ) {
    const { options } = this;
    const clock = options.clock ?? Date.now;
    const ids = new MessageIdGenerator(clock, "client");
    const context = {
      codec: options.codec,
      random: options.random,
      publicKeys: options.publicKeys,
      dcId: options.dcId,
    };
    const pending: Uint8Array[] = [];
    const exchange = async (body: Uint8Array): Promise<Uint8Array> => {
      await connection.write(transport.pack(packPlainMessage(ids.next(), body)));
      while (pending.length === 0) {
        const next = await reader.next();
        if (next.done) throw new TransportError("connection closed during the key exchange");
        pending.push(...transport.unpack(next.value));
      }
      return unpackPlainMessage(pending.shift()!).body;
    };
    const step1 = requestPq(context);
    const step2 = requestDhParams(context, step1.state, await exchange(step1.request));
    let step3 = setClientDhParams(
      context,
      step2.state,
      await exchange(step2.request),
      clock() / 1000,
    );
    for (let attempt = 0; attempt < 5; attempt++) {
      const result = finishExchange(context, step3.state, await exchange(step3.request));
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
          this.#dispatch(this.session!.receive(payload));
        }
        // Acks alone wait for the ack timer or the next request.
        if (this.session!.hasRequests) this.#scheduleFlush();
      }
    } catch (error) {
      if (error instanceof TransportError && error.code === 404) {
        this.#log(`the server does not know our auth key (-404): it must be created again`);
        this.#failAll(
          new TransportError("AUTH_KEY_UNKNOWN: the server does not know this auth key", 404),
        );
        this.close();
        return;
      }
      this.#log(`connection error: ${(error as Error).message}`);
    }
    connection.close();
    if (this.#connection === connection) this.#connection = undefined;
    if (!this.#closed) this.#reconnect();
  }

  #reconnect(): void {
    this.#backoffMs = Math.min(5000, this.#backoffMs ? this.#backoffMs * 2 : 50);
    setTimeout(() => {
      if (this.#closed || this.#connection) return;
      this.connect().catch((error) => {
        this.#log(`reconnect failed: ${(error as Error).message}`);
        if (!this.#closed) this.#reconnect();
      });
    }, this.#backoffMs);
  }

  #dispatch(events: SessionEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case "result": {
          const waiter = this.#waiters.get(event.requestId);
          this.#waiters.delete(event.requestId);
          waiter?.resolve(event.body);
          break;
        }
        case "failed": {
          const waiter = this.#waiters.get(event.requestId);
          this.#waiters.delete(event.requestId);
          waiter?.reject(new RpcError(400, `BAD_MSG_${event.code}`));
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
    for (const waiter of this.#waiters.values()) waiter.reject(error);
    this.#waiters.clear();
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
    clearInterval(this.#ackTimer);
    clearInterval(this.#pingTimer);
    const ackTimer = setInterval(() => {
      if (this.session?.hasOutgoing) this.#flush();
    }, 200);
    Deno.unrefTimer(ackTimer);
    this.#ackTimer = ackTimer;
    const interval = this.options.pingIntervalMs ?? 30000;
    if (interval > 0) {
      const pingTimer = setInterval(() => {
        if (!this.session || !this.#connection) return;
        // ping_delay_disconnect asks the server to close the connection if we go silent.
        const body = this.options.codec.encode({
          _cons: "ping_delay_disconnect",
          ping_id: BigInt(Date.now()),
          disconnect_delay: Math.ceil(interval / 1000) + 45,
        });
        this.invoke(body).catch(() => {});
      }, interval);
      Deno.unrefTimer(pingTimer);
      this.#pingTimer = pingTimer;
    }
  }

  #log(line: string): void {
    this.options.log?.(line);
  }
}
