/**
 * The client session's requests between `send` and their answer: by local id, by every msg_id
 * they went out under, and the containers that carried them; the queue of those waiting to go
 * out; and the bare-answered destroy_session and destroy_auth_key requests. Requests are tracked
 * by a local id, since a request's msg_id changes when it must be resent with a new one; every id
 * it was ever sent under still finds it, and it is answered once.
 *
 * @module
 */

import { isDestroyAuthKey } from "./service_messages/destroy_auth_key.ts";
import { destroySessionTarget } from "./service_messages/destroy_session.ts";

/** A request waiting for its answer. */
export interface Pending {
  /** Positive for the owner's requests, negative for the session's own (get_future_salts). */
  requestId: number;
  body: Uint8Array;
  /** Every msg_id the request was sent under, newest last. */
  messageIds: bigint[];
  seqNo: number;
  /** True while the request waits in the outgoing queue. */
  queued: boolean;
  internal: boolean;
  /** For a body that names its own msg_id: builds it for the id it goes out under. */
  build?: (messageId: bigint) => Uint8Array;
  /** The container it last went out in, if any: forgetting it may let that container go. */
  container?: SentContainer;
}

/** A container we sent: the msg_ids inside, and how many of its requests still wait. */
interface SentContainer {
  id: bigint;
  messageIds: bigint[];
  waiting: number;
}

/** How many sent containers are remembered, to resend their contents on a container's error. */
const CONTAINERS_KEPT = 4096;

/**
 * The unanswered requests of one client session and the outgoing queue.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PendingRequests } from "./pending_requests.ts";
 * const requests = new PendingRequests();
 * const pending = requests.enqueue(new Uint8Array(4), false);
 * requests.markSent(requests.queue.shift()!, 8n, 1);
 * assert.equal(requests.unanswered(8n), pending);
 * requests.forget(pending);
 * assert.equal(requests.unanswered(8n), undefined);
 * ```
 */
export class PendingRequests {
  #nextRequestId = 1;
  #pending = new Map<number, Pending>();
  #byMessageId = new Map<bigint, Pending>();
  /**
   * Containers we sent, by msg_id, until every request in them is answered (at most
   * CONTAINERS_KEPT): then nothing it names can be resent or failed, and keeping it (its ids, for
   * thousands of flushes) was most of what a busy session's garbage collection copied and
   * promoted, ~10% of serve's CPU under 10 x 50.
   */
  #containers = new Map<bigint, SentContainer>();
  /** Requests waiting to go out, in order. */
  queue: Pending[] = [];
  /**
   * destroy_session and destroy_auth_key are answered by bare objects, not rpc_result: these find
   * the request (by the session id it names; the auth key request is one at a time). Made with
   * the first: most sessions never send one, and an empty map is ~180 B per connection.
   */
  #destroySessionRequests?: Map<bigint, Pending>;
  #destroyAuthKeyRequest?: Pending;

