/**
 * Several `serve` instances on one PostgreSQL (issue #21): each held account is leased to one
 * instance; when that one is killed, another takes the account over within the lease length plus
 * a few seconds, and a client that comes back to it with its cursor gets exactly what it missed;
 * a clean shutdown (SIGTERM) gives the leases up at once; health reports leases and takeovers; an
 * instance whose database stops answering, or that is cut off from it, stops driving its accounts
 * before their leases lapse, and takes them again once it answers; a client that attaches on
 * another instance than the holder's has the account handed over to it. Each test ends with the
 * emulator's record: no moment when two instances held connections on one key.
 */

import { assertEquals } from "../assert.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInAlice, signInByCode } from "../support/processes.ts";
import { startPartitionRelay } from "../support/partition_relay.ts";
import { extraUserPhone } from "../../lib/emulator/world_default.ts";
import { until } from "../support/until.ts";
import { openPostgresStore } from "../../lib/store/postgres.ts";
import { keyIdOf } from "../../lib/proxy/held_defaults.ts";
import { startInstancesBed } from "../support/instances_bed.ts";
import {
  isMoved,
  isSynced,
  lastMessageCursor,
  type Line,
  range,
  textsOf,
} from "../support/json_lines.ts";

const LEASE_S = 2;

Deno.test("two instances on one database: A killed, B takes Alice over within the lease + 5 s and her cursor resumes exactly; B stopped with SIGTERM, A' takes her at once", async () => {
  const bed = await startInstancesBed();
  try {
    /** The instance whose live lease Alice's account is under, if any. */
    const owner = async () => [...(await bed.leaseOwners()).keys()][0];

    const a = await bed.start(LEASE_S);
    const b = await bed.start(LEASE_S);
    const first = await JsonClient.connect(a.port);
    const session = await signInAlice(first) as Line;
    await first.next(isSynced);
    await bed.send(range("before", 0, 3));
    await until(() => textsOf(first).length === 3, 15_000, "3 messages on A");
    const cursor = lastMessageCursor(first);
    first.close();
    const ownerA = (await bed.health(a.port)).instance as string;
    assertEquals(await owner(), ownerA);
    assertEquals((await bed.health(b.port)).leases_held, 0);

    // A dies without a word: B takes Alice over once A's lease lapsed.
    a.child.kill("SIGKILL");
    await a.child.status;
    const killed = Date.now();
    await bed.send(range("while A is down", 0, 3));
    const ownerB = (await bed.health(b.port)).instance as string;
    await until(async () => (await owner()) === ownerB, (LEASE_S + 5) * 1000, "B's takeover");
    const tookMs = Date.now() - killed;
    assertEquals(tookMs < (LEASE_S + 5) * 1000, true, `${tookMs} ms`);
    const reportB = await bed.health(b.port);
    assertEquals([reportB.leases_held, reportB.takeovers], [1, 1]);

    const back = await JsonClient.connect(b.port);
    try {
      const answer = await back.request({ id: 1, session: { ...session, updates_cursor: cursor } });
      assertEquals(answer.error, undefined, JSON.stringify(answer));
      const synced = await back.next(isSynced, 30_000);
      // Each of them once and in order, before synced: B's own catching up fetched them, and a
      // connection that attached meanwhile is replayed what waited in B's write queue too (once,
      // in a full parallel e2e run, they came after synced instead).
      assertEquals(textsOf(back), range("while A is down", 0, 3));
      assertEquals((synced.event as Line).recovered, 3);
    } finally {
      back.close();
    }

    // A rolling restart: A' comes up, B stops cleanly and gives its leases up at once.
    const a2 = await bed.start(LEASE_S);
    b.child.kill("SIGTERM");
    await b.child.status;
    const stopped = Date.now();
    const ownerA2 = (await bed.health(a2.port)).instance as string;
    await bed.send(["after B left"]);
    // Within one renewal round (a third of the lease), not the lease's length after B's last renewal.
    await until(async () => (await owner()) === ownerA2, (LEASE_S + 5) * 1000, "A′ takes over");
    const handedMs = Date.now() - stopped;
    const again = await JsonClient.connect(a2.port);
    try {
      await again.request({ id: 1, session: { ...session, updates_cursor: cursor } });
      await again.next(isSynced, 30_000);
      assertEquals(textsOf(again), [...range("while A is down", 0, 3), "after B left"]);
    } finally {
      again.close();
    }
    // A clean stop moves the account without waiting for the lease to lapse.
    assertEquals(handedMs < LEASE_S * 1000 + 1000, true, `${handedMs} ms`);
    await bed.noKeyDrivenTwice();
  } finally {
    await bed.close();
  }
});

