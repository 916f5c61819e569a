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
 * Its parts: key_setup.ts (the auth key exchange and, with PFS, the temporary key's binding and
 * renewal), open_connection.ts (the socket, the transport and the connect deadline),
 * reconnect_schedule.ts (backoff and `-429` waits), keep_alive.ts (acks and pings),
 * pending_requests.ts (one outcome per request), connect_progress.ts (which step a failure was
 * at), sender_errors.ts and sender_options.ts, re-exported here.
 *
 * @module
 */

import { TransportError } from "../errors.ts";
import type { ClientSession } from "../mtproto/session.ts";
import type { ClientTransport } from "../transport/transport.ts";
import { FRAME_HEADROOM } from "../transport/framing.ts";
import type { ByteConnection } from "./tcp_connection.ts";
import { type Clock, systemClock } from "../io/clock.ts";
import { ConnectProgress } from "./connect_progress.ts";
import { createAuthKey, newSession, resumeSession, TempKeys } from "./key_setup.ts";
import { KeepAlive } from "./keep_alive.ts";
import { openPipe, startAttempt } from "./open_connection.ts";
import { PendingRequests } from "./pending_requests.ts";
import { type DeadlineEntry, Deadlines } from "./deadlines.ts";
import { dispatchSessionEvents } from "./session_events.ts";
import { ReconnectSchedule } from "./reconnect_schedule.ts";
import {
  AuthKeyUnknownError,
  ConnectionFailedError,
  ConnectTimeoutError,
  RequestTimeoutError,
  SenderClosedError,
} from "./sender_errors.ts";
import type { ConnectAttempt, SenderOptions } from "./sender_options.ts";
import { framePool } from "../io/frame_pool.ts";
import { MessageBuffers } from "../mtproto/message_buffers.ts";

/** The process's buffers for big outgoing messages (upload parts), used again once written. */
const sentMessages = new MessageBuffers();

/**
 * How a payload is made and framed, the same for every flush: encrypted with room for the frame's
 * header (an upload's part is not copied once more to be framed), and a big one (an upload's part)
 * in a buffer used again once it is written.
 */
const MAKING = { headroom: FRAME_HEADROOM, allocate: sentMessages.take };

export type { ConnectAttempt, SenderOptions } from "./sender_options.ts";
export {
  AuthKeyUnknownError,
  BadAnswerError,
  ConnectionFailedError,
  type ConnectStep,
  ConnectTimeoutError,
  RequestTimeoutError,
  SenderClosedError,
} from "./sender_errors.ts";

/** One connection's worth of MTProto, with reconnection. */
export class Sender {
  readonly options: SenderOptions;
  session?: ClientSession;
  #connection?: ByteConnection;
  #transport?: ClientTransport;
  readonly #pending = new PendingRequests();
  #deadlines?: Deadlines<Invocation>;
  #flushScheduled = false;
  #closed = false;
  #connecting?: Promise<void>;
  /** The connection being opened (before it carries requests), closed by `close`. */
  #opening?: ByteConnection;
  /** The attempt being made: aborted by `close` and by its deadline (see ConnectAttempt). */
  #attempt?: AbortController;
  /** How far the current (or next) connection has come. */
  readonly #progress: ConnectProgress;
  readonly #clock: Clock;
  readonly #keepAlive: KeepAlive;
  readonly #backoff: ReconnectSchedule;
  /** With PFS: the permanent key and the temporary one bound to it (made when first needed). */
  #tempKeys?: TempKeys;
  /** How many times the connection was re-established (for tests and logs). */
  reconnects = 0;

