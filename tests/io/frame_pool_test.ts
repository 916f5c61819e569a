import { assertEquals } from "../assert.ts";
import { FramePool, POOLED_BUFFER, POOLED_FROM } from "../../lib/io/frame_pool.ts";
import { LEND_FROM, MessageBuffers } from "../../lib/mtproto/message_buffers.ts";
import { FakeClock } from "../support/fake_clock.ts";

Deno.test("a frame's buffer is lent again only once every holder gave it back: two parts of one container", () => {
  const pool = new FramePool();
  const frame = pool.take(POOLED_FROM + 10);
  const first = frame.subarray(0, 100), second = frame.subarray(100, 200);
  pool.retain(first);
  pool.retain(second);
  pool.release(frame); // the frame is handled; both parts still held
  assertEquals(pool.take(POOLED_FROM).buffer === frame.buffer, false);
  pool.release(first);
  assertEquals(pool.free, 0);
  pool.release(second);
  assertEquals(pool.free, 1);
  assertEquals(pool.take(POOLED_BUFFER).buffer, frame.buffer);
});

Deno.test("small and oversized frames, and views the pool did not lend, are left alone", () => {
  const pool = new FramePool();
  const small = pool.take(POOLED_FROM - 1), big = pool.take(POOLED_BUFFER + 1);
  assertEquals([small.length, big.length, pool.allocated], [POOLED_FROM - 1, POOLED_BUFFER + 1, 0]);
  pool.release(small);
  pool.release(big);
  pool.release(new Uint8Array(POOLED_FROM));
  assertEquals(pool.free, 0);
});

Deno.test("at most maxFree buffers are kept free; the rest are left to the garbage collector", () => {
  const pool = new FramePool(2);
  const frames = [0, 1, 2].map(() => pool.take(POOLED_FROM));
  for (const frame of frames) pool.release(frame);
  assertEquals([pool.free, pool.allocated], [2, 3]);
  // A buffer given back twice is not lent to two frames at once.
  pool.release(frames[0]);
  assertEquals(pool.free, 2);
});

Deno.test("after a transfer, the pools give their free buffers back once unused for the idle time, and not while in use", async () => {
  const clock = new FakeClock();
  const frames = new FramePool(16, 30_000, clock);
  const messages = new MessageBuffers(16, 30_000, clock);
  // A download's parts, then an upload's, each buffer given back as its part is done.
  for (let part = 0; part < 4; part++) {
    const frame = frames.take(POOLED_BUFFER), message = messages.take(LEND_FROM * 8);
    frames.release(frame);
    messages.release(message.subarray(4));
    await clock.advance(10_000);
  }
  // Used every 10 s: one buffer each was enough, lent again and again.
  assertEquals([frames.free, frames.allocated], [1, 1]);
  const kept = messages.take(LEND_FROM * 8);
  messages.release(kept);
  // 25 s after the frame pool's last take: its buffer is still there.
  await clock.advance(15_000);
  assertEquals(frames.free, 1);
  // 45 s: let go; the message buffers, taken 20 s ago, keep theirs.
  await clock.advance(20_000);
  assertEquals(frames.free, 0);
  assertEquals(messages.take(LEND_FROM * 8).buffer, kept.buffer);
  messages.release(kept);
  // 31 s after that take, theirs too; no timer is left behind.
  await clock.advance(31_000);
  assertEquals(messages.take(LEND_FROM * 8).buffer === kept.buffer, false);
  assertEquals(clock.pending, 0);
  // A later transfer starts a pool afresh.
  frames.release(frames.take(POOLED_FROM));
  assertEquals([frames.free, frames.allocated], [1, 2]);
});
