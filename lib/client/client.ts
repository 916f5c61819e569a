/**
 * A Telegram client for one JSON connection (or one `signin` run): calls in JSON form and what it
 * does with them without being asked — short FLOOD_WAITs waited out, `*_MIGRATE_X` followed,
 * connections that fail tried again, and `rpc_timeout` after the timeout. Where calls go is the
 * DC router's (`dc_router.ts`), the first call of each connection is wrapped by
 * `init_connection.ts`, and the session's JSON form is `session_json.ts`'s. Clients share nothing
 * with each other.
 *
 * @module
 */

import { type Clock, systemClock } from "../io/clock.ts";
import { RpcError } from "../errors.ts";
import { decideReconnect, decideRetry } from "./retry_policy.ts";
import { sharedCodec, type TlCodec, type TlObject } from "../tl/codec.ts";
import type { TlSchema } from "../tl/schema.ts";
import {
  AuthKeyUnknownError,
  ConnectionFailedError,
  ConnectTimeoutError,
  RequestTimeoutError,
  SenderClosedError,
} from "../net/sender.ts";
import { type DcCall, DcRouter } from "./dc_router.ts";
import { type AppIdentity, ConnectionInit } from "./init_connection.ts";
import { defaultServer, type ServerTarget, type SessionState } from "./session_json.ts";
import {
  type CallContext,
  CallCutOffError,
  type CallResult,
  type ClientBehaviour,
  type ClientOptions,
} from "./client_options.ts";

// The names other modules have long imported from here; they live in the files named.
export { type ClientEvent, TEMP_KEY_SECONDS } from "./dc_router.ts";
export type { AppIdentity } from "./init_connection.ts";
export type { CallResult, ClientBehaviour, ClientOptions } from "./client_options.ts";
export {
  defaultServer,
  serverFromJson,
  type ServerTarget,
  serverToJson,
  sessionFromJson,
  type SessionState,
  sessionToJson,
} from "./session_json.ts";

/**
 * One client: calls in JSON form, sent to the right DC with initConnection where needed, retried
 * by the retry policy, and answered as a TL object, `rpc_error` or `rpc_timeout`.
 */
export class Client {
  readonly schema: TlSchema;
  readonly #input: TlCodec;
  #output: TlCodec;
  readonly app: AppIdentity;
  /** The clock every deadline and wait of this client runs on. */
  readonly clock: Clock;
  behaviour: ClientBehaviour;
  readonly #router: DcRouter;
  readonly #init: ConnectionInit;
  /** How many times `closeConnections` was called (the owner closing, not a switch). */
  #closes = 0;
  readonly #options: ClientOptions;

  /** Creates a client; nothing connects until the first call. */
  constructor(options: ClientOptions) {
    this.#options = options;
    this.schema = options.schema;
    this.#input = sharedCodec(options.schema, { defaultHashes: true });
    this.app = options.app;
    this.clock = options.clock ?? systemClock;
    this.behaviour = {
      autoInit: true,
      floodWaitThreshold: 5,
      followMigrations: true,
      timeoutSeconds: 10,
      connectTimeoutSeconds: 10,
      longsAsStrings: false,
      ...options.behaviour,
    };
    this.#output = this.#jsonCodec();
    this.#init = new ConnectionInit(this.#input, this.schema.layer ?? 0, this.app);
    const server = options.server ?? defaultServer();
    this.#router = new DcRouter({
      server,
      session: options.session ?? { dc: server.dc },
      codec: this.#input,
      ...(options.transport ? { transport: options.transport } : {}),
      ...(options.random ? { random: options.random } : {}),
      clock: this.clock,
      connectTimeoutMs: () => this.behaviour.connectTimeoutSeconds * 1000,
      onUpdate: (bytes, dc) => {
        try {
          this.#options.onUpdate?.(this.#output.decode(bytes), dc);
        } catch (error) {
          this.#log(`an update could not be decoded: ${(error as Error).message}`);
        }
      },
      // A new session needs initConnection again.
      onNewSession: (sender) => this.#init.forget(sender),
      ...(options.onMissedUpdates ? { onMissedUpdates: options.onMissedUpdates } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.onSessionChanged ? { onSessionChanged: options.onSessionChanged } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
  }

  /** The server the client talks to; after a home-DC migration, the new home DC's address. */
  get server(): ServerTarget {
    return this.#router.server;
  }

  /** The session as loaded or signed in; `currentSession()` adds the live key, salt and id. */
  get session(): SessionState {
    return this.#router.session;
  }

  #jsonCodec(longsAsStrings = this.behaviour.longsAsStrings): TlCodec {
    return sharedCodec(this.schema, {
      longs: longsAsStrings ? "string" : "json",
      bytes: "base64",
    });
  }

