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

Deno.test("a container's messages, below its own id, are accepted once and refused when replayed", () => {
  const window = new ReplayWindow();
  assertEquals(window.accept(100n), undefined);
  // The container (id 120) comes first, then its messages 108, 112, 116.
  assertEquals([120n, 108n, 112n, 116n].map((id) => window.accept(id)), [
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
  assertEquals([108n, 112n, 116n, 120n, 100n].map((id) => window.accept(id)), [
    "replayed msg_id",
    "replayed msg_id",
    "replayed msg_id",
    "replayed msg_id",
    "replayed msg_id",
  ]);
  // After the next container, the earlier ones are still known.
  assertEquals([140n, 124n, 112n].map((id) => window.accept(id)), [
    undefined,
    undefined,
    "replayed msg_id",
  ]);
});

Deno.test("any order of ids, repeats included, is judged as by the last `size` accepted", () => {
  let seed = 7;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (const size of [3, 8, 64]) {
    const window = new ReplayWindow(size);
    const accepted: bigint[] = []; // the last `size` accepted, oldest first
    let top = 1000;
    for (let step = 0; step < 20_000; step++) {
      // Mostly containers: a new highest, then ids below it; sometimes repeats and stragglers.
      const kind = random(10);
      const id = BigInt(
        kind < 3
          ? (top += 4 * (1 + random(30)))
          : kind < 8
          ? top - 4 * random(40)
          : 4 * random(top / 4),
      );
      const expected = accepted.includes(id)
        ? "replayed msg_id"
        : accepted.length === size && id < accepted[0]
        ? "msg_id older than the replay window"
        : undefined;
      assertEquals(window.accept(id), expected, `step ${step}, size ${size}, id ${id}`);
      if (expected === undefined) {
        accepted.push(id);
        if (accepted.length > size) accepted.shift();
      }
    }
  }
});
