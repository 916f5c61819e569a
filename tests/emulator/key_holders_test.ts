/**
 * The emulator's record of who drives each auth key: two connections of one process on a key are
 * one holder (a client's main and media connections); two processes at once are an overlap, kept
 * with both pids; a connection that closed before the next one used the key is not.
 */

import { assertEquals } from "../assert.ts";
import { KeyHolders } from "../../lib/emulator/key_holders.ts";

/** Client port → pid, as /proc would say. */
function holdersWith(pids: Record<number, number | undefined>) {
  return new KeyHolders({
    findProcess: (_server, client) => Promise.resolve(pids[client]),
    now: () => 42,
  });
}

Deno.test("one process's two connections on a key are one holder; a second process on it is an overlap naming both", async () => {
  const holders = holdersWith({ 5001: 100, 5002: 100, 5003: 200 });
  holders.connect(1, 443, 5001);
  holders.connect(2, 443, 5002);
  holders.connect(3, 443, 5003);
  holders.use(1, 2, "aa");
  holders.use(2, 2, "aa");
  await holders.settled();
  assertEquals(holders.overlaps, []);
  holders.use(3, 2, "aa");
  await holders.settled();
  assertEquals(holders.overlaps, [{ dcId: 2, authKeyId: "aa", processes: [100, 200], at: 42 }]);
});

Deno.test("a takeover done right: the old holder's connection closed before the new one used the key", async () => {
  const holders = holdersWith({ 5001: 100, 5002: 200 });
  holders.connect(1, 443, 5001);
  holders.use(1, 2, "aa");
  holders.connect(2, 443, 5002);
  holders.disconnect(1);
  holders.use(2, 2, "aa");
  await holders.settled();
  assertEquals(holders.overlaps, []);
});

Deno.test("keys are told apart by DC and id; a connection that moves to another key leaves the first", async () => {
  const holders = holdersWith({ 5001: 100, 5002: 200 });
  holders.connect(1, 443, 5001);
  holders.connect(2, 443, 5002);
  holders.use(1, 2, "aa");
  holders.use(2, 3, "aa");
  holders.use(2, 2, "bb");
  holders.use(1, 2, "cc");
  holders.use(2, 2, "aa");
  await holders.settled();
  assertEquals(holders.overlaps, []);
  holders.use(1, 2, "aa");
  await holders.settled();
  assertEquals(holders.overlaps.map((overlap) => overlap.processes), [[200, 100]]);
});

Deno.test("a process that could not be found counts against a known one, never as the same", async () => {
  const holders = holdersWith({ 5001: 100, 5002: undefined });
  holders.connect(1, 443, 5001);
  holders.connect(2, 443, 5002);
  holders.use(1, 2, "aa");
  holders.use(2, 2, "aa");
  await holders.settled();
  assertEquals(holders.overlaps.map((overlap) => overlap.processes), [[100, undefined]]);
});

Deno.test("an earlier connection its client already closed is no holder, though this process has not read its end yet", async () => {
  const closedByClient = new Set([5001]);
  const holders = new KeyHolders({
    findProcess: (_server, client) => Promise.resolve(client === 5001 ? 100 : 200),
    isOpen: (_server, client) => !closedByClient.has(client),
  });
  holders.connect(1, 443, 5001);
  holders.connect(2, 443, 5002);
  holders.use(1, 2, "aa");
  holders.use(2, 2, "aa");
  await holders.settled();
  assertEquals(holders.overlaps, []);
});
