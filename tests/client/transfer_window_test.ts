import { assertEquals } from "../assert.ts";
import { RpcError } from "../../lib/errors.ts";
import {
  DOWNLOAD_WINDOW,
  TransferWindow,
  type TransferWindowOptions,
  UPLOAD_WINDOW,
  type WindowPart,
} from "../../lib/client/transfer_window.ts";

const MiB = 1024 * 1024;

interface Part extends WindowPart {
  name: string;
}

const part = (name: string, dc = 2, bytes = 512 * 1024): Part => ({ name, dc, bytes });

/** A window with `parts` queued, on `options` over the download defaults with no jitter. */
function windowWith(parts: Part[], options: Partial<TransferWindowOptions> = {}) {
  const window = new TransferWindow<Part>({ ...DOWNLOAD_WINDOW, random: () => 1, ...options });
  for (const queued of parts) window.add(queued);
  return window;
}

/** Takes every part the window lets go at `now`, as "name@connection". */
function drain(window: TransferWindow<Part>, now: number): string[] {
  const sent: string[] = [];
  for (let step = window.next(now); step && "part" in step; step = window.next(now)) {
    sent.push(`${step.part.name}@${step.connection}`);
  }
  return sent;
}

const names = (count: number, prefix = "p") =>
  Array.from({ length: count }, (_, i) => part(`${prefix}${i}`));

Deno.test("slow start: a DC begins with the start window and grows one part per answer up to the cap", () => {
  const parts = names(20);
  const window = windowWith(parts, { startParts: 2, maxParts: 6, maxBytes: 100 * MiB });
  assertEquals(drain(window, 0), ["p0@0", "p1@1"]);
  window.done(parts[0]);
  assertEquals(window.window(2), 3);
  assertEquals(drain(window, 0), ["p2@0", "p3@0"]);
  for (const answered of parts.slice(1, 4)) window.done(answered);
  assertEquals(window.window(2), 6);
  assertEquals(window.inFlight(2).parts, 0);
  assertEquals(drain(window, 0).length, 6);
  for (const answered of parts.slice(4, 10)) window.done(answered);
  assertEquals(window.window(2), 6); // the cap
});

Deno.test("the bytes cap bounds what a DC has in flight, but one part always goes", () => {
  const big = [part("a", 2, MiB), part("b", 2, MiB), part("c", 2, MiB)];
  const window = windowWith(big, { startParts: 6, maxBytes: 2 * MiB });
  assertEquals(drain(window, 0), ["a@0", "b@1"]);
  assertEquals(window.inFlight(2).bytes, 2 * MiB);
  window.done(big[0]);
  assertEquals(drain(window, 0), ["c@0"]);

  const huge = part("huge", 4, 8 * MiB);
  const alone = windowWith([huge], { maxBytes: MiB });
  assertEquals(drain(alone, 0), ["huge@0"]);
});

Deno.test("the next part goes on the least loaded connection of its DC", () => {
  const parts = names(10);
  const window = windowWith(parts, {
    connections: 3,
    perConnection: 2,
    startParts: 6,
    maxParts: 6,
    maxBytes: 100 * MiB,
  });
  assertEquals(drain(window, 0), ["p0@0", "p1@1", "p2@2", "p3@0", "p4@1", "p5@2"]);
  window.done(parts[4]); // connection 1 has room again
  assertEquals(drain(window, 0), ["p6@1"]);
  assertEquals(window.inFlight(2).connections, [2, 2, 2]);
});

Deno.test("FLOOD_WAIT_3 makes the DC's queued parts wait 3 s on the fed clock and halves its window", () => {
  const parts = names(12);
  const other = part("other", 4);
  const window = windowWith([...parts, other], { startParts: 6, maxBytes: 100 * MiB });
  assertEquals(drain(window, 1000).length, 7); // six to DC 2, one to DC 4
  assertEquals(window.failed(parts[0], new RpcError(420, "FLOOD_WAIT_3"), 1000), {
    action: "flood_wait",
    until: 4000,
  });
  assertEquals(window.window(2), 3);
  // Every part sent in the same round trip reports the same flood: the window is cut once.
  window.failed(parts[1], new RpcError(420, "FLOOD_WAIT_3"), 1100);
  assertEquals(window.window(2), 3);
  for (const answered of parts.slice(2, 6)) window.done(answered);
  assertEquals(window.next(1200), { waitUntil: 4100 });
  assertEquals(window.next(4099), { waitUntil: 4100 });
  // The flooded parts go first, then the queue, three at a time.
  assertEquals(drain(window, 4100).map((sent) => sent.split("@")[0]), ["p0", "p1", "p6"]);
});

