/**
 * An MTProto session on the emulated server: its msg_ids and seqnos (the same rules the client
 * follows, from lib/mtproto), the answers kept for requests resent under the same msg_id, and the
 * content messages kept for a client's msg_resend_req. Sessions outlive connections: a client
 * that reconnects finds its session, and its connection, once it sends again.
 *
 * @module
 */

import { MessageIdGenerator, type WallClock } from "../mtproto/message_id.ts";
import { SeqNoCounter } from "../mtproto/seq_no.ts";
import type { AppInfo } from "./authorizations.ts";
import type { KeyEntry } from "./key_store.ts";
import type { BodyWriter } from "../mtproto/encrypted_message.ts";

/** How many answers, and how many sent messages, a session keeps. */
const ANSWER_CACHE = 2048;
/**
 * Longer messages are not kept: only file parts are that long, and 2048 of them would hold
 * gigabytes. A file part asked again is read again, which is harmless.
 */
const KEEP_UP_TO_BYTES = 64 * 1024;

/** One message for the server to send in a session. */
export interface OutgoingBody {
  body: Uint8Array | BodyWriter;
  contentRelated: boolean;
  /** Answers get msg_ids ≡ 1 mod 4, other server messages ≡ 3 mod 4. */
  response: boolean;
}

/** The live connection a session sends through (a ServerConnection). */
export interface SessionConnection {
  readonly closed: boolean;
  /** Encrypts messages for a session (in a container when several) and writes them. */
  sendToSession(session: ServerSession, bodies: OutgoingBody[]): void;
}

/** An MTProto session on the server: ids, seqnos, and the answers kept for resends. */
export class ServerSession {
  readonly ids: MessageIdGenerator;
  readonly seqNos = new SeqNoCounter();
  connection?: SessionConnection;
  /** Answers by request msg_id: a request resent under the same id gets the same answer. */
  readonly answers = new Map<bigint, Uint8Array>();
  /** Content messages sent, by their own msg_id, for a client's msg_resend_req. */
  readonly sent = new Map<bigint, Uint8Array>();
  layer?: number;
  /** What the client said about itself in initConnection, for account.getAuthorizations. */
  app?: AppInfo;
  /**
   * Whether updates are pushed here: as on Telegram, once the session makes a call that is not
   * wrapped in `invokeWithoutUpdates` (clients wrap the calls of their download and upload
   * connections so).
   */
  wantsUpdates = false;

  /** Creates a session the client opened with `firstMessageId`. */
  constructor(
    readonly sessionId: bigint,
    readonly key: KeyEntry,
    readonly firstMessageId: bigint,
    clock: WallClock,
  ) {
    this.ids = new MessageIdGenerator(clock, "server");
  }

  /** Content-related messages sent so far in the session. */
  get contentCount(): number {
    return this.seqNos.contentCount;
  }

  /** The next seqno: odd for content-related messages (lib/mtproto/seq_no.ts). */
  nextSeqNo(contentRelated: boolean): number {
    return this.seqNos.next(contentRelated);
  }

  /** Keeps the answer to the request sent as `requestId`, for a resend under the same id. */
  remember(requestId: bigint, answer: Uint8Array | BodyWriter): void {
    // A body that writes itself is a file part: far past what is kept.
    if (!(answer instanceof Uint8Array) || answer.length > KEEP_UP_TO_BYTES) return;
    this.answers.set(requestId, answer);
    if (this.answers.size > ANSWER_CACHE) this.answers.delete(this.answers.keys().next().value!);
  }

  /** Keeps a content message by the msg_id it went out under. */
  rememberSent(messageId: bigint, body: Uint8Array | BodyWriter): void {
    if (!(body instanceof Uint8Array) || body.length > KEEP_UP_TO_BYTES) return;
    this.sent.set(messageId, body);
    if (this.sent.size > ANSWER_CACHE) this.sent.delete(this.sent.keys().next().value!);
  }

  /** Sends an unsolicited message (an update) if the session has a live connection. */
  push(body: Uint8Array): boolean {
    if (!this.connection || this.connection.closed) return false;
    this.connection.sendToSession(this, [{ body, contentRelated: true, response: false }]);
    return true;
  }
}
