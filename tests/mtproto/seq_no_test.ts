// The seqno rule, on its own: odd and counted for content-related messages, even and not counted
// for the rest; a new session starts over; odd ones are the ones to acknowledge.
import { assertEquals } from "../assert.ts";
import { needsAck, SeqNoCounter } from "../../lib/mtproto/seq_no.ts";

Deno.test("content-related messages get 2n+1 and count; others get 2n and do not", () => {
  const seqNos = new SeqNoCounter();
  const kinds = [false, true, true, false, false, true];
  assertEquals(kinds.map((content) => seqNos.next(content)), [0, 1, 3, 4, 4, 5]);
  assertEquals(seqNos.contentCount, 3);
});

Deno.test("a reset starts numbering from zero, as a new session does", () => {
  const seqNos = new SeqNoCounter();
  seqNos.next(true);
  seqNos.next(true);
  seqNos.reset();
  assertEquals([seqNos.next(false), seqNos.next(true)], [0, 1]);
});

Deno.test("exactly the messages with an odd seqno need an ack", () => {
  assertEquals([0, 1, 2, 3, 4, 0x7fffffff].map(needsAck), [false, true, false, true, false, true]);
});
