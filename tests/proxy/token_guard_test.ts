import { assertEquals, assertStringIncludes } from "../assert.ts";
import { addressKey, TokenGuard, type TokenGuardOptions } from "../../lib/proxy/token_guard.ts";
import { FakeClock } from "../support/fake_clock.ts";

function guardOn(options: Partial<TokenGuardOptions> = {}) {
  const clock = new FakeClock();
  const lines: string[] = [];
  const guard = new TokenGuard({
    baseMs: 100,
    capMs: 1000,
    maxWaitMs: 5000,
    logIntervalMs: 60_000,
    forgetAfterMs: 600_000,
    clock,
    log: (line) => lines.push(line),
    ...options,
  });
  return { clock, lines, guard };
}

Deno.test("token guard: consecutive failures from an address wait exponentially longer, up to the cap", () => {
  const { guard } = guardOn();
  const delays = Array.from({ length: 7 }, () => guard.failed("203.0.113.7"));
  assertEquals(delays, [100, 200, 400, 800, 1000, 1000, 1000]);
  // Another address starts from the beginning.
  assertEquals(guard.failed("198.51.100.1"), 100);
  assertEquals(guard.stats(), { total: 8, addresses_throttled: 2 });
  guard.close();
});

Deno.test("token guard: an address's connections wait out its penalties one after another, and are turned away past the limit", async () => {
  const { clock, guard } = guardOn();
  assertEquals(guard.admit("203.0.113.7"), { kind: "read", waitMs: 0 });
  // Three guesses on parallel connections: their penalties queue, 100 + 200 + 400 ms.
  guard.failed("203.0.113.7");
  guard.failed("203.0.113.7");
  guard.failed("203.0.113.7");
  assertEquals(guard.admit("203.0.113.7"), { kind: "read", waitMs: 700 });
  assertEquals(guard.admit("198.51.100.1"), { kind: "read", waitMs: 0 });
  // The next connection waits on the guard's clock, not on the wall clock.
  let woke = false;
  guard.sleep(700).then(() => (woke = true));
  await clock.advance(699);
  assertEquals(woke, false);
  await clock.advance(1);
  assertEquals(woke, true);
  assertEquals(guard.stats().addresses_throttled, 0);
  // Ten more guesses at once push the penalty past what a connection is kept waiting for.
  for (let i = 0; i < 10; i++) guard.failed("203.0.113.7");
  const admission = guard.admit("203.0.113.7");
  assertEquals(admission.kind, "turned_away");
  assertEquals(guard.stats(), { total: 13, addresses_throttled: 1 });
  guard.close();
});

Deno.test("token guard: failures are remembered across a pause; an address quiet long enough starts over", async () => {
  const { clock, guard } = guardOn();
  guard.failed("203.0.113.7");
  guard.failed("203.0.113.7");
  await clock.advance(60_000);
  // Still remembered: the third failure in a row.
  assertEquals(guard.failed("203.0.113.7"), 400);
  await clock.advance(600_000 + 60_000);
  // Nothing remembered, so nothing left running either.
  assertEquals([guard.stats(), clock.pending], [{ total: 3, addresses_throttled: 0 }, 0]);
  assertEquals(guard.failed("203.0.113.7"), 100);
  guard.close();
});

Deno.test("token guard: each address is logged once per interval, with what it tried in between", async () => {
  const { clock, lines, guard } = guardOn();
  for (let i = 0; i < 50; i++) guard.failed("203.0.113.7");
  guard.failed("198.51.100.1");
  assertEquals(lines.length, 2);
  assertStringIncludes(lines[0], "203.0.113.7: 1 attempt since its last report");
  assertStringIncludes(lines[1], "198.51.100.1");
  await clock.advance(30_000);
  for (let i = 0; i < 10; i++) guard.failed("203.0.113.7");
  assertEquals(lines.length, 2);
  // The interval's end reports what was held back.
  await clock.advance(30_000);
  assertEquals(lines.length, 3);
  assertStringIncludes(lines[2], "203.0.113.7: 59 attempts since its last report, 60 in a row");
  await clock.advance(60_000);
  assertEquals(lines.length, 3);
  guard.close();
});

Deno.test("token guard: many addresses neither grow memory past the limit nor flood the log", async () => {
  const { clock, lines, guard } = guardOn({ maxAddresses: 100, maxLogLines: 5 });
  for (let i = 0; i < 10_000; i++) guard.failed(`10.${i >> 16 & 255}.${i >> 8 & 255}.${i & 255}`);
  // Only the 100 most recent addresses are remembered.
  assertEquals(guard.stats(), { total: 10_000, addresses_throttled: 100 });
  assertEquals(guard.failed("10.0.0.0"), 100); // forgotten long ago: a first failure again
  assertEquals(guard.failed("10.0.39.15"), 200); // among the most recent
  assertEquals(lines.length, 5);
  await clock.advance(60_000);
  // The next interval names five more and sums up the rest in one line, losing no attempt.
  assertEquals(lines.length, 11);
  assertStringIncludes(lines[10], "other addresses");
  const counted = lines.map((line) => Number(/(\d+) (?:more )?attempts?/.exec(line)![1]));
  assertEquals(counted.reduce((a, b) => a + b), 10_002);
  await clock.advance(60_000);
  assertEquals(lines.length, 11);
  guard.close();
});

Deno.test("token guard: IPv6 clients count by their /64", () => {
  const { guard } = guardOn();
  assertEquals(guard.failed("2001:db8:1:2::1"), 100);
  assertEquals(guard.failed("2001:db8:1:2:ffff:ffff:ffff:ffff"), 200);
  assertEquals(guard.failed("2001:db8:1:3::1"), 100);
  assertEquals(addressKey("::ffff:203.0.113.7"), "203.0.113.7");
  assertEquals(addressKey("[::1]"), "0:0:0:0::/64");
  guard.close();
});
