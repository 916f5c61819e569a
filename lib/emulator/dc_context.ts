/**
 * What every connection of one emulated DC shares ({@link DcContext}), what an API method handler
 * is given besides the call ({@link CallContext}), and the faults a DC can inject
 * ({@link DcFaults}). Re-exported by server_connection.ts, where importers find them.
 *
 * @module
 */

import type { RandomSource } from "../crypto/random.ts";
import type { RsaPrivateKey } from "../crypto/rsa.ts";
import type { Clock } from "../io/clock.ts";
import type { TlCodec, TlObject } from "../tl/codec.ts";
import type { KeyEntry, KeyStore } from "./key_store.ts";
import type { KeyHolders } from "./key_holders.ts";
import type { ServerSession } from "./server_session.ts";
import type { BodyWriter } from "../mtproto/encrypted_message.ts";

/** What an API method handler sees besides the call. */
export interface CallContext {
  /** The account's key: the permanent key a bound temporary key acts for, else the key itself. */
  key: KeyEntry;
  /** The key the call came under (a temporary one, with PFS). */
  messageKey: KeyEntry;
  /** The msg_id of the call (auth.bindTempAuthKey's inner message repeats it). */
  messageId: bigint;
  session: ServerSession;
  dc: DcContext;
  /** The api layer from `invokeWithLayer`, when the client sent one. */
  layer?: number;
  /** How the handler wants its answer sent (file parts: held, not compressed, counted). */
  answer: AnswerOptions;
}

/**
 * What a handler may ask of the way its answer goes out; the connection reads it once the
 * handler returns (or throws: an error answer is sent the same way).
 */
export interface AnswerOptions {
  /** Hold the answer this long, on the DC's clock (file latency). */
  delayMs?: number;
  /** Never gzip_packed: file bytes do not compress, and trying costs more than sending them. */
  uncompressed?: boolean;
  /** Called once the answer has been handed to the connection, or dropped with a closed one. */
  onSent?: () => void;
  /**
   * The result already serialized, as a body that writes itself into the message it goes in:
   * a file part is made straight in place instead of encoded, wrapped and copied (three copies
   * of each megabyte, a fifth of the emulator's work serving a download).
   */
  encoded?: BodyWriter;
}

/** Faults a DC can inject to exercise clients. */
export interface DcFaults {
  /** Close the connection after every this many messages received (container contents count). */
  dropEvery?: number;
  /** Answer this method only after `ms` milliseconds (the answer is still cached at once). */
  slow?: { method: string; ms: number };
  /** For tests of hostile servers: the body to answer `method` with instead of its result. */
  answerWith?: (method: string) => Uint8Array | undefined;
  /** Send every encrypted payload a second time, as an attacker replaying traffic would. */
  replay?: boolean;
}

/** Everything one emulated DC shares between its connections. */
export interface DcContext {
  dcId: number;
  codec: TlCodec;
  keys: KeyStore;
  rsaKey: RsaPrivateKey;
  random: RandomSource;
  /** The DC's time and timers (its wall time skewed on purpose, sometimes). */
  clock: Clock;
  sessions: Map<string, ServerSession>;
  faults: DcFaults;
  /** Counters tests and logs read. */
  stats: { gzippedResults: number; badServerSalts: number };
  /** The record of which processes drive each key (shared by every DC of the emulator). */
  holders?: KeyHolders;
  /** Answers one API call (wrappers already removed); throws an `RpcError` to refuse it. */
  call(request: TlObject, context: CallContext): unknown;
  log(line: string): void;
}
