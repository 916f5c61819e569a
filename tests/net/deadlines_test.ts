import { assertEquals } from "../assert.ts";
import { type DeadlineEntry, Deadlines } from "../../lib/net/deadlines.ts";
import { FakeClock } from "../support/fake_clock.ts";

interface Call extends DeadlineEntry {
  name: string;
}

const call = (name: string): Call => ({
  name,
  deadlineAt: 0,
  deadlineOrder: 0,
  deadlineDone: false,
});

function setUp() {
  const clock = new FakeClock();
  const expired: string[] = [];
  const deadlines = new Deadlines<Call>(
    clock,
    (entry) => expired.push(`${entry.name}@${clock.now()}`),
  );
  return { clock, expired, deadlines };
}

Deno.test("calls expire at their own deadlines, in order, under one timer", async () => {
  const { clock, expired, deadlines } = setUp();
  deadlines.add(call("a"), 100);
  deadlines.add(call("b"), 300);
  deadlines.add(call("c"), 300);
  // An earlier deadline that comes later moves the one timer forward.
  deadlines.add(call("d"), 50);
  assertEquals(clock.pending, 1);
  await clock.advance(49);
  assertEquals(expired, []);
  await clock.advance(1);
  assertEquals(expired, ["d@50"]);
  await clock.advance(250);
  assertEquals(expired, ["d@50", "a@100", "b@300", "c@300"]);
  assertEquals(deadlines.size, 0);
  assertEquals(clock.pending, 0);
});

Deno.test("an answered call never expires; with none left the timer fires on nothing and ends", async () => {
  const { clock, expired, deadlines } = setUp();
  const first = call("first"), second = call("second");
  deadlines.add(first, 100);
  deadlines.add(second, 200);
  deadlines.cancel(first);
  deadlines.cancel(first);
  assertEquals(deadlines.size, 1);
  await clock.advance(150);
  assertEquals(expired, []);
  deadlines.cancel(second);
  assertEquals(deadlines.size, 0);
  await clock.advance(1000);
  assertEquals(expired, []);
  assertEquals(clock.pending, 0);
});

/** A fake clock that counts the timers set and whether each would keep the process alive. */
function countingClock() {
  const clock = new FakeClock();
  const set: { keepAlive: boolean }[] = [];
  const counting = Object.assign(Object.create(clock), {
    setTimeout(run: () => void, ms: number, options?: { keepAlive?: boolean }) {
      set.push({ keepAlive: options?.keepAlive !== false });
      return clock.setTimeout(run, ms);
    },
  }) as FakeClock;
  return { clock, counting, set };
}

Deno.test("calls made one at a time share one timer, which keeps no process alive", async () => {
  const { clock, counting, set } = countingClock();
  const expired: string[] = [];
  const deadlines = new Deadlines<Call>(counting, (entry) => expired.push(entry.name));
  // A program's usual pace: each call answered before the next is made.
  for (let i = 0; i < 100; i++) {
    const lone = call(`lone ${i}`);
    deadlines.add(lone, 30_000);
    await clock.advance(5);
    deadlines.cancel(lone);
  }
  assertEquals(set, [{ keepAlive: false }]);
  // A call still waiting when the timer fires on the answered ones expires on time all the same.
  const late = call("late");
  deadlines.add(late, 30_000);
  await clock.advance(30_000 - 1);
  assertEquals(expired, []);
  await clock.advance(1);
  assertEquals(expired, ["late"]);
  assertEquals(clock.pending, 0);
});

Deno.test("clear forgets every call and ends the timer at once", async () => {
  const { clock, expired, deadlines } = setUp();
  const waiting = call("waiting"), answered = call("answered");
  deadlines.add(answered, 100);
  deadlines.cancel(answered);
  deadlines.add(waiting, 200);
  deadlines.clear();
  assertEquals([deadlines.size, clock.pending], [0, 0]);
  await clock.advance(1000);
  assertEquals(expired, []);
  // Used again afterwards, it times as before.
  deadlines.add(call("again"), 10);
  await clock.advance(10);
  assertEquals(expired, ["again@1010"]);
});

Deno.test("thousands of answered calls leave the live ones to expire on time", async () => {
  const { clock, expired, deadlines } = setUp();
  const kept = call("kept");
  deadlines.add(kept, 5000);
  for (let i = 0; i < 5000; i++) {
    const answered = call(`answered ${i}`);
    deadlines.add(answered, 1000 + (i % 7) * 100);
    deadlines.cancel(answered);
  }
  const late = call("late");
  deadlines.add(late, 6000);
  assertEquals(deadlines.size, 2);
  await clock.advance(6000);
  assertEquals(expired, ["kept@5000", "late@6000"]);
});

Deno.test("an expiry may add and cancel calls", async () => {
  const clock = new FakeClock();
  const expired: string[] = [];
  const other = call("other");
  const deadlines: Deadlines<Call> = new Deadlines<Call>(clock, (entry) => {
    expired.push(`${entry.name}@${clock.now()}`);
    if (entry.name === "first") {
      deadlines.cancel(other);
      deadlines.add(call("again"), 10);
    }
  });
  deadlines.add(call("first"), 100);
  deadlines.add(other, 105);
  await clock.advance(200);
  assertEquals(expired, ["first@100", "again@110"]);
});
