/**
 * A Telegram client for one JSON connection (or one `signin` run): the target server, the
 * session (auth key, home DC, user), one MTProto sender per DC it needs, and what it does without
 * being asked — `invokeWithLayer(initConnection(...))` around the first call of each connection,
 * short FLOOD_WAITs waited out, `*_MIGRATE_X` followed (exporting the authorization to non-home
 * DCs), and `rpc_timeout` after the timeout. Clients share nothing with each other.
 *
 * @module
 */

import { RpcError } from "../errors.ts";
import { decideReconnect, decideRetry } from "./retry_policy.ts";
import { type RandomSource, secureRandom } from "../crypto/random.ts";
import { parsePublicKeyPem, publicKeyToPem, type RsaPublicKey } from "../crypto/rsa.ts";
import { TELEGRAM_PUBLIC_KEYS } from "../crypto/public_keys.ts";
import { isTlObject, sharedCodec, type TlCodec, type TlObject } from "../tl/codec.ts";
import type { TlSchema } from "../tl/schema.ts";
import {
  AuthKeyUnknownError,
  ConnectionFailedError,
  ConnectTimeoutError,
  RequestTimeoutError,
  Sender,
  SenderClosedError,
} from "../net/sender.ts";
import { parseTransport, transportName, type TransportOptions } from "../transport/transport.ts";

/** Where the client connects: one DC's address, its keys, and whether it is a test DC. */
export interface ServerTarget {
  host: string;
  port: number;
  dc: number;
  publicKeys: RsaPublicKey[];
  test: boolean;
  /** Framing and obfuscation; obfuscated intermediate when not given. */
  transport?: TransportOptions;
  /**
   * Perfect forward secrecy: every connection encrypts under a temporary key bound to the
   * session's permanent key (renewed before it expires); the permanent key never encrypts a
   * message.
   */
  pfs?: boolean;
}

/** How long a temporary key lives with PFS (a day, as Telegram's own apps use). */
export const TEMP_KEY_SECONDS = 24 * 60 * 60;

/** Telegram's production DC 2 with Telegram's published keys: the default target. */
export function defaultServer(): ServerTarget {
  return {
    host: "149.154.167.50",
    port: 443,
    dc: 2,
    publicKeys: TELEGRAM_PUBLIC_KEYS.production.map(parsePublicKeyPem),
    test: false,
  };
}

/** What the client keeps of a session, enough to resume it. */
export interface SessionState {
  authKey?: Uint8Array;
  sessionId?: bigint;
  salt?: bigint;
  dc: number;
  userId?: number;
  /** The api_id the session was created with, used for initConnection when no other is given. */
  apiId?: number;
}

/** The identity sent in initConnection. */
export interface AppIdentity {
  apiId?: number;
  apiHash?: string;
  deviceModel: string;
  systemVersion: string;
  appVersion: string;
  langCode: string;
}

/** The automatic behaviours, each switchable per connection. */
export interface ClientBehaviour {
  /** Wrap the first call of each MTProto connection in invokeWithLayer(initConnection). */
  autoInit: boolean;
  /** FLOOD_WAITs up to this many seconds are waited out and retried. */
  floodWaitThreshold: number;
  /** Follow *_MIGRATE_X errors to the right DC. */
  followMigrations: boolean;
  /** Answer rpc_timeout after this many seconds, counted from the call (connecting included). */
  timeoutSeconds: number;
  /** Deadline for opening a connection and creating its key, in seconds. */
  connectTimeoutSeconds: number;
  /** Print `long` values as decimal strings. */
  longsAsStrings: boolean;
}

/** Everything a client is built from. */
export interface ClientOptions {
  schema: TlSchema;
  server?: ServerTarget;
  session?: SessionState;
  app: AppIdentity;
  behaviour?: Partial<ClientBehaviour>;
  transport?: TransportOptions;
  random?: RandomSource;
  /** Called with each update, already decoded in the JSON form, and the DC that pushed it. */
  onUpdate?: (update: TlObject, dc: number) => void;
  /**
   * Called when updates pushed by the home DC may have been missed: the connection was
   * re-established, or the server started a new session.
   */
  onMissedUpdates?: () => void;
  /** Called with events about the client itself, e.g. `{type: "session_dead", reason}`. */
  onEvent?: (event: ClientEvent) => void;
  log?: (line: string) => void;
}

