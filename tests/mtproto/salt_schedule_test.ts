// The client's salt schedule on its own: which salt to send with, when to ask for more, and the
// growing wait after a refusal.
import { assertEquals } from "../assert.ts";
import { SALTS_RETRY_SECONDS, SaltSchedule } from "../../lib/mtproto/salt_schedule.ts";

const salts = [
  { validSince: 100, validUntil: 200, salt: 2n },
  { validSince: 0, validUntil: 100, salt: 1n },
  { validSince: 200, validUntil: 300, salt: 3n },
];

Deno.test("the salt is the first known one whose period came; expired ones are dropped", () => {
  const schedule = new SaltSchedule();
  assertEquals(schedule.current(50, 9n), 9n); // nothing known: keep the one in use
  schedule.replace(salts); // out of order on purpose: the schedule sorts them
  assertEquals(schedule.current(50, 9n), 1n);
  assertEquals(schedule.current(100, 1n), 1n); // valid until 100 inclusive
  assertEquals(schedule.current(150, 1n), 2n);
  assertEquals(schedule.current(250, 2n), 3n);
  assertEquals(schedule.current(400, 3n), 3n); // all expired: keep the one in use
});

Deno.test("a salt not yet valid is not used early", () => {
  const schedule = new SaltSchedule();
  schedule.replace([{ validSince: 500, validUntil: 600, salt: 5n }]);
  assertEquals(schedule.current(400, 9n), 9n);
  assertEquals(schedule.current(500, 9n), 5n);
});

Deno.test("ask when at most one salt is left and none is asked already", () => {
  const schedule = new SaltSchedule();
  assertEquals(schedule.shouldAsk(0), true);
  schedule.asked(-7);
  assertEquals([schedule.shouldAsk(0), schedule.isRequest(-7), schedule.isRequest(-8)], [
    false,
    true,
    false,
  ]);
  schedule.replace(salts);
  schedule.answered(true, 0);
  assertEquals(schedule.isRequest(-7), false);
  assertEquals(schedule.shouldAsk(0), false); // three known
  schedule.current(250, 0n); // two expire
  assertEquals(schedule.shouldAsk(250), true);
  schedule.clear();
  assertEquals(schedule.current(250, 8n), 8n);
});

Deno.test("after refusals the next ask waits 60 s, then 120 s, …, at most an hour", () => {
  const schedule = new SaltSchedule();
  let now = 0;
  const waits: number[] = [];
  for (let i = 0; i < 8; i++) {
    schedule.asked(-1);
    schedule.answered(false, now);
    let wait = 0;
    while (!schedule.shouldAsk(now + wait)) wait += 30;
    waits.push(wait);
    now += wait;
  }
  assertEquals(SALTS_RETRY_SECONDS, 60);
  assertEquals(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
  // An answer resets the wait.
  schedule.asked(-1);
  schedule.answered(true, now);
  schedule.asked(-1);
  schedule.answered(false, now);
  assertEquals([schedule.shouldAsk(now + 59), schedule.shouldAsk(now + 60)], [false, true]);
});
