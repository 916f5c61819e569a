/**
 * `invokeWithLayer(initConnection(...))` around the first call of each MTProto connection:
 * Telegram wants the app's identity and the API layer once per connection (and again after the
 * server starts a new session) before it answers in that layer.
 *
 * @module
 */

import type { Sender } from "../net/sender.ts";
import type { TlCodec, TlObject } from "../tl/codec.ts";

/** The identity sent in initConnection. */
export interface AppIdentity {
  apiId?: number;
  apiHash?: string;
  deviceModel: string;
  systemVersion: string;
  appVersion: string;
  langCode: string;
}

/** MTProto's own functions: answered by the protocol layer, never wrapped in initConnection. */
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

/**
 * Whether the caller set the connection up itself: a call that is already `invokeWithLayer(...)`
 * or `initConnection(...)` goes out as written, and counts as the connection's initialisation.
 */
function initializesItself(request: TlObject): boolean {
  return request._cons === "invokeWithLayer" || request._cons === "initConnection";
}

/**
 * The `initConnection` call that carries `query`, with the app's identity.
 *
 * @example
 * ```ts
 * import { initConnectionCall } from "./init_connection.ts";
 *
 * const app = { deviceModel: "pc", systemVersion: "linux", appVersion: "1.0", langCode: "en" };
 * const call = initConnectionCall(app, 12345, { _cons: "help.getConfig" });
 * console.assert(call._cons === "initConnection" && call.api_id === 12345);
 * ```
 */
export function initConnectionCall(
  app: AppIdentity,
  apiId: number | undefined,
  query: TlObject,
): TlObject {
  return {
    _cons: "initConnection",
    api_id: apiId,
    device_model: app.deviceModel,
    system_version: app.systemVersion,
    app_version: app.appVersion,
    system_lang_code: app.langCode,
    lang_pack: "",
    lang_code: app.langCode,
    query,
  };
}

/**
 * The connections that have sent initConnection, of every client: a sender belongs to one client,
 * so one set serves them all (a set per client cost ~140 B per idle connection through serve).
 */
const initialized = new WeakSet<Sender>();

/** Which connections have sent initConnection, and the wrapping of the first call on the others. */
export class ConnectionInit {
  readonly #codec: TlCodec;
  readonly #layer: number;
  readonly #app: AppIdentity;

  /** Wraps with `codec`, declaring `layer`, in the name of `app`. */
  constructor(codec: TlCodec, layer: number, app: AppIdentity) {
    this.#codec = codec;
    this.#layer = layer;
    this.#app = app;
  }

  /**
   * The bytes to send for `request` (encoded as `body`) on `sender`: wrapped in
   * `invokeWithLayer(initConnection(...))` when it is the connection's first call, `autoInit` is
   * on and an api_id is known; otherwise `body` itself.
   */
  wrap(
    sender: Sender,
    request: TlObject,
    body: Uint8Array,
    apiId: number | undefined,
    autoInit: boolean,
  ): Uint8Array {
    if (initialized.has(sender)) return body;
    if (initializesItself(request)) {
      initialized.add(sender);
      return body;
    }
    if (SERVICE_FUNCTIONS.has(request._cons)) return body;
    if (!autoInit || apiId === undefined) return body;
    initialized.add(sender);
    return this.#codec.encode({
      _cons: "invokeWithLayer",
      layer: this.#layer,
      query: initConnectionCall(this.#app, apiId, request),
    });
  }

  /**
   * Makes the next call on `sender` carry initConnection again: the server started a new session,
   * or the call that carried it never went out.
   */
  forget(sender: Sender): void {
    initialized.delete(sender);
  }
}