  /** Applies new behaviour switches. */
  configure(behaviour: Partial<ClientBehaviour>): void {
    const strings = this.behaviour.longsAsStrings;
    this.behaviour = { ...this.behaviour, ...behaviour };
    if (strings !== this.behaviour.longsAsStrings) this.#output = this.#jsonCodec();
  }

  /**
   * Points the client at another server; open connections close. Calls in flight that had not
   * gone out yet are sent to the new server; those that had end as `rpc_timeout` with
   * `maybe_executed` (they may have run on the old one, whose answer will not come).
   */
  setServer(server: ServerTarget): void {
    this.#router.setServer(server);
  }

  /** Loads a session; open connections close (calls in flight as for `setServer`). */
  setSession(session: SessionState): void {
    this.#router.setSession(session);
  }

  /** The session as it stands (the home sender's live key, salt and id included). */
  currentSession(): SessionState {
    return this.#router.currentSession();
  }

  /**
   * Closes every MTProto connection of this client. Calls in flight end as `rpc_timeout` (with
   * `maybe_executed` when they went out) and are not tried again; later calls connect anew.
   */
  closeConnections(): void {
    this.#closes++;
    this.#router.closeAll();
  }

  /**
   * Calls a TL function given in JSON form and returns the answer in JSON form. Throws
   * `TlEncodeError` for a malformed call; RPC errors and timeouts come back as objects. `overrides`
   * change the behaviour for this call only.
   */
  async call(request: TlObject, overrides: Partial<ClientBehaviour> = {}): Promise<CallResult> {
    const own = Object.keys(overrides).length > 0;
    const behaviour = own ? { ...this.behaviour, ...overrides } : this.behaviour;
    const context = {
      deadline: this.clock.now() + behaviour.timeoutSeconds * 1000,
      behaviour,
      connectFailures: 0,
      closes: this.#closes,
    };
    const body = this.#input.encode(request);
    const resultType = this.#input.resultType(request) ?? "Object";
    const output = overrides.longsAsStrings === undefined ||
        overrides.longsAsStrings === this.behaviour.longsAsStrings
      ? this.#output
      : this.#jsonCodec(overrides.longsAsStrings);
    try {
      return await this.#callOn(
        this.session.dc,
        request,
        body,
        this.#decoder(output, resultType),
        0,
        context,
      );
    } catch (error) {
      if (!(error instanceof RequestTimeoutError)) throw error;
      const waited = `no answer from Telegram within ${behaviour.timeoutSeconds} s`;
      return {
        _cons: "rpc_timeout",
        // Which step got no answer: the TCP connect, the key exchange, the first call, …
        error_message: error instanceof CallCutOffError
          ? error.message
          : error.waitingFor
          ? `${waited}: ${error.waitingFor}`
          : waited,
        // False only when the request never left this process: then it surely did not run.
        maybe_executed: error.maybeExecuted,
      };
    }
  }

  /** Decodes an answer with a result type: JSON form for clients, native for the client's own calls. */
  #decoder(codec: TlCodec, resultType: string): (answer: Uint8Array) => CallResult {
    return (answer) => codec.decodeResult(answer, resultType) as CallResult;
  }

  /**
   * The calls the router makes for itself (config, exported authorizations), decoded natively
   * (bigint longs, Uint8Array bytes), under the deadline of the call that needed them.
   */
  #internalCalls(context: CallContext): DcCall {
    // On the main connections, even when a file call needed them.
    const main = context.slot === undefined ? context : { ...context, slot: undefined };
    return async (dc, request, resultType) =>
      await this.#callOn(
        dc,
        request,
        this.#input.encode(request),
        this.#decoder(this.#input, resultType),
        0,
        main,
      );
  }

  /**
   * `value` (any boxed TL object in JSON form, as a client sent or received it) in native form:
   * bigint longs, Uint8Array bytes — what {@link Client.callFile} takes. Throws the codec's
   * `TlEncodeError` for an object that does not fit the schema.
   */
  native(value: TlObject): TlObject {
    return this.#input.decode(this.#input.encode(value));
  }

  /**
   * A call of the file machinery: `request` in native form (bigint longs, Uint8Array bytes) on
   * DC `dc` over its file connection `slot` (apart from the account's main connection, on the
   * DC's media address when it has one), without updates, answered natively. Migrations and
   * exported authorizations are followed as for any call; RPC errors are thrown as `RpcError`,
   * FLOOD_WAIT included (the caller paces all its parts by it), and a call with no answer in
   * `timeoutSeconds` as `RequestTimeoutError`.
   */
  async callFile(
    dc: number,
    slot: number,
    request: TlObject,
    timeoutSeconds = this.behaviour.timeoutSeconds,
  ): Promise<TlObject> {
    const behaviour = { ...this.behaviour, floodWaitThreshold: 0 };
    const context: CallContext = {
      deadline: this.clock.now() + timeoutSeconds * 1000,
      behaviour,
      connectFailures: 0,
      closes: this.#closes,
      slot,
    };
    const wrapped = { _cons: "invokeWithoutUpdates", query: request };
    const resultType = this.#input.resultType(request) ?? "Object";
    const result = await this.#callOn(
      dc,
      wrapped,
      this.#input.encode(wrapped),
      this.#decoder(this.#input, resultType),
      0,
      context,
    );
    if (result._cons === "rpc_error") {
      throw new RpcError(result.error_code as number, result.error_message as string);
    }
    return result;
  }

  /** Sends on DC `dc` and applies the retry policy; throws RequestTimeoutError past the deadline. */
  async #callOn(
    dc: number,
    request: TlObject,
    body: Uint8Array,
    decode: (answer: Uint8Array) => CallResult,
    attempt: number,
    context: CallContext,
  ): Promise<CallResult> {
    const left = () => context.deadline - this.clock.now();
    if (context.closes !== this.#closes) {
      // The owner closed the client while this call waited to be tried again.
      throw new CallCutOffError(
        "the connection to Telegram was closed before an answer came",
        attempt > 0,
      );
    }
    if (left() <= 0) throw new RequestTimeoutError("the deadline passed", attempt > 0);
    const home = this.session.dc;
    const internal = this.#internalCalls(context);
    const sender = context.slot === undefined
      ? await this.#router.senderFor(dc, internal)
      : await this.#router.fileSenderFor(dc, context.slot, internal);
    const wrapped = this.#init.wrap(
      sender,
      request,
      body,
      this.app.apiId ?? this.session.apiId,
      context.behaviour.autoInit,
    );
    let answer: Uint8Array;
    try {
      answer = await sender.invoke(wrapped, Math.max(1, left()));
    } catch (error) {
      if (error instanceof RpcError) {
        return { _cons: "rpc_error", error_code: error.code, error_message: error.errorMessage };
      }
      const unsent = error instanceof ConnectionFailedError ||
        error instanceof ConnectTimeoutError ||
        ((error instanceof RequestTimeoutError || error instanceof SenderClosedError) &&
          !error.maybeExecuted);
      // initConnection did not go out with it: the next call on this connection carries it.
      if (unsent && wrapped !== body) this.#init.forget(sender);
      if (error instanceof ConnectionFailedError || error instanceof ConnectTimeoutError) {
        // Refused, reset, closed during the key exchange, …: the request did not go out; try
        // again after a wait, as after any dropped connection, while the deadline allows.
        const decision = decideReconnect(error, context.connectFailures++, left());
        // Not logged: `signin` prints the log, and a failure that heals is not worth a line.
        if (decision.action !== "wait") throw error;
        await this.clock.sleep(decision.ms);
        return await this.#callOn(dc, request, body, decode, attempt, context);
      }
      if (error instanceof SenderClosedError) {
        if (!this.#router.replaced(sender)) {
          throw new CallCutOffError(
            "the connection to Telegram was closed before an answer came",
            error.maybeExecuted || attempt > 0,
          );
        }
        if (error.maybeExecuted) {
          throw new CallCutOffError(
            "the server was changed while the call was in flight: it may have run on the " +
              "previous server, whose answer will not come",
            true,
          );
        }
        // It never went out: the new server (or home DC) gets it, as if it had been made now.
        const target = dc === home ? this.session.dc : dc;
        return await this.#callOn(target, request, body, decode, attempt, context);
      }
      // A non-home DC that lost our key: the next try creates a new one and imports the
      // authorization again (see DcRouter's #senderLost).
      if (error instanceof AuthKeyUnknownError && dc !== this.session.dc && attempt < 3) {
        await this.#router.authorize(dc, internal);
        return await this.#callOn(dc, request, body, decode, attempt + 1, context);
      }
      throw error;
    }
    const error = this.#rpcError(answer);
    if (!error) {
      if (dc === this.session.dc) this.#router.noteSignIn(request, answer);
      return decode(answer);
    }
    // Another DC still knows our key but not the account under it (the authorization there was
    // revoked or expired): export it again, once per call, and try again.
    if (
      error.code === 401 && error.errorMessage === "AUTH_KEY_UNREGISTERED" &&
      dc !== this.session.dc && this.session.userId !== undefined &&
      !context.reauthorized?.has(dc)
    ) {
      (context.reauthorized ??= new Set()).add(dc);
      this.#router.unauthorize(dc);
      await this.#router.authorize(dc, internal);
      return await this.#callOn(dc, request, body, decode, attempt + 1, context);
    }
    const decision = decideRetry(error, attempt, context.behaviour);
    if (decision.action === "wait" && decision.ms < left()) {
      this.#log(`${decision.reason}: waiting ${decision.ms} ms, then retrying ${request._cons}`);
      await this.clock.sleep(decision.ms);
      return await this.#callOn(dc, request, body, decode, attempt + 1, context);
    }
    if (decision.action === "migrate" && !decision.home) {
      await this.#router.authorize(decision.dc, internal);
      return await this.#callOn(decision.dc, request, body, decode, attempt + 1, context);
    }
    if (decision.action === "migrate") {
      this.#log(`${error.errorMessage}: the account's home is DC ${decision.dc}`);
      await this.#router.moveHome(decision.dc, internal);
      return await this.#callOn(decision.dc, request, body, decode, attempt + 1, context);
    }
    return { _cons: "rpc_error", error_code: error.code, error_message: error.errorMessage };
  }

  #rpcError(answer: Uint8Array): RpcError | undefined {
    if (
      answer.length < 4 ||
      new DataView(answer.buffer, answer.byteOffset, 4).getUint32(0, true) !== 0x2144ca19
    ) {
      return undefined;
    }
    const value = this.#input.decode(answer);
    return new RpcError(value.error_code as number, value.error_message as string);
  }

  #log(line: string): void {
    this.#options.log?.(line);
  }
}
