/**
 * What the client session starts from, and the events it hands its owner (the sender).
 *
 * @module
 */

import type { RandomSource } from "../crypto/random.ts";
import type { TlCodec } from "../tl/codec.ts";
import type { AuthKey } from "./encrypted_message.ts";
import type { WallClock } from "./message_id.ts";

/** What a session starts from. */
export interface SessionOptions {
  /** A codec in native mode (bigint longs, Uint8Array bytes) with the MTProto schema. */
  codec: TlCodec;
  authKey: AuthKey;
  salt: bigint;
  random: RandomSource;
  clock: WallClock;
  /** Server time minus local time in seconds, when known (from the key exchange). */
  timeOffset?: number;
  /** Resume this session id; a fresh random one otherwise. */
  sessionId?: bigint;
}

/** Something the session has to tell its owner. */
export type SessionEvent =
  /** The answer to a request: the rpc_result's body (gzip already undone), or a pong/future_salts. */
  | { type: "result"; requestId: number; body: Uint8Array }
  /**
   * A request the server refused at the protocol level (a bad_msg_notification it cannot fix:
   * `code` is its error code), or whose answer could not be unpacked (`code` 0).
   */
  | { type: "failed"; requestId: number; code: number; reason: string }
  /** Anything the server sent that is not an answer: updates, mostly. */
  | { type: "update"; body: Uint8Array; messageId: bigint }
  /** The server started a new session for us: updates in between may have been lost. */
  | { type: "new_session"; firstMessageId: bigint }
  /** A received message that failed a check and was dropped. */
  | { type: "dropped"; reason: string };
