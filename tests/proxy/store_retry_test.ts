import { assertEquals } from "../assert.ts";
import { StoreRetry } from "../../lib/proxy/store_retry.ts";
import { FakeClock } from "../support/fake_clock.ts";

/** A store that fails with `cause` while it is set, and what the retry did around it. */
function world() {
  const clock = new FakeClock();
  const seen: string[] = [];
  let cause: string | undefined = "database or disk is full";
  const write = () => cause ? Promise.reject(new Error(cause)) : Promise.resolve();
  const retry = new StoreRetry({
    log: (line) => seen.push(`log: ${line}`),
    clock,
    retryMs: 1000,
    stop: () => seen.push("stop"),
    probe: async () => {
      seen.push(`probe at ${clock.now()}`);
      await write();
    },
    resume: () => seen.push("resume"),
  });
  return { clock, seen, retry, write, setCause: (next?: string) => (cause = next) };
}

Deno.test("a failed store write stops the account, is logged once, and is probed with doubling waits until it works", async () => {
  const { clock, seen, retry, write, setCause } = world();
  assertEquals(await retry.run(write), false);
  assertEquals(retry.failure, "database or disk is full");
  await clock.advance(1000 + 2000 + 4000);
  setCause(undefined);
  await clock.advance(5000);
  assertEquals(seen, [
    "log: database or disk is full. Its updates wait; they are fetched again once the store can be written.",
    "stop",
    "probe at 1000",
    "stop",
    "probe at 3000",
    "stop",
    "probe at 7000",
    "stop",
    "probe at 12000",
    "log: can be written again; fetching what it missed",
    "resume",
  ]);
  assertEquals(retry.failure, undefined);
  // Working again: writes go through, and nothing more is scheduled.
  assertEquals(await retry.run(write), true);
  await clock.advance(60_000);
  assertEquals(seen.length, 11);
});

Deno.test("the wait between probes stops growing at 5 s; a new cause is logged; close ends the probes", async () => {
  const { clock, seen, retry, write, setCause } = world();
  await retry.run(write);
  await clock.advance(1000 + 2000 + 4000); // probes at 1, 3 and 7 s
  setCause("disk I/O error");
  await clock.advance(5000); // the next at 12 s, not 15 s
  assertEquals(seen.filter((line) => line.startsWith("probe")).at(-1), "probe at 12000");
  assertEquals(seen.filter((line) => line.startsWith("log")).length, 2);
  assertEquals(seen.includes("log: still failing: disk I/O error"), true, seen.join("\n"));
  retry.close();
  const before = seen.length;
  await clock.advance(120_000);
  assertEquals(seen.length, before);
});