  /** Prepares a sender; nothing happens until `connect` or the first `invoke`. */
  constructor(options: SenderOptions) {
    this.options = options;
    this.#clock = options.clock ?? systemClock;
    this.#progress = new ConnectProgress(options);
    this.#backoff = new ReconnectSchedule(this.#clock);
    this.#keepAlive = new KeepAlive({
      clock: this.#clock,
      options,
      session: () => this.session,
      connection: () => this.#connection,
      flush: () => this.#flush(),
      invoke: (body, timeoutMs) => this.invoke(body, timeoutMs),
      log: (line) => this.#log(line),
    });
  }

  /** PFS's keys: made by the first use, since a sender without PFS never needs them. */
  #pfs(): TempKeys {
    return this.#tempKeys ??= new TempKeys({
      options: this.options,
      progress: this.#progress,
      clock: this.#clock,
      log: (line) => this.#log(line),
      session: () => this.session,
      install: (session) => {
        this.#pending.handOver(this.session, session);
        this.session = session;
      },
      renew: () => {
        this.#backoff.succeeded();
        this.dropConnection();
      },
      refused: (error) => {
        this.close(error);
        this.options.onAuthKeyUnknown?.();
      },
    });
  }

  /** The account's key: the permanent one (with PFS the session runs under a temporary key). */
  get authKey(): Uint8Array | undefined {
    return this.options.tempKeySeconds ? this.#pfs().permanentKey : this.session?.authKey.key;
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
  invoke(body: Uint8Array, timeoutMs?: number): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new SenderClosedError("the connection is closed"));
    // One promise per call, settled by the answer, a failure or the deadline, whichever is first;
    // the deadline is an entry in the sender's one timer's heap, not a timer of its own.
    return new Promise<Uint8Array>((resolve, reject) => {
      const deadlines = timeoutMs === undefined ? undefined : this.#timeouts();
      const request = new Invocation(deadlines, resolve, reject, timeoutMs);
      deadlines?.add(request, timeoutMs!);
      if (this.session && this.#connection) this.#send(body, request);
      else this.#connectThenSend(body, request);
    });
  }

  /** The deadlines of this sender's calls, made with the first call that has one. */
  #timeouts(): Deadlines<Invocation> {
    return this.#deadlines ??= new Deadlines(this.#clock, (request) => this.#expire(request));
  }

  /** A call's deadline passed: it is forgotten and fails with {@link RequestTimeoutError}. */
  #expire(request: Invocation): void {
    request.expired = true;
    const id = request.id;
    const sent = id !== undefined && this.#pending.wasSent(id, this.session);
    if (id !== undefined) this.cancel(id);
    this.#scheduleFlush();
    const waitingFor = this.waitingFor(sent);
    request.reject(
      new RequestTimeoutError(
        `no answer within ${request.timeoutMs! / 1000} s: ${waitingFor}`,
        sent,
        waitingFor,
      ),
    );
  }

  async #connectThenSend(body: Uint8Array, request: Invocation): Promise<void> {
    try {
      await this.connect();
    } catch (error) {
      // Closed while connecting: what failed is the connection we gave up, not this request.
      const ours = error instanceof ConnectionFailedError || error instanceof ConnectTimeoutError;
      if (this.#closed && ours) request.reject(new SenderClosedError("the connection was closed"));
      else request.reject(error as Error);
      return;
    }
    // The deadline may have passed while connecting: then the request is not sent at all.
    if (request.expired) return;
    this.#send(body, request);
  }

  #send(body: Uint8Array, request: Invocation): void {
    if (this.#closed) {
      request.reject(new SenderClosedError("the connection is closed"));
      return;
    }
    let requestId: number;
    try {
      requestId = this.session!.send(body);
    } catch (error) {
      request.reject(error as Error);
      return;
    }
    request.id = requestId;
    this.#pending.add(requestId, request);
    this.#scheduleFlush();
  }

  /** Stops waiting for a request (after a client-side timeout); a late answer is dropped. */
  cancel(requestId: number): void {
    this.session?.cancel(requestId);
    this.#pending.forget(requestId);
  }

  /**
   * Closes for good; pending requests fail with `reason` ({@link SenderClosedError} by default,
   * then each says whether it went out). A connection still being opened is closed too.
   */
  close(reason: Error = new SenderClosedError("the connection was closed")): void {
    this.#closed = true;
    this.#keepAlive.stop();
    this.#backoff.stop();
    this.#tempKeys?.stop();
    this.#attempt?.abort();
    this.#opening?.close();
    this.#connection?.close();
    this.#connection = undefined;
    this.#pending.failAll(reason, this.session);
    // The deadlines' timer outlives the last answered call (lib/net/deadlines.ts): it ends here.
    this.#deadlines?.clear();
  }

  /**
   * Which step the sender waits for, in words, for error messages (see
   * {@link ConnectProgress.waitingFor}); `sent` says whether the request in question went out.
   */
  waitingFor(sent = false): string {
    return this.#progress.waitingFor(sent);
  }

  /** True once closed: a closed sender is never used again. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True while a connection is up with its key (from a connect until it is lost or closed). */
  get connected(): boolean {
    return this.#connection !== undefined && !this.#closed;
  }

  /** Drops the socket without closing the sender: it reconnects (a test hook, and for network changes). */
  dropConnection(): void {
    this.#connection?.close();
  }

  async #open(): Promise<void> {
    // A request and the backoff timer may both ask to reconnect; one connection is enough.
    if (this.#connection || this.#closed) return;
    const wait = this.#backoff.floodWaitMs();
    if (wait > 0) {
      this.#log(`the server said -429: waiting ${Math.round(wait)} ms before connecting`);
      await this.#clock.sleep(wait);
      if (this.#connection || this.#closed) return;
    }
    if (this.session) this.reconnects++;
    let connection: ByteConnection | undefined;
    this.#progress.step = "tcp_connect";
    this.#progress.connectWaiting = undefined;
    const { abort, deadline, attempt } = startAttempt(
      this.#clock,
      this.options.connectTimeoutMs ?? 10_000,
      this.#progress,
      () => connection?.close(),
      () => this.#attempt === abort,
    );
    this.#attempt = abort;
    try {
      await Promise.race([
        deadline.expired,
        this.#establish((opened) => {
          connection = opened;
          this.#opening = opened;
          // Opened after the deadline or after close(): nobody will use it.
          if (deadline.passed || this.#closed) opened.close();
        }, attempt),
      ]);
    } catch (error) {
      // A connect still under way (a proxy's handshake) stops and closes what it opened.
      abort.abort();
      connection?.close();
      this.#backoff.failed();
      if (error instanceof TransportError && error.code === 429) this.#backoff.flooded();
      throw this.#progress.named(error);
    } finally {
      this.#opening = undefined;
      if (this.#attempt === abort) this.#attempt = undefined;
      deadline.clear();
    }
  }

  /** Connects and, when there is no key yet, creates one; then starts reading. */
  async #establish(
    opened: (connection: ByteConnection) => void,
    attempt: ConnectAttempt,
  ): Promise<void> {
    const { options } = this;
    const pipe = await openPipe(options, this.#progress, opened, attempt);
    if (options.tempKeySeconds) {
      await this.#pfs().ensureBound(pipe, options.tempKeySeconds);
    } else if (!this.session) {
      if (options.authKey) this.session = resumeSession(options, options.authKey);
      else {
        const created = await createAuthKey(options, pipe, this.#progress);
        this.session = newSession(options, created.authKey, created.serverSalt, created.timeOffset);
      }
    }
    const { connection, transport, reader } = pipe;
    if (this.#closed) {
      connection.close();
      return;
    }
    this.#progress.step = "first_call";
    this.#connection = connection;
    this.#transport = transport;
    this.#keepAlive.start();
    this.#readLoop(connection, transport, reader);
    this.session!.resendPending();
    this.#scheduleFlush();
    if (this.reconnects > 0) this.options.onReconnect?.();
  }

  /** Handles what one received chunk brings. */
  #handleChunk(transport: ClientTransport, chunk: Uint8Array): void {
    for (const payload of transport.unpack(chunk)) {
      this.#progress.step = "answer";
      // The transport's payloads are fresh buffers, never read again: decrypted in place.
      const events = this.session!.receive(payload, { inPlace: true });
      if (events.some((event) => event.type !== "dropped")) this.#backoff.succeeded();
      // A big frame's buffer is lent by the frame pool: what is handed on holds it (a file
      // part's consumer gives it back once written), and the frame itself lets go of it.
      for (const event of events) {
        if (event.type === "result" || event.type === "update") framePool.retain(event.body);
      }
      dispatchSessionEvents(events, this.#pending, this.options, (line) => this.#log(line));
      framePool.release(payload);
    }
    // Acks alone wait for the ack timer or the next request.
    if (this.session!.hasRequests) this.#scheduleFlush();
  }

  /**
   * Reads the connection until it ends or fails. Callbacks on each read, not an async loop: an
   * idle connection waits with no suspended frame (two of them, with what their registers held,
   * for every idle sender), and nothing holds the last chunk while the next read waits.
   */
  #readLoop(
    connection: ByteConnection,
    transport: ClientTransport,
    reader: AsyncIterator<Uint8Array>,
  ): void {
    const failed = (error: unknown): void => {
      if (this.#readFailed(connection, error as Error)) this.#readEnded(connection);
    };
    const received = (next: IteratorResult<Uint8Array>): void => {
      try {
        if (next.done) {
          this.#readEnded(connection);
          return;
        }
        this.#handleChunk(transport, next.value);
      } catch (error) {
        failed(error);
        return;
      }
      read();
    };
    const read = (): void => {
      let next: Promise<IteratorResult<Uint8Array>>;
      try {
        // A big frame (a file's part) is read straight into the buffer it is gathered in.
        next = reader.next(transport.readTarget());
      } catch (error) {
        failed(error);
        return;
      }
      next.then(received, failed);
    };
    read();
  }

  /** What a failed read loop means; false when the sender closed for good (the key is gone). */
  #readFailed(connection: ByteConnection, error: Error): boolean {
    if (error instanceof TransportError && error.code === 404) {
      connection.close();
      if (!this.options.tempKeySeconds) {
        this.#authKeyUnknown();
        return false;
      }
      // PFS: the temporary key is gone (it expired, or the server forgot it). A new one is
      // bound on reconnecting, and the requests in flight go out again under it; only a
      // refused binding means the permanent key is gone too.
      this.#log("the server does not know our temporary key (-404): binding a new one");
      this.#pfs().forget();
    }
    if (error instanceof TransportError && error.code === 429) this.#backoff.flooded();
    this.#log(`connection error: ${error.message}`);
    return true;
  }

  /** The connection ended or failed: it is closed, and the sender reconnects unless closed. */
  #readEnded(connection: ByteConnection): void {
    connection.close();
    if (this.#connection === connection) {
      this.#connection = undefined;
      this.#progress.step = "tcp_connect";
    }
    // Counted as a failure until the next connection delivers a message, so that a server that
    // accepts and drops at once is retried with a growing wait, not in a tight loop.
    this.#backoff.failed();
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

  /** Reconnects after a backoff (longer after a `-429`). One at a time. */
  #reconnect(): void {
    this.#backoff.schedule(() => {
      if (this.#closed || this.#connection) return;
      this.connect().catch((error) => {
        if (error instanceof TransportError && error.code === 404) return this.#authKeyUnknown();
        this.#log(`reconnect failed: ${(error as Error).message}`);
        if (!this.#closed) this.#reconnect();
      });
    });
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
    for (let payload; (payload = session.flush(MAKING));) {
      const sent = payload;
      connection.write(transport.pack(payload, MAKING)).then(
        () => sentMessages.release(sent),
        (error) => {
          this.#log(`write failed: ${(error as Error).message}`);
          connection.close();
        },
      );
    }
  }

  #log(line: string): void {
    this.options.log?.(line);
  }
}

