import { assertEquals } from "../assert.ts";
import { RpcError } from "../../lib/errors.ts";
import { decideRetry, MAX_ATTEMPTS } from "../../lib/client/retry_policy.ts";

const options = { floodWaitThreshold: 5, followMigrations: true };
const decide = (code: number, message: string, attempt = 0, extra = {}) =>
  decideRetry(new RpcError(code, message), attempt, { ...options, ...extra });

Deno.test("flood waits up to the threshold are waited out, longer ones returned", () => {
  assertEquals(decide(420, "FLOOD_WAIT_5"), { action: "wait", ms: 5000, reason: "FLOOD_WAIT_5" });
  assertEquals(decide(420, "FLOOD_PREMIUM_WAIT_2"), {
    action: "wait",
    ms: 2000,
    reason: "FLOOD_PREMIUM_WAIT_2",
  });
  assertEquals(decide(420, "FLOOD_WAIT_6"), { action: "return" });
  assertEquals(decide(420, "FLOOD_WAIT_6", 0, { floodWaitThreshold: 10 }).action, "wait");
  assertEquals(decide(420, "FLOOD_WAIT_1", 0, { floodWaitThreshold: 0 }), { action: "return" });
});

Deno.test("slow mode is the chat's rule and goes back to the caller", () => {
  assertEquals(decide(420, "SLOWMODE_WAIT_3"), { action: "return" });
});

Deno.test("migrations name the DC and whether it becomes home", () => {
  assertEquals(decide(303, "PHONE_MIGRATE_4"), { action: "migrate", dc: 4, home: true });
  assertEquals(decide(303, "USER_MIGRATE_1"), { action: "migrate", dc: 1, home: true });
  assertEquals(decide(303, "NETWORK_MIGRATE_3"), { action: "migrate", dc: 3, home: true });
  assertEquals(decide(303, "FILE_MIGRATE_5"), { action: "migrate", dc: 5, home: false });
  assertEquals(decide(303, "STATS_MIGRATE_2"), { action: "migrate", dc: 2, home: false });
  assertEquals(decide(303, "FILE_MIGRATE_5", 0, { followMigrations: false }), {
    action: "return",
  });
});

Deno.test("server-side failures are retried twice with a growing wait, then returned", () => {
  for (const [code, message] of [[500, "INTERNAL"], [-503, "Timeout"], [500, "RPC_CALL_FAIL"]]) {
    assertEquals(decide(code as number, message as string, 0).action, "wait");
    assertEquals(decide(code as number, message as string, 0), {
      action: "wait",
      ms: 1000,
      reason: message as string,
    });
    assertEquals(decide(code as number, message as string, 1), {
      action: "wait",
      ms: 2000,
      reason: message as string,
    });
    assertEquals(decide(code as number, message as string, 2), { action: "return" });
  }
});

Deno.test("client errors are returned at once, and nothing is retried past the attempt limit", () => {
  assertEquals(decide(400, "PEER_ID_INVALID"), { action: "return" });
  assertEquals(decide(401, "AUTH_KEY_UNREGISTERED"), { action: "return" });
  assertEquals(decide(420, "FLOOD_WAIT_1", MAX_ATTEMPTS - 1), { action: "return" });
  assertEquals(decide(303, "FILE_MIGRATE_2", MAX_ATTEMPTS - 1), { action: "return" });
});
