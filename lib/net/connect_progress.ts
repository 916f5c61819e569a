/**
 * How far the sender's current (or next) connection has come, and that step in words: the
 * sender's timeouts and failures name the address and the step that got no answer, so that a
 * user can tell a blocked port from a server that stopped mid-handshake.
 *
 * @module
 */

import { Mtproto2jsonError } from "../errors.ts";
import { ConnectionFailedError, type ConnectStep } from "./sender_errors.ts";

/** The address a connection goes to; read at each message, as the sender's options are. */
export interface ConnectAddress {
  /** The host connected to. */
  host: string;
  /** Its port. */
  port: number;
  /** The DC it serves. */
  dcId: number;
  /** What it goes through (a proxy's redacted URL), when anything. */
  via?: string;
}

/** The step a connection is at, and the messages that name it. */
export class ConnectProgress {
  /** How far the connection has come. */
  step: ConnectStep = "tcp_connect";
  /** During the key exchange: the message waiting for its answer. */
  exchangeMessage = "req_pq_multi";
  /**
   * During the connect: what a connect that does more than TCP (a proxy's handshake) says it
   * waits for; cleared at each attempt.
   */
  connectWaiting?: string;

  /** Tracks a connection to `address`. */
  constructor(readonly address: ConnectAddress) {}

  /**
   * Which step the sender waits for, in words, for error messages: "the TCP connect to … got no
   * answer", "… accepted TCP but did not answer the key exchange (req_DH_params)", "… did not
   * answer the first call on a new connection", … `sent` says whether the request in question
   * went out (once it did, it is its answer that is missing).
   */
  waitingFor(sent = false): string {
    const at = this.#at();
    switch (this.step) {
      case "tcp_connect":
        return this.connectWaiting ?? `the TCP connect to ${at} got no answer`;
      case "key_exchange":
        return `${at} accepted TCP but did not answer the key exchange (${this.exchangeMessage})`;
      case "temp_key_binding":
        return `${at} did not answer the binding of a temporary key (auth.bindTempAuthKey)`;
      case "first_call":
        return `${at} is connected and has the key, but did not answer the first call`;
      case "answer":
        return sent ? `${at} did not answer this call` : `the call did not go out to ${at} in time`;
    }
  }

  /** Where a connection attempt is, as a phrase: "during the key exchange (req_DH_params)". */
  phrase(): string {
    switch (this.step) {
      case "tcp_connect":
        return "at the TCP connect";
      case "key_exchange":
        return `during the key exchange (${this.exchangeMessage})`;
      case "temp_key_binding":
        return "while binding a temporary key";
      default:
        return "before it was ready";
    }
  }

  /** The error for a server that closed the connection before it was ready. */
  closedEarly(): ConnectionFailedError {
    return new ConnectionFailedError(
      `${this.#at()} closed the connection ${this.phrase()}`,
      this.step,
    );
  }

  /**
   * A failure while opening as one of the documented errors: a socket error (reset, broken pipe,
   * …) becomes {@link ConnectionFailedError} naming the address and the step it happened at.
   */
  named(error: unknown): Error {
    if (error instanceof Mtproto2jsonError) return error;
    const reason = error instanceof Error ? error.message : String(error);
    return new ConnectionFailedError(
      `the connection to ${this.#at()} failed ${this.phrase()}: ${reason}`,
      this.step,
    );
  }

  #at(): string {
    const { host, port, dcId, via } = this.address;
    return `${host}:${port} (DC ${dcId})${via ? ` via ${via}` : ""}`;
  }
}
