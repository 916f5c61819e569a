// The replay window on its own: a repeat is refused, an id older than the whole window is
// refused, and the window forgets the oldest as it wraps.
import { assertEquals } from "../assert.ts";
import { REPLAY_WINDOW, ReplayWindow } from "../../lib/mtproto/replay_window.ts";

Deno.test("an id accepted once is refused the second time", () => {
  const window = new ReplayWindow();
  assertEquals(window.accept(8n), undefined);
  assertEquals(window.has(8n), true);
  assertEquals(window.accept(8n), "replayed msg_id");
});

Deno.test("until the window is full, older ids are still accepted (out of order delivery)", () => {
  const window = new ReplayWindow(3);
  assertEquals([window.accept(20n), window.accept(8n), window.accept(12n)], [
    undefined,
    undefined,
    undefined,
  ]);
});

Deno.test("a full window refuses ids older than its oldest and forgets as it wraps", () => {
  const window = new ReplayWindow(3);
  for (const id of [8n, 12n, 16n]) window.accept(id);
  assertEquals(window.accept(4n), "msg_id older than the replay window");
  assertEquals(window.has(4n), false);
  assertEquals(window.accept(20n), undefined);
  assertEquals(window.has(8n), false); // left the window
  assertEquals(window.accept(8n), "msg_id older than the replay window");
  assertEquals(window.accept(10n), "msg_id older than the replay window"); // 12 is the oldest
  assertEquals(window.accept(14n), undefined); // out of order, but newer than the oldest
});

Deno.test("clear forgets everything; the default size is 4096", () => {
  const window = new ReplayWindow();
  assertEquals(window.size, REPLAY_WINDOW);
  assertEquals(REPLAY_WINDOW, 4096);
  window.accept(8n);
  window.clear();
  assertEquals(window.accept(8n), undefined);
});

Deno.test("over many windows' worth of ids, exactly the last `size` are remembered", () => {
  const size = 5;
  const window = new ReplayWindow(size);
  const ids = Array.from({ length: 23 }, (_, i) => BigInt(100 + 4 * i));
  for (const id of ids) assertEquals(window.accept(id), undefined);
  for (const [i, id] of ids.entries()) assertEquals(window.has(id), i >= ids.length - size);
  // Each of the last `size` is a replay; anything before them is older than the window.
  for (const id of ids.slice(-size)) assertEquals(window.accept(id), "replayed msg_id");
  assertEquals(window.accept(ids.at(-size - 1)!), "msg_id older than the replay window");
  // Out of order but newer than the oldest remembered: accepted once, then a replay.
  assertEquals(window.accept(ids.at(-2)! + 2n), undefined);
  assertEquals(window.accept(ids.at(-2)! + 2n), "replayed msg_id");
  window.clear();
  assertEquals(window.has(ids.at(-1)!), false);
  assertEquals(window.accept(ids[0]), undefined);
});