/** The result of a call: a TL object in JSON form, `rpc_error` and `rpc_timeout` included. */
export type CallResult = TlObject;

/** Something the client tells its owner unasked. */
export type ClientEvent =
  /** The home DC no longer knows the signed-in account's key: calls fail until a new sign-in. */
  { type: "session_dead"; reason: string; dc: number };

/** One call's own limits: its deadline and the behaviour it runs with. */
interface CallContext {
  deadline: number;
  behaviour: ClientBehaviour;
  /** Connection failures met so far (refused, reset, …), for the backoff between tries. */
  connectFailures: number;
  /** `closeConnections` calls when the call began: one more means its owner closed the client. */
  closes: number;
}

/**
 * A call that will get no answer because its connection was closed under it (the owner closed
 * the client, or switched server after the call went out). It reaches the caller as
 * `rpc_timeout` with this message, not as an error.
 */
class CallCutOffError extends RequestTimeoutError {}

const WRAPPERS = new Set(["invokeWithLayer", "initConnection"]);
/** MTProto's own functions: answered by the protocol layer, never wrapped in initConnection. */
/** Calls whose success means the session now acts for a user. */
const SIGN_IN_METHODS = new Set([
  "auth.signIn",
  "auth.signUp",
  "auth.checkPassword",
  "auth.importAuthorization",
  "auth.importBotAuthorization",
]);
const SERVICE_FUNCTIONS = new Set([
  "ping",
  "ping_delay_disconnect",
  "get_future_salts",
  "destroy_session",
  "destroy_auth_key",
  "rpc_drop_answer",
  "http_wait",
  "req_pq",
  "req_pq_multi",
  "req_DH_params",
  "set_client_DH_params",
]);

/** One client. */
export class Client {
  readonly schema: TlSchema;
  readonly #input: TlCodec;
  #output: TlCodec;
  server: ServerTarget;
  session: SessionState;
  readonly app: AppIdentity;
  behaviour: ClientBehaviour;
  readonly #senders = new Map<number, Sender>();
  /** Senders closed because the server, the session or the home DC changed: their calls move. */
  readonly #replaced = new WeakSet<Sender>();
  /** How many times `closeConnections` was called (the owner closing, not a switch). */
  #closes = 0;
  readonly #initialized = new WeakSet<Sender>();
  readonly #authorizedDcs = new Set<number>();
  #dcAddresses?: Map<number, { host: string; port: number }>;
  readonly #options: ClientOptions;

  /** Creates a client; nothing connects until the first call. */
  constructor(options: ClientOptions) {
    this.#options = options;
    this.schema = options.schema;
    this.#input = sharedCodec(options.schema, { defaultHashes: true });
    this.server = options.server ?? defaultServer();
    this.session = options.session ?? { dc: this.server.dc };
    this.app = options.app;
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
    this.server = server;
    this.session = { ...this.session, dc: server.dc };
    this.#dcAddresses = undefined;
    this.#replaceConnections();
  }

  /** Loads a session; open connections close (calls in flight as for `setServer`). */
  setSession(session: SessionState): void {
    this.session = session;
    this.#authorizedDcs.clear();
    if (session.userId !== undefined) this.#authorizedDcs.add(session.dc);
    this.#replaceConnections();
  }

