/**
 * The sender's timers while a connection is up: acks go out on a short timer when nothing else
 * carries them, and pings keep the connection alive and find one that went half-open (no pong in
 * time drops it, so that the sender reconnects and resends).
 *
 * @module
 */

import type { ClientSession } from "../mtproto/session.ts";
import { RequestTimeoutError } from "./sender_errors.ts";
import type { SenderOptions } from "./sender_options.ts";
import type { ByteConnection } from "./tcp_connection.ts";
import type { Clock, TimerId } from "../io/clock.ts";

/** How often acks are flushed when nothing else goes out (milliseconds). */
const ACK_INTERVAL_MS = 200;

/** What the keep-alive needs from its sender. */
export interface KeepAliveHost {
  /** Runs the ack and ping timers. */
  clock: Clock;
  /** The sender's options, read when they are used: the codec and the ping's interval and deadline. */
  options: Pick<SenderOptions, "codec" | "pingIntervalMs" | "pingTimeoutMs">;
  /** The session in use, if any. */
  session(): ClientSession | undefined;
  /** The connection carrying requests, if any. */
  connection(): ByteConnection | undefined;
  /** Writes what the session has queued. */
  flush(): void;
  /** Sends a call and waits for its answer, or rejects at `timeoutMs`. */
  invoke(body: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** Writes a line to the sender's log. */
  log(line: string): void;
}

/** The ack and ping timers of one sender. */
export class KeepAlive {
  readonly #host: KeepAliveHost;
  #ackTimer?: TimerId;
  #pingTimer?: TimerId;

  /** Prepares the timers; nothing runs until `start`. */
  constructor(host: KeepAliveHost) {
    this.#host = host;
  }

  /** (Re)starts both timers, for a connection that just became ready. */
  start(): void {
    const host = this.#host;
    this.stop();
    this.#ackTimer = host.clock.setInterval(() => {
      if (host.session()?.hasOutgoing) host.flush();
    }, ACK_INTERVAL_MS);
    const interval = host.options.pingIntervalMs ?? 30000;
    if (interval > 0) {
      this.#pingTimer = host.clock.setInterval(() => this.#ping(interval), interval);
    }
  }

  /** Stops both timers. */
  stop(): void {
    this.#host.clock.clearInterval(this.#ackTimer);
    this.#host.clock.clearInterval(this.#pingTimer);
  }

  #ping(interval: number): void {
    const host = this.#host;
    const connection = host.connection();
    if (!host.session() || !connection) return;
    // ping_delay_disconnect asks the server to close the connection if we go silent.
    const body = host.options.codec.encode({
      _cons: "ping_delay_disconnect",
      ping_id: BigInt(Math.floor(host.clock.wall())),
      disconnect_delay: Math.ceil(interval / 1000) + 45,
    });
    host.invoke(body, host.options.pingTimeoutMs ?? 10_000).catch((error) => {
      // No pong: the connection is half-open or the server is stuck. Start over.
      if (error instanceof RequestTimeoutError && host.connection() === connection) {
        host.log(`no pong within the ping deadline: reconnecting`);
        connection.close();
      }
    });
  }
}
