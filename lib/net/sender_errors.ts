/**
 * The errors a sender reports, each with a stable name that reaches the JSON client, and the
 * steps of opening a connection that they name.
 *
 * @module
 */

import { Mtproto2jsonError } from "../errors.ts";

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
