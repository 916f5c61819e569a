/**
 * A fleet (issue #21): three `serve` instances on one PostgreSQL hold 300 accounts of the
 * emulator's `--users 300`, each account's client attached through a round-robin of instances
 * while Bob writes to them 20 messages a second. One instance is killed (kill -9): the others
 * serve its accounts again within the lease + 5 s; a second is stopped with SIGTERM: the last one
 * has them at once; both come back and the clients spread over the three again (handovers).
 * Every client that comes back with its last cursor gets every message exactly once, in order,
 * and the emulator's record shows no moment when two instances held connections on one key.
 *
 * `MTPROTO2JSON_FLEET_DEBUG=DIR` runs the instances with `--verbose` and writes their logs, the
 * test's timeline (each message sent, each step) and each account's key and moves into DIR.
 */

import { assertEquals } from "../assert.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInByCode } from "../support/processes.ts";
import { extraUserPhone } from "../../lib/emulator/world_default.ts";
import { keyIdOf } from "../../lib/proxy/held_defaults.ts";
import { until } from "../support/until.ts";
import { startInstancesBed } from "../support/instances_bed.ts";
import { isMoved, isSynced, type Line, textOf } from "../support/json_lines.ts";

const ACCOUNTS = 300;
const LEASE_S = 3;
const MESSAGES_PER_SECOND = 20;

/** One account as its user sees it: its session, its client now, what it has been told. */
interface Account {
  index: number;
  session: Line;
  client: JsonClient;
  /** Which instance (0, 1, 2) the client is attached to. */
  on: number;
  /** The texts of every earlier client of the account, in the order they came. */
  earlier: string[];
  /** The cursor of the last update line any of its clients got. */
  cursor?: string;
  /** What Bob sent it, in order. */
  sent: string[];
  /** The instances its clients attached to, and how many texts each client had got. */
  moves: string[];
}

