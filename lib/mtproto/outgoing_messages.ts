/**
 * What the client session sends besides requests, and how one flush is filled: queued requests
 * first (compressed when that helps, under their last msg_id while the server may still know it),
 * then service messages, then one msgs_ack, within what a container may hold.
 * https://core.telegram.org/mtproto/service_messages#simple-container
 *
 * @module
 */

import type { TlCodec } from "../tl/codec.ts";
import type { ContainedMessage } from "./container.ts";
import { packGzip } from "./gzip_packed.ts";
import type { MessageIdGenerator } from "./message_id.ts";
import type { PendingRequests } from "./pending_requests.ts";
import type { SeqNoCounter } from "./seq_no.ts";
import { takeAcks } from "./service_messages/msgs_ack.ts";

const MAX_CONTAINER_MESSAGES = 1020;
const MAX_CONTAINER_BYTES = 1 << 20;
const COMPRESS_ABOVE = 512;
/** A request resent after a reconnect keeps its msg_id this long: the server may still know it. */
const REUSE_MSG_ID_SECONDS = 240;
/** Past this many acks waiting, they are worth a flush of their own. */
const ACKS_WORTH_A_FLUSH = 1000;

/**
 * The acks and service messages waiting to go out, and the builder of one flush's messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OutgoingMessages } from "./outgoing_messages.ts";
 * const outgoing = new OutgoingMessages();
 * outgoing.ack(4n);
 * assert.equal(outgoing.hasAny, true);
 * assert.equal(outgoing.worthAFlush, false); // acks alone wait for company
 * ```
 */
export class OutgoingMessages {
  #acks: bigint[] = [];
  /** Messages that expect no answer we wait for: service replies, and rpc_drop_answer. */
  #extra: { body: Uint8Array; contentRelated: boolean }[] = [];

  /** True when service messages (or very many acks) wait: worth a flush on their own. */
  get worthAFlush(): boolean {
    return this.#extra.length > 0 || this.#acks.length > ACKS_WORTH_A_FLUSH;
  }

  /** True when anything waits. */
  get hasAny(): boolean {
    return this.#acks.length > 0 || this.#extra.length > 0;
  }

  /** Acknowledges a received content-related message in the next flush. */
  ack(messageId: bigint): void {
    this.#acks.push(messageId);
  }

  /** Queues a service message; `contentRelated` ones (rpc_drop_answer) get an odd seqno. */
  push(body: Uint8Array, contentRelated: boolean): void {
    this.#extra.push({ body, contentRelated });
  }

  /**
   * The messages of one flush: requests off `requests.queue` (recorded as sent), then the
   * service messages, then the acks, numbered by `ids` and `seqNos`.
   */
  take(
    requests: PendingRequests,
    ids: MessageIdGenerator,
    seqNos: SeqNoCounter,
    codec: TlCodec,
  ): ContainedMessage[] {
    const messages: ContainedMessage[] = [];
    const queue = requests.queue;
    let size = 0;
    while (queue.length && messages.length < MAX_CONTAINER_MESSAGES - 2) {
      const pending = queue[0];
      const last = pending.messageIds.at(-1);
      const reuse = last !== undefined && ids.now() - Number(last >> 32n) < REUSE_MSG_ID_SECONDS;
      const messageId = reuse ? last : ids.next();
      if (pending.build && !reuse) pending.body = pending.build(messageId);
      const body = packGzip(pending.body, COMPRESS_ABOVE);
      if (messages.length > 0 && size + body.length > MAX_CONTAINER_BYTES) break;
      queue.shift();
      pending.queued = false;
      if (!reuse) requests.markSent(pending, messageId, seqNos.next(true));
      messages.push({ messageId, seqNo: pending.seqNo, body });
      size += body.length + 16;
    }
    for (const { body, contentRelated } of this.#extra.splice(0)) {
      messages.push({ messageId: ids.next(), seqNo: seqNos.next(contentRelated), body });
    }
    if (this.#acks.length) {
      const body = codec.encode(takeAcks(this.#acks));
      messages.push({ messageId: ids.next(), seqNo: seqNos.next(false), body });
    }
    return messages;
  }
}