Deno.test("a flood on one DC holds only that DC", () => {
  const [x, y, z, w] = [part("x", 2), part("y", 4), part("z", 2), part("w", 4)];
  const window = windowWith([x, y, z, w], { startParts: 1 });
  assertEquals(drain(window, 0), ["x@0", "y@0"]);
  assertEquals(window.failed(x, new RpcError(420, "FLOOD_PREMIUM_WAIT_5"), 0), {
    action: "flood_wait",
    until: 5000,
  });
  window.done(y);
  assertEquals(drain(window, 10), ["w@0"]);
  assertEquals(window.next(10), { waitUntil: 5000 });
  assertEquals(drain(window, 5000), ["x@0"]);
});

Deno.test("a failing part is retried after a growing wait and given up after the limit", () => {
  const flaky = part("flaky");
  const window = windowWith([flaky], {
    maxFailures: 3,
    retryBackoff: { baseMs: 1000, capMs: 10_000 },
  });
  const error = new RpcError(500, "INTERNAL");
  drain(window, 0);
  assertEquals(window.failed(flaky, error, 0), { action: "retry", at: 1000 });
  assertEquals(window.next(500), { waitUntil: 1000 });
  drain(window, 1000);
  assertEquals(window.failed(flaky, error, 1000), { action: "retry", at: 3000 });
  drain(window, 3000);
  assertEquals(window.failed(flaky, error, 3000), { action: "give_up", failures: 3 });
  assertEquals(window.size, 0);
  assertEquals(window.next(99_000), undefined);
  // Flood waits do not count as failures.
  const patient = part("patient");
  const other = windowWith([patient], { maxFailures: 1 });
  for (let i = 0; i < 5; i++) {
    drain(other, i * 1000);
    assertEquals(
      other.failed(patient, new RpcError(420, "FLOOD_WAIT_1"), i * 1000)?.action,
      "flood_wait",
    );
  }
});

Deno.test("a dropped connection re-queues its parts in their places, without counting failures", () => {
  const parts = names(6);
  const window = windowWith(parts, { startParts: 4, maxFailures: 1, maxBytes: 100 * MiB });
  assertEquals(drain(window, 0), ["p0@0", "p1@1", "p2@0", "p3@1"]);
  assertEquals(window.connectionLost(2, 1).map((lost) => lost.name), ["p1", "p3"]);
  assertEquals(window.inFlight(2), { parts: 2, bytes: 2 * 512 * 1024, connections: [2, 0] });
  // The late answer of a lost part is not counted twice.
  assertEquals(window.done(parts[1]), false);
  assertEquals(window.failed(parts[3], new Error("late"), 0), undefined);
  assertEquals(drain(window, 0), ["p1@1", "p3@1"]);
  assertEquals(window.failed(parts[1], new Error("reset"), 0), { action: "give_up", failures: 1 });
});

Deno.test("parts go in the order they were added, over every DC", () => {
  const parts = [part("a", 1), part("b", 2), part("c", 1), part("d", 3)];
  const window = windowWith(parts, { startParts: 4 });
  assertEquals(drain(window, 0), ["a@0", "b@0", "c@1", "d@0"]);
  assertEquals(window.next(0), undefined);
});

Deno.test("a removed part leaves the queue, or frees its room in flight", () => {
  const parts = names(4);
  const window = windowWith(parts, { startParts: 2 });
  drain(window, 0);
  window.remove(parts[0]);
  window.remove(parts[3]);
  assertEquals(window.inFlight(2).parts, 1);
  assertEquals(drain(window, 0), ["p2@0"]);
  assertEquals(window.size, 2);
});

Deno.test("the upload defaults spread one part per connection over eight", () => {
  const parts = names(10);
  const window = windowWith(parts, { ...UPLOAD_WINDOW, startParts: 8, random: () => 1 });
  assertEquals(drain(window, 0), parts.slice(0, 8).map((p, i) => `${p.name}@${i}`));
});
