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
import { sharedCodec, type TlCodec, type TlObject } from "../tl/codec.ts";
import type { TlSchema } from "../tl/schema.ts";
import { RequestTimeoutError } from "../net/sender.ts";
import { DcRouter } from "./dc_router.ts";
import { CallRunner } from "./call_runner.ts";
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
  /** Runs each call on its connection with the retry policy. */
  readonly #runner: CallRunner;
  /** How many times `closeConnections` was called (the owner closing, not a switch). */
  #closes = 0;
  readonly #options: ClientOptions;

  /** Creates a client; nothing connects until the first call. */
  constructor(options: ClientOptions) {
    this.#options = options;
    this.schema = options.schema;
    // Answers are decoded from freshly decrypted messages, never reused: a file part's bytes
    // can stay where they were decrypted.
    this.#input = sharedCodec(options.schema, { defaultHashes: true, largeBytesAsViews: true });
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
    this.#runner = new CallRunner({
      router: this.#router,
      init: this.#init,
      codec: this.#input,
      clock: this.clock,
      apiId: () => this.app.apiId ?? this.session.apiId,
      closes: () => this.#closes,
      log: (line) => this.#log(line),
    });
  }

  /** The server the client talks to; after a home-DC migration, the new home DC's address. */
  get server(): ServerTarget {
    return this.#router.server;
  }

  /** True while the connection to the home DC is up (a held account's readiness). */
  get connected(): boolean {
    return this.#router.homeConnected;
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
      return await this.#runner.run(
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
  callFile(
    dc: number,
    slot: number,
    request: TlObject,
    timeoutSeconds = this.behaviour.timeoutSeconds,
  ): Promise<TlObject> {
    return this.#callNative(dc, slot, { _cons: "invokeWithoutUpdates", query: request }, request, {
      ...this.behaviour,
      floodWaitThreshold: 0,
      timeoutSeconds,
    });
  }

  /**
   * `request` (natively) on connection `slot` to CDN DC `dc`: no account, no migrations; RPC
   * errors thrown as `RpcError`, no answer as `RequestTimeoutError`.
   */
  callCdn(
    dc: number,
    slot: number,
    request: TlObject,
    timeoutSeconds = this.behaviour.timeoutSeconds,
  ): Promise<TlObject> {
    return this.#callNative(dc, slot, request, request, {
      ...this.behaviour,
      floodWaitThreshold: 0,
      followMigrations: false,
      timeoutSeconds,
    }, true);
  }

  /**
   * `request` in native form on the account's main connection, answered natively; RPC errors
   * (after the client's own retries) are thrown as `RpcError`, no answer as `RequestTimeoutError`.
   */
  callNative(request: TlObject): Promise<TlObject> {
    return this.#callNative(this.session.dc, undefined, request, request, this.behaviour);
  }

  async #callNative(
    dc: number,
    slot: number | undefined,
    wrapped: TlObject,
    request: TlObject,
    behaviour: ClientBehaviour,
    cdn = false,
  ): Promise<TlObject> {
    const context: CallContext = {
      deadline: this.clock.now() + behaviour.timeoutSeconds * 1000,
      behaviour,
      connectFailures: 0,
      closes: this.#closes,
      ...(slot !== undefined ? { slot } : {}),
      ...(cdn ? { cdn } : {}),
    };
    const resultType = this.#input.resultType(request) ?? "Object";
    const result = await this.#runner.run(
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

  /**
   * `value` (native, or in JSON form) in the JSON form this client's connection prints: what a
   * client is answered with.
   */
  json(value: TlObject, longsAsStrings = this.behaviour.longsAsStrings): TlObject {
    return this.#jsonCodec(longsAsStrings).decode(this.#input.encode(value));
  }

  #log(line: string): void {
    this.#options.log?.(line);
  }
}
