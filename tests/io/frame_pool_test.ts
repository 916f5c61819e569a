import { assertEquals } from "../assert.ts";
import { FramePool, POOLED_BUFFER, POOLED_FROM } from "../../lib/io/frame_pool.ts";

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
