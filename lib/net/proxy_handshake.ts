/**
 * What the SOCKS5 and HTTP CONNECT handshakes share: the TCP connect to the proxy, exact reads of
 * its replies (what it sends after its reply is kept for the stream), the step a failure names,
 * and giving up when the sender's attempt is aborted (its connect deadline, or a close), with the
 * proxy's socket closed on every path.
 *
 * Two errors: {@link ProxyError} when the proxy refuses (credentials, rules, a reply that is not
 * the protocol) — trying again would get the same answer; and {@link ProxyConnectionFailedError},
 * a `ConnectionFailed` like any unreachable DC (the proxy is down, closed the connection, or
 * could not reach the DC), retried while the call's deadline allows.
 *
 * @module
 */

import { Mtproto2jsonError } from "../errors.ts";
import { proxyLabel, type ProxySpec } from "./proxy_url.ts";
import { ConnectionFailedError } from "./sender_errors.ts";
import type { ConnectAttempt } from "./sender_options.ts";
import { type ByteConnection, connectTcp } from "./tcp_connection.ts";

/** The steps of going through a proxy, as errors and deadlines name them. */
export type ProxyStep = "connect to proxy" | "greeting" | "auth" | "connect request";

/** Opens a TCP connection (the platform's by default; tests may bring their own). */
export type TcpConnect = (host: string, port: number) => Promise<ByteConnection>;

/**
 * The proxy refused: bad or missing credentials, a destination its rules forbid, or a reply that
 * is not its protocol. Names the proxy (its URL redacted) and the step; not retried.
 */
export class ProxyError extends Mtproto2jsonError {
  override name = "ProxyError";
  /** Creates the error for `proxy` (its label, redacted) at `step`. */
  constructor(readonly proxy: string, readonly step: ProxyStep, reason: string) {
    super(`${proxy} (${step}): ${reason}`);
  }
}

/**
 * The proxy could not be reached, closed the connection, or could not reach the DC: a
 * `ConnectionFailed` (retried as any connection that fails to open) naming the proxy and the step.
 */
export class ProxyConnectionFailedError extends ConnectionFailedError {
  /** Creates the error for `proxy` (its label, redacted) at `proxyStep`. */
  constructor(readonly proxy: string, readonly proxyStep: ProxyStep, reason: string) {
    super(`${proxy} (${proxyStep}): ${reason}`, "tcp_connect");
  }
}

/** The longest reply header read from a proxy (an HTTP proxy's headers): more is refused. */
const MAX_REPLY = 16 * 1024;