Deno.test("the database paused (SIGSTOP): the instance stops Alice's account before her lease can lapse, and holds her again once it answers; her cursor resumes exactly", async () => {
  const bed = await startInstancesBed();
  let paused = false;
  try {
    const serve = await bed.start(3);
    const first = await JsonClient.connect(serve.port);
    const session = await signInAlice(first) as Line;
    await first.next(isSynced);
    await bed.send(["before"]);
    await until(() => textsOf(first).length === 1, 15_000, "the first message");
    const cursor = lastMessageCursor(first);
    first.close();

    await bed.pg.pause();
    paused = true;
    const pausedAt = Date.now();
    await until(
      () => serve.stderr().includes("stops here"),
      10_000,
      "the account stopped for its lease",
    );
    // Stopped while the database still cannot answer, within the lease's length of the pause.
    assertEquals(Date.now() - pausedAt < 3_000 + 1_000, true, `${Date.now() - pausedAt} ms`);
    await bed.send(["during the partition"]);
    await bed.pg.resume();
    paused = false;

    await bed.send(["after"]);
    const back = await JsonClient.connect(serve.port);
    try {
      const answer = await back.request({ id: 1, session: { ...session, updates_cursor: cursor } });
      assertEquals(answer.error, undefined, JSON.stringify(answer));
      await back.next(isSynced, 30_000);
      await until(() => textsOf(back).length >= 2, 15_000, "what came meanwhile");
      assertEquals(textsOf(back), ["during the partition", "after"]);
    } finally {
      back.close();
    }
    // Fencing as the emulator saw it: the stopped client's connection was gone before the
    // instance drove the key again.
    await bed.noKeyDrivenTwice();
  } finally {
    if (paused) await bed.pg.resume();
    await bed.close();
  }
});

Deno.test("a partition between one instance and PostgreSQL: it stops its accounts before the other takes them (the emulator's record), and holds its share again once healed", async () => {
  const bed = await startInstancesBed({ users: 4 });
  const relay = startPartitionRelay(Number(new URL(bed.url).port));
  try {
    // A reaches the database through the relay, B directly.
    const relayed = new URL(bed.url);
    relayed.port = String(relay.port);
    const a = await bed.start(LEASE_S, { state: relayed.href });
    const sessions: Line[] = [];
    const cursors: string[] = [];
    for (let index = 1; index <= 4; index++) {
      const client = await JsonClient.connect(a.port);
      sessions.push(await signInByCode(client, `+${extraUserPhone(index)}`) as Line);
      cursors.push(((await client.next(isSynced)).event as Line).cursor as string);
      client.close();
    }
    const b = await bed.start(LEASE_S);
    assertEquals((await bed.health(a.port)).leases_held, 4);

    relay.partition();
    const cut = Date.now();
    await until(
      () => (a.stderr().match(/stops here/g) ?? []).length === 4,
      (LEASE_S + 5) * 1000,
      "A stopping its four accounts",
    );
    // Within about the lease of the cut (a loaded machine reads the log late); that it stopped
    // before B drove any of them is the emulator's record, checked at the end.
    const stoppedMs = Date.now() - cut;
    assertEquals(stoppedMs < LEASE_S * 1000 + 1000, true, `${stoppedMs} ms`);
    await until(
      async () => (await bed.health(b.port)).leases_held === 4,
      (LEASE_S + 5) * 1000,
      "B taking the four accounts over",
    );
    await bed.send(["while A is cut off"], 1);
    const onB = await JsonClient.connect(b.port);
    try {
      await onB.request({ id: 1, session: { ...sessions[0], updates_cursor: cursors[0] } });
      await onB.next(isSynced, 15_000);
      await until(() => textsOf(onB).length === 1, 15_000, "the message on B");
      assertEquals(textsOf(onB), ["while A is cut off"]);
      cursors[0] = lastMessageCursor(onB);
    } finally {
      onB.close();
    }

    // Healed: A is an instance among two again, and serves a client that asks it for an account.
    relay.heal();
    await until(async () => (await bed.health(a.port)).store === "ok", 15_000, "A's store again");
    await bed.send(["after the partition"], 1);
    const onA = await JsonClient.connect(a.port);
    try {
      await onA.request({ id: 1, session: { ...sessions[0], updates_cursor: cursors[0] } });
      await onA.next(isSynced, 15_000);
      await until(() => textsOf(onA).length === 1, 15_000, "the message on A");
      assertEquals(textsOf(onA), ["after the partition"]);
    } finally {
      onA.close();
    }
    await bed.noKeyDrivenTwice();
  } finally {
    relay.heal();
    await bed.close();
    relay.close();
  }
});