  /** Closes every connection for a switch: calls in flight on them move on, see `setServer`. */
  #replaceConnections(): void {
    for (const sender of this.#senders.values()) {
      this.#replaced.add(sender);
      sender.close();
    }
    this.#senders.clear();
  }

  /** The session as it stands (the home sender's live key, salt and id included). */
  currentSession(): SessionState {
    const home = this.#senders.get(this.session.dc);
    if (home?.session) {
      this.session.authKey = home.authKey;
      // With PFS the session id and salt belong to the temporary key: not worth keeping.
      if (!this.server.pfs) {
        this.session.sessionId = home.session.sessionId;
        this.session.salt = home.session.salt;
      }
    }
    return this.session;
  }

  /**
   * Closes every MTProto connection of this client. Calls in flight end as `rpc_timeout` (with
   * `maybe_executed` when they went out) and are not tried again; later calls connect anew.
   */
  closeConnections(): void {
    this.#closes++;
    for (const sender of this.#senders.values()) sender.close();
    this.#senders.clear();
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
      deadline: Date.now() + behaviour.timeoutSeconds * 1000,
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

  /** A call the client makes for itself, decoded natively (bigint longs, Uint8Array bytes). */
  async #internalCall(
    dc: number,
    request: TlObject,
    resultType: string,
    context: CallContext,
  ): Promise<CallResult> {
    return await this.#callOn(
      dc,
      request,
      this.#input.encode(request),
      this.#decoder(this.#input, resultType),
      0,
      context,
    );
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
    const left = () => context.deadline - Date.now();
    if (context.closes !== this.#closes) {
      // The owner closed the client while this call waited to be tried again.
      throw new CallCutOffError(
        "the connection to Telegram was closed before an answer came",
        attempt > 0,
      );
    }
    if (left() <= 0) throw new RequestTimeoutError("the deadline passed", attempt > 0);
    const home = this.session.dc;
    const sender = await this.#senderFor(dc, context);
    const wrapped = this.#wrapInit(sender, request, body, context.behaviour);
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
      if (unsent && wrapped !== body) this.#initialized.delete(sender);
      if (error instanceof ConnectionFailedError || error instanceof ConnectTimeoutError) {
        // Refused, reset, closed during the key exchange, …: the request did not go out; try
        // again after a wait, as after any dropped connection, while the deadline allows.
        const decision = decideReconnect(error, context.connectFailures++, left());
        // Not logged: `signin` prints the log, and a failure that heals is not worth a line.
        if (decision.action !== "wait") throw error;
        await new Promise((resolve) => setTimeout(resolve, decision.ms));
        return await this.#callOn(dc, request, body, decode, attempt, context);
      }
      if (error instanceof SenderClosedError) {
        if (!this.#replaced.has(sender)) {
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
      // authorization again (see #senderLost).
      if (error instanceof AuthKeyUnknownError && dc !== this.session.dc && attempt < 3) {
        await this.#authorize(dc, context);
        return await this.#callOn(dc, request, body, decode, attempt + 1, context);
      }
      throw error;
    }
    const error = this.#rpcError(answer);
    if (!error) {
      if (dc === this.session.dc) this.#noteSignIn(request, answer);
      return decode(answer);
    }
    const decision = decideRetry(error, attempt, context.behaviour);
    if (decision.action === "wait" && decision.ms < left()) {
      this.#log(`${decision.reason}: waiting ${decision.ms} ms, then retrying ${request._cons}`);
      await new Promise((resolve) => setTimeout(resolve, decision.ms));
      return await this.#callOn(dc, request, body, decode, attempt + 1, context);
    }
    if (decision.action === "migrate" && !decision.home) {
      await this.#authorize(decision.dc, context);
      return await this.#callOn(decision.dc, request, body, decode, attempt + 1, context);
    }
    if (decision.action === "migrate") {
      const target = decision.dc;
      this.#log(`${error.errorMessage}: the account's home is DC ${target}`);
      const address = await this.#addressOf(target, context);
      const previous = this.#senders.get(this.session.dc);
      if (previous) {
        // Calls in flight there move to the new home DC (or end as maybe executed).
        this.#replaced.add(previous);
        previous.close();
      }
      this.#senders.delete(this.session.dc);
      // The home DC becomes the target: sessions printed from now on point at it.
      this.server = { ...this.server, ...address, dc: target };
      this.session = { dc: target };
      this.#authorizedDcs.clear();
      return await this.#callOn(target, request, body, decode, attempt + 1, context);
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

  /** Remembers who signed in, so the session can be resumed and exported to other DCs. */
  #noteSignIn(request: TlObject, answer: Uint8Array): void {
    let call = request;
    while (WRAPPERS.has(call._cons) && isTlObject(call.query ?? call._wrapped)) {
      call = (call.query ?? call._wrapped) as TlObject;
    }
    if (!SIGN_IN_METHODS.has(call._cons)) return;
    const value = this.#input.decode(answer);
    if (value._cons !== "auth.authorization" || !isTlObject(value.user)) return;
    this.session.userId = Number(value.user.id);
    this.#authorizedDcs.add(this.session.dc);
  }

  /** Wraps the first call on a connection in invokeWithLayer(initConnection) when it can. */
  #wrapInit(
    sender: Sender,
    request: TlObject,
    body: Uint8Array,
    behaviour: ClientBehaviour,
  ): Uint8Array {
    if (this.#initialized.has(sender)) return body;
    if (WRAPPERS.has(request._cons)) {
      this.#initialized.add(sender);
      return body;
    }
    if (SERVICE_FUNCTIONS.has(request._cons)) return body;
    const apiId = this.app.apiId ?? this.session.apiId;
    if (!behaviour.autoInit || apiId === undefined) return body;
    this.#initialized.add(sender);
    return this.#input.encode({
      _cons: "invokeWithLayer",
      layer: this.schema.layer ?? 0,
      query: this.#initConnection(request),
    });
  }

  #initConnection(query: TlObject): TlObject {
    return {
      _cons: "initConnection",
      api_id: this.app.apiId ?? this.session.apiId,
      device_model: this.app.deviceModel,
      system_version: this.app.systemVersion,
      app_version: this.app.appVersion,
      system_lang_code: this.app.langCode,
      lang_pack: "",
      lang_code: this.app.langCode,
      query,
    };
  }

  async #senderFor(dc: number, context: CallContext): Promise<Sender> {
    const existing = this.#senders.get(dc);
    if (existing && !existing.closed) return existing;
    const address = dc === this.server.dc
      ? { host: this.server.host, port: this.server.port }
      : await this.#addressOf(dc, context);
    // A session line gives the key; the session itself is always new, so that several
    // connections loading one line never share a session_id (their msg_ids would collide).
    const resume = dc === this.session.dc && this.session.authKey;
    const sender: Sender = new Sender({
      host: address.host,
      port: address.port,
      dcId: this.server.test ? dc + 10000 : dc,
      publicKeys: this.server.publicKeys,
      transport: this.server.transport ?? this.#options.transport ??
        { kind: "intermediate", obfuscated: true },
      codec: this.#input,
      random: this.#options.random ?? secureRandom,
      connectTimeoutMs: this.behaviour.connectTimeoutSeconds * 1000,
      ...(resume
        ? {
          authKey: this.session.authKey,
          ...(this.session.salt !== undefined ? { salt: this.session.salt } : {}),
        }
        : {}),
      ...(this.server.pfs ? { tempKeySeconds: TEMP_KEY_SECONDS } : {}),
      onUpdate: (bytes) => {
        try {
          this.#options.onUpdate?.(this.#output.decode(bytes), dc);
        } catch (error) {
          this.#log(`an update could not be decoded: ${(error as Error).message}`);
        }
      },
      // A new session needs initConnection again.
      onNewSession: () => {
        this.#initialized.delete(sender);
        if (dc === this.session.dc) this.#options.onMissedUpdates?.();
      },
      onReconnect: () => {
        if (dc === this.session.dc) this.#options.onMissedUpdates?.();
      },
      onAuthKeyUnknown: () => this.#senderLost(dc, sender),
      ...(this.#options.log ? { log: this.#options.log } : {}),
    });
    this.#senders.set(dc, sender);
    return sender;
  }

  /**
   * A DC answered -404: it does not know the key. On another DC a new key is made on the next
   * call and the authorization imported again. On the home DC the account's authorization went
   * with the key: the owner is told the session is dead, and the next call starts a new key.
   */
  #senderLost(dc: number, sender: Sender): void {
    if (this.#senders.get(dc) === sender) this.#senders.delete(dc);
    if (dc !== this.session.dc) {
      this.#authorizedDcs.delete(dc);
      return;
    }
    const signedIn = this.session.userId !== undefined;
    this.session = {
      dc: this.session.dc,
      ...(this.session.apiId ? { apiId: this.session.apiId } : {}),
    };
    this.#authorizedDcs.clear();
    if (signedIn) {
      this.#options.onEvent?.({ type: "session_dead", reason: "AUTH_KEY_UNKNOWN", dc });
    }
  }

  /** Finds a DC's address from help.getConfig, asked of the home DC once. */
  async #addressOf(dc: number, context: CallContext): Promise<{ host: string; port: number }> {
    if (!this.#dcAddresses) {
      const home = this.session.dc === dc ? this.server.dc : this.session.dc;
      const config = await this.#internalCall(
        home,
        { _cons: "help.getConfig" },
        "Config",
        context,
      );
      if (config._cons !== "config") {
        throw new RpcError(500, `DC_ADDRESS_UNKNOWN: help.getConfig answered ${config._cons}`);
      }
      this.#dcAddresses = new Map();
      for (const option of config.dc_options as TlObject[]) {
        if (option.ipv6 || option.media_only || option.cdn || option.tcpo_only) continue;
        if (!this.#dcAddresses.has(option.id as number)) {
          this.#dcAddresses.set(option.id as number, {
            host: option.ip_address as string,
            port: option.port as number,
          });
        }
      }
    }
    const address = this.#dcAddresses.get(dc);
    if (!address) throw new RpcError(400, `DC_ID_INVALID: no address for DC ${dc}`);
    return address;
  }

  /** Makes a non-home DC act for the signed-in user: export there, import here. */
  async #authorize(dc: number, context: CallContext): Promise<void> {
    if (this.#authorizedDcs.has(dc) || this.session.userId === undefined) return;
    const exported = await this.#internalCall(
      this.session.dc,
      { _cons: "auth.exportAuthorization", dc_id: dc },
      "auth.ExportedAuthorization",
      context,
    );
    if (exported._cons !== "auth.exportedAuthorization") return;
    await this.#internalCall(
      dc,
      { _cons: "auth.importAuthorization", id: exported.id, bytes: exported.bytes },
      "auth.Authorization",
      context,
    );
    this.#authorizedDcs.add(dc);
  }

  #log(line: string): void {
    this.#options.log?.(line);
  }
}