/** One call waiting for its outcome: what the pending requests settle and the deadlines time. */
class Invocation implements DeadlineEntry {
  /** Its msg_id once the session sent it. */
  id: number | undefined = undefined;
  /** True once its deadline passed (it is then never sent). */
  expired = false;
  deadlineAt = 0;
  deadlineOrder = 0;
  deadlineDone = false;
  #done = false;

  // Let go once settled: a done call stays in the deadlines' heap until its time or a compaction,
  // and through these it kept its promise, the answer and the frame under it alive too (copied
  // by every scavenge, then promoted: a fifth of serve's surviving young objects under load).
  #onAnswer: ((body: Uint8Array) => void) | undefined;
  #onFailure: ((error: Error) => void) | undefined;

  constructor(
    readonly deadlines: Deadlines<Invocation> | undefined,
    onAnswer: (body: Uint8Array) => void,
    onFailure: (error: Error) => void,
    readonly timeoutMs: number | undefined,
  ) {
    this.#onAnswer = onAnswer;
    this.#onFailure = onFailure;
  }

  resolve(body: Uint8Array): void {
    if (this.#done) return;
    this.#done = true;
    this.deadlines?.cancel(this);
    const settle = this.#onAnswer!;
    this.#onAnswer = this.#onFailure = undefined;
    settle(body);
  }

  reject(error: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.deadlines?.cancel(this);
    const settle = this.#onFailure!;
    this.#onAnswer = this.#onFailure = undefined;
    settle(error);
  }
}
