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

/**
 * One interval per clock drives every keep-alive on it: a thousand idle connections cost one timer
 * firing five times a second instead of two thousand timers, a thousand of them firing five times
 * a second each (their callbacks' garbage grew an idle serve's heap).
 */
class Ticker {
  static readonly #byClock = new Map<Clock, Ticker>();
  readonly #clock: Clock;
  readonly #members = new Set<KeepAlive>();
  readonly #timer: TimerId;

  private constructor(clock: Clock) {
    this.#clock = clock;
    this.#timer = clock.setInterval(() => {
      const now = clock.now();
      // A member may stop (or stop another) in its turn; a copy keeps the walk simple.
      for (const member of [...this.#members]) member.tick(now);
    }, ACK_INTERVAL_MS);
  }

  /** Adds `member` to the ticker of `clock`, starting one when it is the first. */
  static join(clock: Clock, member: KeepAlive): void {
    let ticker = Ticker.#byClock.get(clock);
    if (!ticker) Ticker.#byClock.set(clock, ticker = new Ticker(clock));
    ticker.#members.add(member);
  }

  /** Removes `member`; the last one out stops the timer. */
  static leave(clock: Clock, member: KeepAlive): void {
    const ticker = Ticker.#byClock.get(clock);
    if (!ticker || !ticker.#members.delete(member) || ticker.#members.size > 0) return;
    clock.clearInterval(ticker.#timer);
    Ticker.#byClock.delete(clock);
  }
}

/** The ack and ping timers of one sender, run by the ticker its clock shares. */
export class KeepAlive {
  readonly #host: KeepAliveHost;
  #interval = 0;
  #nextPing = 0;

  /** Prepares the timers; nothing runs until `start`. */
  constructor(host: KeepAliveHost) {
    this.#host = host;
  }

  /** (Re)starts both timers, for a connection that just became ready. */
  start(): void {
    const host = this.#host;
    this.#interval = host.options.pingIntervalMs ?? 30000;
    this.#nextPing = host.clock.now() + this.#interval;
    Ticker.join(host.clock, this);
  }

  /** Stops both timers. */
  stop(): void {
    Ticker.leave(this.#host.clock, this);
  }

  /**
   * Called by the shared ticker every ACK_INTERVAL_MS: acks go out if any wait, and the ping once
   * it is due.
   */
  tick(now: number): void {
    const host = this.#host;
    if (host.session()?.hasOutgoing) host.flush();
    if (this.#interval > 0 && now >= this.#nextPing) {
      this.#nextPing = now + this.#interval;
      this.#ping(this.#interval);
    }
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