/** Reads the JSON `server` object: host, port, dc, rsa (PEM), test, transport, pfs. */
export function serverFromJson(
  value: Record<string, unknown>,
  current: ServerTarget,
): ServerTarget {
  const server = { ...current };
  if (value.host !== undefined) {
    if (typeof value.host !== "string" || !value.host) {
      throw new TypeError("server.host must be a host name or address");
    }
    server.host = value.host;
  }
  if (value.port !== undefined) {
    if (
      !Number.isInteger(value.port) || (value.port as number) < 1 || (value.port as number) > 65535
    ) {
      throw new TypeError("server.port must be a port number");
    }
    server.port = value.port as number;
  }
  if (value.dc !== undefined) {
    if (!Number.isInteger(value.dc) || (value.dc as number) < 1 || (value.dc as number) > 1000) {
      throw new TypeError(`server.dc must be a DC number (1 or more), got ${value.dc}`);
    }
    server.dc = value.dc as number;
  }
  if (value.test !== undefined) server.test = value.test === true;
  if (value.transport !== undefined) {
    if (typeof value.transport !== "string") throw new TypeError("server.transport must be a name");
    server.transport = parseTransport(value.transport);
  }
  if (value.pfs !== undefined) {
    if (typeof value.pfs !== "boolean") throw new TypeError("server.pfs must be true or false");
    server.pfs = value.pfs;
  }
  if (value.rsa !== undefined) {
    const pems = Array.isArray(value.rsa) ? value.rsa : [value.rsa];
    server.publicKeys = pems.map((pem) => {
      if (typeof pem !== "string") throw new TypeError("server.rsa must be a PEM public key");
      return parsePublicKeyPem(pem);
    });
  }
  return server;
}