/** Runs `work` on every item with at most `width` at a time. */
async function eachLimited<T>(items: T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

Deno.test("three instances, 300 accounts, 20 messages a second: kill -9 one, SIGTERM another, restart both; every client resumes exactly and no key is driven twice", async () => {
  const bed = await startInstancesBed({ users: ACCOUNTS });
  const instances: { child: Deno.ChildProcess; port: number; alive: boolean }[] = [];
  const debugDir = Deno.env.get("MTPROTO2JSON_FLEET_DEBUG");
  const logs: (() => string)[] = [];
  const began = Date.now();
  const marks: string[] = [];
  const mark = (what: string) => marks.push(`${Date.now() - began} ms: ${what}`);
  const accounts: Account[] = [];
  let sending = false;
  let sendingDone: Promise<void> = Promise.resolve();
  try {
    const start = async (slot: number) => {
      const serve = await bed.start(LEASE_S, { extra: debugDir ? ["--verbose"] : [] });
      logs.push(serve.stderr);
      mark(`instance ${slot} is pid ${serve.child.pid}`);
      instances[slot] = { child: serve.child, port: serve.port, alive: true };
    };
    await Promise.all([0, 1, 2].map(start));

    // Every account signs in through the instance the round-robin gives it, and stays attached.
    const indexes = Array.from({ length: ACCOUNTS }, (_, i) => i);
    await eachLimited(indexes, 10, async (index) => {
      const on = index % 3;
      const client = await JsonClient.connect(instances[on].port);
      const session = await signInByCode(client, `+${extraUserPhone(index + 1)}`) as Line;
      await client.next(isSynced, 60_000);
      accounts[index] = { index, session, client, on, earlier: [], sent: [], moves: [`${on}`] };
    });

    // Bob writes 20 messages a second, each to the next account.
    sending = true;
    sendingDone = (async () => {
      for (let n = 0; sending; n++) {
        const account = accounts[n % ACCOUNTS];
        const message = `to ${account.index}: ${account.sent.length}`;
        await bed.send([message], account.index + 1);
        account.sent.push(message);
        if (debugDir) mark(`sent ${message}`);
        await new Promise((resolve) => setTimeout(resolve, 1000 / MESSAGES_PER_SECOND));
      }
    })();

    const ownerNames = async () =>
      await Promise.all(
        instances.map(async (instance) =>
          instance.alive ? (await bed.health(instance.port)).instance as string : undefined
        ),
      );

    /** Leaves an account's client (its texts and cursor kept) and attaches a new one on `on`. */
    const reattach = async (account: Account, on: number) => {
      /** Keeps what a client of the account got, and its last cursor. */
      const leave = (client: JsonClient) => {
        client.close();
        for (const line of client.updates) {
          const text = textOf(line);
          if (text !== undefined) account.earlier.push(text);
          // The first cursor a client has is the one in `synced`; then each update line's.
          const cursor = line.cursor ?? (line.event as Line | undefined)?.cursor;
          if (typeof cursor === "string") account.cursor = cursor;
        }
      };
      leave(account.client);
      account.moves.push(`${account.earlier.length} then ${on}`);
      // As a user would: load the session again when told the account moved meanwhile.
      for (let attempt = 1;; attempt++) {
        const client = await JsonClient.connect(instances[on].port);
        const answer = await client.request(
          { id: 1, session: { ...account.session, updates_cursor: account.cursor } },
          60_000,
        );
        assertEquals(answer.error, undefined, JSON.stringify(answer));
        const outcome = await client.next((line) => isSynced(line) || isMoved(line), 60_000)
          .catch((error) => {
            throw new Error(
              `account ${account.index} (key ${keyIdOf(account.session)}) attached on instance ` +
                `${on} with cursor ${account.cursor}: ${error.message}`,
            );
          });
        if (isSynced(outcome)) {
          account.client = client;
          break;
        }
        leave(client);
        account.moves.push(`moved (attempt ${attempt})`);
        if (attempt === 5) throw new Error(`account ${account.index} kept moving`);
      }
      account.on = on;
    };
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await pause(2_000);

    // kill -9 instance 0: its clients come back through the others, round-robin.
    mark("kill -9 instance 0");
    instances[0].child.kill("SIGKILL");
    await instances[0].child.status;
    instances[0].alive = false;
    const killed = Date.now();
    const names = await ownerNames();
    const orphans = accounts.filter((account) => account.on === 0);
    await eachLimited(orphans, 20, (account) => reattach(account, 1 + account.index % 2));
    await until(
      async () => {
        const owners = await bed.leaseOwners();
        return (owners.get(names[1]!) ?? 0) + (owners.get(names[2]!) ?? 0) === ACCOUNTS;
      },
      (LEASE_S + 5) * 1000,
      "every account held by the two instances left",
    );
    const servedAgainMs = Date.now() - killed;
    assertEquals(servedAgainMs < (LEASE_S + 5) * 1000, true, `${servedAgainMs} ms`);
    await pause(2_000);

    // SIGTERM instance 1: it gives its leases up at once, and instance 2 holds everything.
    mark("SIGTERM instance 1");
    instances[1].child.kill("SIGTERM");
    await instances[1].child.status;
    instances[1].alive = false;
    const stopped = Date.now();
    await eachLimited(
      accounts.filter((account) => account.on === 1),
      20,
      (account) => reattach(account, 2),
    );
    await until(
      async () => (await bed.leaseOwners()).get(names[2]!) === ACCOUNTS,
      (LEASE_S + 5) * 1000,
      "every account held by the last instance",
    );
    const handedMs = Date.now() - stopped;
    await pause(2_000);

    // Both come back; the clients spread over the three again, each asking for its account.
    mark("restarting 0 and 1");
    await Promise.all([0, 1].map(start));
    mark("spreading the clients");
    await eachLimited(
      accounts.filter((account) => account.on !== account.index % 3),
      20,
      (account) => reattach(account, account.index % 3),
    );
    await pause(2_000);
    sending = false;
    await sendingDone;

    // Every message exactly once, in order, across each account's clients.
    const received = (account: Account) => [
      ...account.earlier,
      ...account.client.updates.map(textOf).filter((text) => text !== undefined),
    ];
    await until(
      () => accounts.every((account) => received(account).length >= account.sent.length),
      30_000,
      "every message at its account",
    ).catch(() => {/* the comparison below says which */});
    const wrong = accounts.filter((account) =>
      JSON.stringify(received(account)) !== JSON.stringify(account.sent)
    );
    assertEquals(
      wrong.map((account) => ({
        index: account.index,
        moves: account.moves,
        got: received(account),
        sent: account.sent,
      })),
      [],
    );
    assertEquals(accounts.reduce((sum, account) => sum + account.sent.length, 0) > 200, true);
    await bed.noKeyDrivenTwice();
    // The clean stop moved 200 accounts within about a lease, never waiting for them to lapse
    // one by one after the last renewal.
    assertEquals(handedMs < (LEASE_S + 5) * 1000, true, `${handedMs} ms`);
  } finally {
    if (debugDir) {
      await Deno.mkdir(debugDir, { recursive: true });
      await Deno.writeTextFile(`${debugDir}/marks.txt`, marks.join("\n"));
      for (const [n, log] of logs.entries()) {
        await Deno.writeTextFile(`${debugDir}/serve-${n}.txt`, log());
      }
      await Deno.writeTextFile(
        `${debugDir}/accounts.json`,
        JSON.stringify(
          accounts.map((a) => ({ index: a.index, key: keyIdOf(a.session), moves: a.moves })),
        ),
      );
    }
    sending = false;
    await sendingDone.catch(() => {});
    for (const account of accounts) account?.client.close();
    await bed.close();
  }
});
