// The retry policy for connections that fail before a request goes out: growing waits, and never
// a wait that would outlast the request's deadline.
import { assertEquals } from "../assert.ts";
import { decideReconnect } from "../../lib/client/retry_policy.ts";
import { ConnectionFailedError } from "../../lib/net/sender.ts";
import { RECONNECT_BACKOFF } from "../../lib/net/backoff.ts";

const refused = new ConnectionFailedError("cannot reach 127.0.0.1:1 at the TCP connect: refused");

Deno.test("a failed connection is tried again after growing waits while the deadline allows", () => {
  const waits: number[] = [];
  let left = 10_000;
  for (let failures = 0;; failures++) {
    const decision = decideReconnect(refused, failures, left, () => 1);
    if (decision.action !== "wait") break;
    assertEquals(decision.reason.startsWith("ConnectionFailed: cannot reach"), true);
    waits.push(decision.ms);
    left -= decision.ms;
  }
  // 0.1, 0.2, 0.4, 0.8, 1.6, 3.2 s: the next (5 s) does not fit in what is left of 10 s.
  assertEquals(waits, [100, 200, 400, 800, 1600, 3200]);
  assertEquals(waits.every((ms) => ms <= RECONNECT_BACKOFF.capMs), true);
});

Deno.test("a wait that would reach the deadline is not made: the error goes to the caller", () => {
  assertEquals(decideReconnect(refused, 0, 100, () => 1), { action: "return" });
  assertEquals(decideReconnect(refused, 0, 101, () => 1).action, "wait");
  assertEquals(decideReconnect(refused, 0, 0, () => 0), { action: "return" });
});