Deno.test("Alice held by A attaches on B: A hands her over (LISTEN/NOTIFY), and B serves her cursor without a gap within 2 s", async () => {
  const bed = await startInstancesBed();
  try {
    // A long lease: only a handover can move Alice within the test.
    const a = await bed.start(60);
    const b = await bed.start(60);
    const first = await JsonClient.connect(a.port);
    const session = await signInAlice(first) as Line;
    await first.next(isSynced);
    await bed.send(["before"]);
    await until(() => textsOf(first).length === 1, 15_000, "the first message on A");
    const cursor = lastMessageCursor(first);
    // Alice's connection on A stays open through the handover.
    await bed.send(["meanwhile 0", "meanwhile 1"]);
    assertEquals((await bed.health(a.port)).leases_held, 1);

    const onB = await JsonClient.connect(b.port);
    try {
      const began = Date.now();
      const answer = await onB.request({ id: 1, session: { ...session, updates_cursor: cursor } });
      assertEquals(answer.error, undefined, JSON.stringify(answer));
      await onB.next(isSynced, 2_000);
      const tookMs = Date.now() - began;
      assertEquals(textsOf(onB), ["meanwhile 0", "meanwhile 1"]);
      assertEquals(tookMs < 2_000, true, `${tookMs} ms`);
      await bed.send(["after"]);
      await until(() => textsOf(onB).length === 3, 15_000, "the live message on B");
      assertEquals(textsOf(onB).at(-1), "after");
      // B drives the key now: a call on B is answered, and one from the connection left on A is
      // refused, not sent through A's stopped client (two instances on one key).
      const me = { _cons: "users.getUsers", id: [{ _cons: "inputUserSelf" }] };
      const onBAnswer = await onB.request({ id: 2, message: me });
      assertEquals(((onBAnswer.message as Line[])[0] as Line).first_name, "Alice");
      const left = await first.request({ id: 3, message: me });
      assertEquals(left.error, "AccountMoved", JSON.stringify(left));
      // And that connection was told, once, when the account left A.
      assertEquals(first.updates.filter(isMoved).length, 1);
    } finally {
      onB.close();
      first.close();
    }
    const [reportA, reportB] = [await bed.health(a.port), await bed.health(b.port)];
    assertEquals([reportA.leases_held, reportA.handovers], [0, 1]);
    assertEquals(reportB.leases_held, 1);
    await bed.noKeyDrivenTwice();
  } finally {
    await bed.close();
  }
});

Deno.test("an instance leaves its own handover asks alone (every listener hears them); another's ask moves the account, and its connection is told account_moved", async () => {
  const bed = await startInstancesBed();
  try {
    const serve = await bed.start(60);
    const alice = await JsonClient.connect(serve.port);
    try {
      const session = await signInAlice(alice) as Line;
      await alice.next(isSynced);
      const health = (await alice.request({ id: 2, health: {} })).health as Line;
      const store = await openPostgresStore(bed.url);
      try {
        // The instance's own ask (as when a client of its asked just before it took the lease).
        await store.askHandover(keyIdOf(session)!, health.instance as string);
        await bed.send(["still here"]);
        await until(() => textsOf(alice).length === 1, 15_000, "the message after its own ask");
        assertEquals(alice.updates.some(isMoved), false);
        // Another instance's ask: the account is handed over, and the connection told.
        await store.askHandover(keyIdOf(session)!, "another-instance");
        await until(() => alice.updates.some(isMoved), 15_000, "account_moved");
        // The lease is released just after the connections are told.
        let n = 3;
        await until(
          async () => {
            const after = (await alice.request({ id: n++, health: {} })).health as Line;
            return after.leases_held === 0 && after.handovers === 1;
          },
          15_000,
          "the handover in health",
        );
      } finally {
        await store.close();
      }
    } finally {
      alice.close();
    }
  } finally {
    await bed.close();
  }
});
