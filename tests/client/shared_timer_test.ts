import { assertEquals } from "../assert.ts";
import { type SharedDeadline, SharedTimer } from "../../lib/client/shared_timer.ts";
import { FakeClock } from "../support/fake_clock.ts";

Deno.test("a thousand accounts' deadlines, moved and cancelled at random, each fire once at their last time under one timer", async () => {
  const clock = new FakeClock();
  const timer = SharedTimer.of(clock);
  assertEquals(SharedTimer.of(clock), timer);
  const fired = new Map<number, number[]>();
  const entries = Array.from({ length: 1000 }, (_, i): SharedDeadline => ({
    dueAt: 0,
    heapIndex: -1,
    due: () => fired.set(i, [...fired.get(i) ?? [], clock.now()]),
  }));
  const expected = new Map<number, number[]>();
  let seed = 11;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let step = 0; step < 20_000; step++) {
    const i = random(entries.length);
    if (random(5) === 0) {
      timer.cancel(entries[i]);
      expected.delete(i);
    } else {
      const at = 1 + random(100_000);
      timer.schedule(entries[i], at);
      expected.set(i, [at]);
    }
  }
  assertEquals(timer.size, expected.size);
  // However many deadlines, the clock holds one timer.
  assertEquals(clock.pending, 1);
  await clock.advance(100_000);
  assertEquals(
    [...fired].sort((a, b) => a[0] - b[0]),
    [...expected].sort((a, b) => a[0] - b[0]),
  );
  assertEquals(timer.size, 0);
  assertEquals(clock.pending, 0); // nothing left: no timer either
});

Deno.test("deadlines fire in their order, a deadline moved later fires at its new time, and one may schedule another as it fires", async () => {
  const clock = new FakeClock();
  const timer = SharedTimer.of(clock);
  const fired: number[] = [];
  const make = (name: number): SharedDeadline => ({
    dueAt: 0,
    heapIndex: -1,
    due() {
      fired.push(name, clock.now());
      if (name === 1) timer.schedule(again, clock.now() + 5);
    },
  });
  const one = make(1), two = make(2), three = make(3), again = make(4);
  timer.schedule(two, 20);
  timer.schedule(one, 10);
  timer.schedule(three, 15);
  timer.schedule(three, 40); // moved later: it must not fire at 15
  await clock.advance(50);
  assertEquals(fired, [1, 10, 4, 15, 2, 20, 3, 40]);
});

Deno.test("a deadline that another's work moves or cancels as they fall due together fires at its new time, or not at all", async () => {
  const clock = new FakeClock();
  const timer = SharedTimer.of(clock);
  const fired: [string, number][] = [];
  let moved: string | undefined, cancelled: string | undefined;
  const entries = ["a", "b", "c"].map((name): SharedDeadline & { name: string } => ({
    name,
    dueAt: 0,
    heapIndex: -1,
    due() {
      fired.push([name, clock.now()]);
      if (moved !== undefined) return;
      // The first to fire stops one account and moves another's deadline later.
      const [later, stopped] = entries.filter((entry) => entry.name !== name);
      [moved, cancelled] = [later.name, stopped.name];
      timer.schedule(later, 30);
      timer.cancel(stopped);
    },
  }));
  for (const entry of entries) timer.schedule(entry, 10);
  await clock.advance(50);
  assertEquals(fired.length, 2, `fired: ${JSON.stringify(fired)}`);
  assertEquals(fired[1], [moved!, 30]);
  assertEquals(fired.some(([name]) => name === cancelled), false);
  assertEquals(timer.size, 0);
});

Deno.test("a deadline whose work throws does not cost the others due with it theirs: each runs, then the error is thrown", async () => {
  const clock = new FakeClock();
  const timer = SharedTimer.of(clock);
  const fired: string[] = [];
  const make = (name: string, fail = false): SharedDeadline => ({
    dueAt: 0,
    heapIndex: -1,
    due() {
      fired.push(name);
      if (fail) throw new Error(`${name} failed`);
    },
  });
  timer.schedule(make("a", true), 10);
  timer.schedule(make("b"), 10);
  timer.schedule(make("c"), 10);
  let thrown: unknown;
  await clock.advance(20).catch((error) => thrown = error);
  assertEquals((thrown as Error)?.message, "a failed");
  assertEquals(fired.sort(), ["a", "b", "c"]);
  // The timer goes on with later deadlines.
  timer.schedule(make("d"), 30);
  await clock.advance(20);
  assertEquals(fired.includes("d"), true);
  assertEquals(timer.size, 0);
});