/** Writes the JSON `server` object. */
export function serverToJson(server: ServerTarget): Record<string, unknown> {
  return {
    host: server.host,
    port: server.port,
    dc: server.dc,
    test: server.test,
    rsa: publicKeyToPem(server.publicKeys[0]),
    ...(server.transport ? { transport: transportName(server.transport) } : {}),
    ...(server.pfs ? { pfs: true } : {}),
  };
}

/** Reads the JSON `session` object; the original `{"auth_key", "session_id"}` form included. */
export function sessionFromJson(value: Record<string, unknown>, currentDc: number): SessionState {
  const session: SessionState = { dc: currentDc };
  if (value.auth_key !== undefined) {
    if (typeof value.auth_key !== "string") throw new TypeError("session.auth_key must be base64");
    const key = Uint8Array.fromBase64(value.auth_key);
    if (key.length !== 256) {
      throw new TypeError(`session.auth_key must be 256 bytes, got ${key.length}`);
    }
    session.authKey = key;
  }
  // Older sessions wrote ids as unsigned or even wider numbers; keep their low 64 bits.
  const long = (name: string, value: unknown) => {
    if (value === undefined) return undefined;
    // What sessionToJson wrote, not yet through JSON text: a bigint or JSON.rawJSON digits.
    const text = typeof value === "bigint"
      ? value.toString()
      : typeof value === "object" && value !== null && "rawJSON" in value
      ? String((value as { rawJSON: unknown }).rawJSON)
      : value;
    if (typeof text === "number" && Number.isInteger(text)) return BigInt.asIntN(64, BigInt(text));
    if (typeof text === "string" && /^-?\d+$/.test(text)) return BigInt.asIntN(64, BigInt(text));
    throw new TypeError(`session.${name} must be an integer`);
  };
  const sessionId = long("session_id", value.session_id);
  if (sessionId !== undefined) session.sessionId = sessionId;
  const salt = long("salt", value.salt);
  if (salt !== undefined) session.salt = salt;
  if (value.dc !== undefined) {
    if (!Number.isInteger(value.dc) || (value.dc as number) < 1 || (value.dc as number) > 1000) {
      throw new TypeError(`session.dc must be a DC number (1 or more), got ${value.dc}`);
    }
    session.dc = value.dc as number;
  }
  if (value.user_id !== undefined) {
    if (!Number.isSafeInteger(Number(value.user_id))) {
      throw new TypeError("session.user_id must be a user id");
    }
    session.userId = Number(value.user_id);
  }
  if (value.api_id !== undefined) {
    if (!Number.isInteger(value.api_id)) throw new TypeError("session.api_id must be a number");
    session.apiId = value.api_id as number;
  }
  return session;
}

/** Writes the JSON `session` object. */
export function sessionToJson(
  session: SessionState,
  server: ServerTarget,
): Record<string, unknown> {
  return {
    ...(session.authKey ? { auth_key: session.authKey.toBase64() } : {}),
    ...(session.sessionId !== undefined ? { session_id: rawLong(session.sessionId) } : {}),
    ...(session.salt !== undefined ? { salt: rawLong(session.salt) } : {}),
    dc: session.dc,
    ...(session.userId !== undefined ? { user_id: session.userId } : {}),
    ...(session.apiId !== undefined ? { api_id: session.apiId } : {}),
    server: serverToJson(server),
  };
}

function rawLong(value: bigint): unknown {
  return (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(value.toString());
}
