/**
 * What a client is built from and what one call carries: the automatic behaviours (switchable
 * per connection), the client's options, and a call's own deadline and state.
 *
 * @module
 */

import type { Clock } from "../io/clock.ts";
import type { RandomSource } from "../crypto/random.ts";
import type { TlObject } from "../tl/codec.ts";
import type { TlSchema } from "../tl/schema.ts";
import { RequestTimeoutError } from "../net/sender.ts";
import type { TransportOptions } from "../transport/transport.ts";
import type { ClientEvent } from "./dc_router.ts";
import type { AppIdentity } from "./init_connection.ts";
import type { ServerTarget, SessionState } from "./session_json.ts";

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
  /** Time and timers (deadlines, waits before a retry, the senders'); the platform's by default. */
  clock?: Clock;
  /** Called with each update, already decoded in the JSON form, and the DC that pushed it. */
  onUpdate?: (update: TlObject, dc: number) => void;
  /**
   * Called when updates pushed by the home DC may have been missed: the connection was
   * re-established, or the server started a new session.
   */
  onMissedUpdates?: () => void;
  /** Called with events about the client itself, e.g. `{type: "session_dead", reason}`. */
  onEvent?: (event: ClientEvent) => void;
  /** Called when the session gained or lost something worth storing (a key on another DC). */
  onSessionChanged?: () => void;
  log?: (line: string) => void;
}

/** The result of a call: a TL object in JSON form, `rpc_error` and `rpc_timeout` included. */
export type CallResult = TlObject;

/** One call's own limits: its deadline and the behaviour it runs with. */
export interface CallContext {
  deadline: number;
  behaviour: ClientBehaviour;
  /** Connection failures met so far (refused, reset, …), for the backoff between tries. */
  connectFailures: number;
  /**
   * Why the last try failed to connect, in words: what the answer names when the deadline passes
   * while waiting to try again.
   */
  lastConnectFailure?: string;
  /** `closeConnections` calls when the call began: one more means its owner closed the client. */
  closes: number;
  /** The DCs this call already exported the authorization to again (once each is enough). */
  reauthorized?: Set<number>;
  /** A file call: which of the DC's file connections it goes on (see `callFile`). */
  slot?: number;
  /** The call goes to a CDN DC (on its connection `slot`). */
  cdn?: boolean;
}

/**
 * A call that will get no answer because its connection was closed under it (the owner closed
 * the client, or switched server after the call went out). It reaches the caller as
 * `rpc_timeout` with this message, not as an error.
 */
export class CallCutOffError extends RequestTimeoutError {}