  /** Requests of the owner (not the session's own) sent and not yet answered. */
  get ownerCount(): number {
    let count = 0;
    for (const pending of this.#pending.values()) if (!pending.internal) count++;
    return count;
  }

  /** Queues a request; `internal` ones are the session's own and never reach the owner. */
  enqueue(body: Uint8Array, internal: boolean): Pending {
    const pending: Pending = {
      requestId: internal ? -this.#nextRequestId++ : this.#nextRequestId++,
      body,
      messageIds: [],
      seqNo: 0,
      queued: true,
      internal,
    };
    this.#pending.set(pending.requestId, pending);
    this.queue.push(pending);
    const target = destroySessionTarget(body);
    if (target !== undefined) (this.#destroySessionRequests ??= new Map()).set(target, pending);
    else if (isDestroyAuthKey(body)) this.#destroyAuthKeyRequest = pending;
    return pending;
  }

  /** The request with this local id, while it waits for its answer. */
  get(requestId: number): Pending | undefined {
    return this.#pending.get(requestId);
  }

  /**
   * The request sent as `messageId`, as remembered: after a new session, a request forgotten
   * since may still be found here (its old ids are not cleared), as may one never answered.
   */
  sentAs(messageId: bigint): Pending | undefined {
    return this.#byMessageId.get(messageId);
  }

  /** The unanswered request sent as `messageId` (answered or cancelled ones are not). */
  unanswered(messageId: bigint): Pending | undefined {
    const pending = this.#byMessageId.get(messageId);
    return pending && this.#pending.has(pending.requestId) ? pending : undefined;
  }

  /** True when `messageId` is a message or container of ours that is still remembered. */
  isOurs(messageId: bigint): boolean {
    return this.#byMessageId.has(messageId) || this.#containers.has(messageId);
  }

  /** The unanswered destroy_session request naming `sessionId`. */
  destroySessionRequest(sessionId: bigint): Pending | undefined {
    const pending = this.#destroySessionRequests?.get(sessionId);
    return pending && this.#pending.has(pending.requestId) ? pending : undefined;
  }

  /** The unanswered destroy_auth_key request. */
  destroyAuthKeyRequest(): Pending | undefined {
    const pending = this.#destroyAuthKeyRequest;
    return pending && this.#pending.has(pending.requestId) ? pending : undefined;
  }

  /** Records that a request taken off the queue went out as `messageId` with `seqNo`. */
  markSent(pending: Pending, messageId: bigint, seqNo: number): void {
    pending.messageIds.push(messageId);
    pending.seqNo = seqNo;
    this.#byMessageId.set(messageId, pending);
  }

  /** Records a container we sent, to resend its contents when it is refused. */
  sentContainer(containerId: bigint, messageIds: bigint[]): void {
    const container: SentContainer = { id: containerId, messageIds, waiting: 0 };
    for (const id of messageIds) {
      const pending = this.#byMessageId.get(id);
      if (!pending || !this.#pending.has(pending.requestId)) continue;
      pending.container = container;
      container.waiting++;
    }
    // Kept even with no request in it (acks and service replies alone: rare), so that a
    // notification refusing it is still known as about a message of ours.
    this.#containers.set(containerId, container);
    if (this.#containers.size > CONTAINERS_KEPT) {
      this.#containers.delete(this.#containers.keys().next().value!);
    }
  }

  /** The requests sent as `messageId`: those of the container it names, or the one message. */
  sentIn(messageId: bigint): Pending[] {
    const found: Pending[] = [];
    for (const inner of this.#containers.get(messageId)?.messageIds ?? [messageId]) {
      const pending = this.#byMessageId.get(inner);
      if (pending) found.push(pending);
    }
    return found;
  }

  /** Queues a request again unless it waits in the queue already. */
  requeue(pending: Pending): void {
    if (pending.queued) return;
    pending.queued = true;
    this.queue.push(pending);
  }

  /** Queues every unanswered request that is not queued (after a reconnect). */
  requeueAll(): void {
    for (const pending of this.#pending.values()) this.requeue(pending);
  }

  /** Queues again, under a new msg_id, the request (or the container's requests) sent as `id`. */
  resendWithNewId(id: bigint): void {
    for (const inner of this.#containers.get(id)?.messageIds ?? [id]) {
      const pending = this.#byMessageId.get(inner);
      if (!pending) continue;
      // Drop the refused id so the next flush issues a fresh one.
      pending.messageIds = pending.messageIds.filter((known) => known !== inner);
      this.#byMessageId.delete(inner);
      this.requeue(pending);
    }
  }

  /** A new session: no msg_id sent so far counts, and every request goes out again. */
  restart(): void {
    for (const pending of this.#pending.values()) {
      pending.messageIds.length = 0;
      this.requeue(pending);
    }
  }

  /** Takes over the owner's unanswered requests of `previous`, to go out again under new ids. */
  adopt(previous: PendingRequests): void {
    for (const pending of previous.#pending.values()) {
      if (pending.internal) continue;
      pending.messageIds = [];
      pending.queued = true;
      this.#pending.set(pending.requestId, pending);
      this.queue.push(pending);
    }
    this.#nextRequestId = Math.max(this.#nextRequestId, previous.#nextRequestId);
  }

  /** Forgets a request (answered, failed or cancelled): a late answer finds nothing. */
  forget(pending: Pending): void {
    this.#pending.delete(pending.requestId);
    // Cleared here, so a request forgotten twice counts once.
    const container = pending.container;
    pending.container = undefined;
    if (container && --container.waiting === 0) {
      if (this.#containers.get(container.id) === container) this.#containers.delete(container.id);
    }
    for (const id of pending.messageIds) this.#byMessageId.delete(id);
    // Answered requests are rarely still queued (only when an answer beats a resend).
    if (pending.queued) this.queue = this.queue.filter((queued) => queued !== pending);
    if (this.#destroyAuthKeyRequest === pending) this.#destroyAuthKeyRequest = undefined;
    if (!this.#destroySessionRequests) return;
    for (const [sessionId, known] of this.#destroySessionRequests) {
      if (known === pending) this.#destroySessionRequests.delete(sessionId);
    }
    if (this.#destroySessionRequests.size === 0) this.#destroySessionRequests = undefined;
  }
}
