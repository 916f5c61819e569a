// The client's pending requests on their own: found by every msg_id they went out under, by the
// container that carried them, forgotten once answered, and the bare-answered destroy requests.
import { assertEquals } from "../assert.ts";
import { PendingRequests } from "../../lib/mtproto/pending_requests.ts";

const DESTROY_SESSION = (sessionId: bigint) => {
  const body = new Uint8Array(12);
  const view = new DataView(body.buffer);
  view.setUint32(0, 0xe7512126, true);
  view.setBigInt64(4, sessionId, true);
  return body;
};

function sendAll(requests: PendingRequests, firstId: bigint): bigint[] {
  const ids: bigint[] = [];
  for (let id = firstId; requests.queue.length; id += 4n) {
    const pending = requests.queue.shift()!;
    pending.queued = false; // as a flush does
    requests.markSent(pending, id, 1);
    ids.push(id);
  }
  return ids;
}

Deno.test("owner requests count, internal ones do not; local ids are ±1, ±2, …", () => {
  const requests = new PendingRequests();
  const a = requests.enqueue(new Uint8Array(4), false);
  const salts = requests.enqueue(new Uint8Array(4), true);
  const b = requests.enqueue(new Uint8Array(4), false);
  assertEquals([a.requestId, salts.requestId, b.requestId], [1, -2, 3]);
  assertEquals(requests.ownerCount, 2);
});

Deno.test("a request resent under a new msg_id is found by both; forgotten, by neither", () => {
  const requests = new PendingRequests();
  const pending = requests.enqueue(new Uint8Array(4), false);
  sendAll(requests, 8n);
  requests.resendWithNewId(8n);
  assertEquals(requests.queue, [pending]);
  assertEquals(requests.sentAs(8n), undefined); // the refused id is dropped
  sendAll(requests, 16n);
  requests.requeue(pending);
  requests.requeue(pending); // queued once only
  assertEquals(requests.queue.length, 1);
  sendAll(requests, 24n);
  assertEquals([requests.unanswered(16n), requests.unanswered(24n)], [pending, pending]);
  requests.forget(pending);
  assertEquals([requests.unanswered(16n), requests.sentAs(24n)], [undefined, undefined]);
});

Deno.test("a refused container resends every request in it", () => {
  const requests = new PendingRequests();
  const a = requests.enqueue(new Uint8Array(4), false);
  const b = requests.enqueue(new Uint8Array(4), false);
  const ids = sendAll(requests, 8n);
  requests.sentContainer(100n, ids);
  assertEquals(requests.isOurs(100n), true);
  assertEquals(requests.sentIn(100n), [a, b]);
  requests.resendWithNewId(100n);
  assertEquals(requests.queue, [a, b]);
});

Deno.test("after a new session old ids are kept but unanswered() still checks the request", () => {
  const requests = new PendingRequests();
  const pending = requests.enqueue(new Uint8Array(4), false);
  sendAll(requests, 8n);
  requests.restart();
  assertEquals([pending.messageIds, requests.queue], [[], [pending]]);
  requests.forget(pending);
  assertEquals(requests.sentAs(8n), pending);
  assertEquals(requests.unanswered(8n), undefined);
});

Deno.test("destroy_session requests are found by the session they name until answered", () => {
  const requests = new PendingRequests();
  const pending = requests.enqueue(DESTROY_SESSION(5n), false);
  assertEquals(requests.destroySessionRequest(5n), pending);
  assertEquals(requests.destroySessionRequest(6n), undefined);
  requests.forget(pending);
  assertEquals(requests.destroySessionRequest(5n), undefined);
  const key = requests.enqueue(new Uint8Array([0x60, 0x51, 0x43, 0xd1]), false);
  assertEquals(requests.destroyAuthKeyRequest(), key);
});

Deno.test("adopt takes the owner's requests of a previous session, not its internal ones", () => {
  const previous = new PendingRequests();
  const owner = previous.enqueue(new Uint8Array(4), false);
  previous.enqueue(new Uint8Array(4), true);
  sendAll(previous, 8n);
  const next = new PendingRequests();
  next.adopt(previous);
  assertEquals([next.queue, owner.messageIds, next.ownerCount], [[owner], [], 1]);
  assertEquals(next.enqueue(new Uint8Array(4), false).requestId, 3);
});

Deno.test("a container is remembered while a request in it waits, and let go after", () => {
  const requests = new PendingRequests();
  const a = requests.enqueue(new Uint8Array(4), false);
  const b = requests.enqueue(new Uint8Array(4), false);
  const ids = sendAll(requests, 8n);
  requests.sentContainer(100n, [...ids, 16n]); // 16: an ack beside them, no request
  requests.forget(a);
  assertEquals(requests.isOurs(100n), true);
  assertEquals(requests.sentIn(100n), [b]);
  requests.forget(a); // twice: still one request less, not two
  assertEquals(requests.isOurs(100n), true);
  requests.forget(b);
  assertEquals(requests.isOurs(100n), false);
  assertEquals(requests.sentIn(100n), []);
  // A container of acks alone is kept (a notification about it is about a message of ours); one
  // whose request went out again in another stays until the later container is answered.
  requests.sentContainer(200n, [20n, 24n]);
  assertEquals(requests.isOurs(200n), true);
  const c = requests.enqueue(new Uint8Array(4), false);
  requests.sentContainer(300n, sendAll(requests, 28n));
  requests.requeue(c);
  requests.sentContainer(400n, sendAll(requests, 32n));
  requests.forget(c);
  assertEquals([requests.isOurs(300n), requests.isOurs(400n)], [true, false]);
});