/** One handshake with a proxy over a TCP connection to it. */
export class ProxyHandshake {
  /** The step under way. */
  step: ProxyStep = "connect to proxy";
  /** How the proxy is named in messages: its kind and redacted URL. */
  readonly label: string;
  readonly #spec: ProxySpec;
  readonly #connectTcp: TcpConnect;
  readonly #attempt?: ConnectAttempt;
  #connection?: ByteConnection;
  #reader?: AsyncIterator<Uint8Array>;
  #buffer = new Uint8Array(0);
  #aborted = false;
  readonly #onAbort = () => {
    this.#aborted = true;
    this.#connection?.close();
  };

  /** A handshake with `spec`'s proxy; nothing happens until {@link run}. */
  constructor(spec: ProxySpec, connect: TcpConnect = connectTcp, attempt?: ConnectAttempt) {
    this.#spec = spec;
    this.label = proxyLabel(spec);
    this.#connectTcp = connect;
    this.#attempt = attempt;
  }

  /**
   * Connects to the proxy, runs `steps`, and hands over the connection (with the bytes the proxy
   * sent after its reply); on any failure the socket is closed and the error names the step.
   */
  async run(steps: () => Promise<void>): Promise<ByteConnection> {
    const signal = this.#attempt?.signal;
    if (signal?.aborted) throw this.#givenUp();
    signal?.addEventListener("abort", this.#onAbort, { once: true });
    try {
      this.waiting("did not accept the TCP connect");
      try {
        this.#connection = await this.#connectTcp(this.#spec.host, this.#spec.port);
      } catch (error) {
        if (error instanceof Mtproto2jsonError) throw error;
        throw this.unreachable(`cannot connect: ${(error as Error).message}`);
      }
      // Aborted while connecting: the socket came too late for anyone.
      if (this.#aborted) throw this.#givenUp();
      this.#reader = this.#connection.readable[Symbol.asyncIterator]();
      await steps();
      if (this.#aborted) throw this.#givenUp();
      return this.#handOver();
    } catch (error) {
      this.#connection?.close();
      if (this.#aborted) throw this.#givenUp();
      if (error instanceof Mtproto2jsonError) throw error;
      throw this.unreachable((error as Error).message ?? String(error));
    } finally {
      signal?.removeEventListener("abort", this.#onAbort);
    }
  }

  /** Tells the sender's attempt what the handshake waits for: "… did not answer the greeting". */
  waiting(what: string): void {
    this.#attempt?.waiting(`the ${this.label} ${what} (${this.step})`);
  }

  /** Moves to `step`, saying what it waits for. */
  enter(step: ProxyStep, waitingFor: string): void {
    this.step = step;
    this.waiting(waitingFor);
  }

  /** Writes to the proxy. */
  async write(bytes: Uint8Array): Promise<void> {
    await this.#connection!.write(bytes);
  }

  /** Reads exactly `count` bytes of the proxy's reply. */
  async read(count: number): Promise<Uint8Array> {
    while (this.#buffer.length < count) await this.#more();
    const bytes = this.#buffer.slice(0, count);
    this.#buffer = this.#buffer.subarray(count);
    return bytes;
  }

  /** Reads up to and including `end` (an HTTP reply's blank line), at most 16 KiB. */
  async readThrough(end: Uint8Array): Promise<Uint8Array> {
    for (let from = 0;;) {
      const at = indexOf(this.#buffer, end, from);
      if (at >= 0) return await this.read(at + end.length);
      if (this.#buffer.length > MAX_REPLY) {
        throw this.refused(`its reply's header is longer than ${MAX_REPLY} bytes`);
      }
      from = Math.max(0, this.#buffer.length - end.length + 1);
      await this.#more();
    }
  }

  async #more(): Promise<void> {
    const next = await this.#reader!.next();
    if (this.#aborted) throw this.#givenUp();
    if (next.done) {
      throw this.unreachable(
        `the proxy closed the connection${
          this.#buffer.length ? ` after ${this.#buffer.length} byte(s) of its reply` : ""
        }`,
      );
    }
    const joined = new Uint8Array(this.#buffer.length + next.value.length);
    joined.set(this.#buffer);
    joined.set(next.value, this.#buffer.length);
    this.#buffer = joined;
  }

  /** A refusal at the current step: {@link ProxyError}. */
  refused(reason: string): ProxyError {
    return new ProxyError(this.label, this.step, reason);
  }

  /** A failure worth trying again at the current step: {@link ProxyConnectionFailedError}. */
  unreachable(reason: string): ProxyConnectionFailedError {
    return new ProxyConnectionFailedError(this.label, this.step, reason);
  }

  #givenUp(): ProxyConnectionFailedError {
    return this.unreachable("given up (the connect deadline passed, or the connection closed)");
  }

  /**
   * The connection for the transport: first what the proxy sent past its reply, then the rest,
   * read as a direct connection reads. An iterator over the socket's own rather than an async
   * generator around it: a generator dropped the transport's read target (a big frame's rest,
   * read into its own buffer), added a hop per chunk, and kept the last chunk while it waited.
   */
  #handOver(): ByteConnection {
    const connection = this.#connection!;
    const reader = this.#reader!;
    let early: Uint8Array | undefined = this.#buffer.length > 0 ? this.#buffer : undefined;
    this.#buffer = new Uint8Array(0);
    return {
      readable: {
        [Symbol.asyncIterator]: () => ({
          next: (target?: Uint8Array) => {
            if (!early) return reader.next(target);
            const value = early;
            early = undefined;
            return Promise.resolve({ done: false, value });
          },
          return: () => reader.return?.() ?? Promise.resolve({ done: true, value: undefined }),
        }),
      },
      write: (bytes) => connection.write(bytes),
      close: () => connection.close(),
    };
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let at = from; at + needle.length <= haystack.length; at++) {
    for (let index = 0; index < needle.length; index++) {
      if (haystack[at + index] !== needle[index]) continue outer;
    }
    return at;
  }
  return -1;
}
