/**
 * What a sender is told: where to connect, with which keys and transport, what to call back, and
 * the deadlines and timers it runs on.
 *
 * @module
 */

import type { RandomSource } from "../crypto/random.ts";
import type { RsaPublicKey } from "../crypto/rsa.ts";
import type { TlCodec } from "../tl/codec.ts";
import type { TransportOptions } from "../transport/transport.ts";
import type { ByteConnection } from "./tcp_connection.ts";
import type { Clock } from "../io/clock.ts";

/**
 * One attempt at opening a connection, as the sender hands it to `connect`: its signal is aborted
 * when the attempt is given up (its deadline passed, or the sender was closed), and a connect
 * that waits on more than a TCP connect (a proxy's greeting, a TLS hello) says what it waits for,
 * so that a deadline names it.
 */
export interface ConnectAttempt {
  /** Aborted when nobody will use the connection: close what was opened, stop waiting. */
  readonly signal: AbortSignal;
  /** Says what the connect now waits for ("the SOCKS5 proxy … did not answer the greeting"). */
  waiting(what: string): void;
}

/** Where and how to connect. */
export interface SenderOptions {
  host: string;
  port: number;
  dcId: number;
  publicKeys: RsaPublicKey[];
  transport: TransportOptions;
  /** A codec in native mode with the MTProto schema. */
  codec: TlCodec;
  random: RandomSource;
  /** Resume with this key (and salt, session id); otherwise one is created on connect. */
  authKey?: Uint8Array;
  salt?: bigint;
  sessionId?: bigint;
  /**
   * Opens the byte pipe; TCP by default. `attempt` (given by the sender) is aborted when the
   * attempt is given up, and lets a connect that does more than TCP (a proxy's handshake) say
   * what it waits for.
   */
  connect?: (host: string, port: number, attempt?: ConnectAttempt) => Promise<ByteConnection>;
  /**
   * What the connection goes through, for messages (a proxy's redacted URL): "127.0.0.1:443 (DC 2)
   * via socks5://bob:***@127.0.0.1:1080".
   */
  via?: string;
  /** Called with every update (body bytes) the server pushes. */
  onUpdate?: (body: Uint8Array) => void;
  /** Called when the server announces a new session (updates may have been missed). */
  onNewSession?: () => void;
  /** Called after a dropped connection is established again (updates may have been missed). */
  onReconnect?: () => void;
  /**
   * Called once when the server says it does not know the auth key (`-404`): the sender is then
   * closed, and its owner decides whether to create a new key.
   */
  onAuthKeyUnknown?: () => void;
  log?: (line: string) => void;
  /** Send a ping after this much idle time; 0 disables. */
  pingIntervalMs?: number;
  /** A ping with no pong within this time drops the connection (default 10 s). */
  pingTimeoutMs?: number;
  /** Deadline for opening the connection and creating the key (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * Time and timers for deadlines, backoff, acks and pings, and the wall time of message ids; the
   * platform's by default.
   */
  clock?: Clock;
  /**
   * Perfect forward secrecy: messages go under a temporary key of this lifetime (seconds), bound
   * to the permanent key (`authKey`, or one created first) and renewed before it expires; the
   * permanent key itself never encrypts a message.
   */
  tempKeySeconds?: number;
}
