import { assertEquals } from "../assert.ts";
import { StoreUnavailableError } from "../../lib/store/account_store.ts";
import { openPostgresStore } from "../../lib/store/postgres.ts";
import { startPostgres } from "../support/postgres.ts";
import { accountStoreContract } from "./account_store_contract.ts";

Deno.test("the PostgreSQL store keeps the account store contract", async (t) => {
  const pg = await startPostgres();
  try {
    await accountStoreContract(t, async () => {
      const url = await pg.createDatabase();
      return { store: await openPostgresStore(url), reopen: () => openPostgresStore(url) };
    });
  } finally {
    await pg.stop();
  }
});

Deno.test("instances starting at once on one database apply each migration once", async () => {
  const pg = await startPostgres();
  try {
    const url = await pg.createDatabase();
    const stores = await Promise.all(Array.from({ length: 6 }, () => openPostgresStore(url)));
    await stores[0].saveAccount({ keyId: "a", session: { dc: 2 }, epoch: "e" });
    assertEquals((await stores[5].account("a"))?.epoch, "e");
    for (const store of stores) await store.close();
    const versions = await pg.psql(
      url.split("/").pop()!,
      "SELECT string_agg(version::text, ',' ORDER BY version) FROM mtproto2json_migrations",
    );
    assertEquals(versions.trim(), "1,2,3");
    // Opened again: nothing more to apply, the data as it was.
    const again = await openPostgresStore(url);
    assertEquals((await again.accounts()).map((account) => account.keyId), ["a"]);
    await again.close();
  } finally {
    await pg.stop();
  }
});

Deno.test("a server that is not there is StoreUnavailable, naming the URL without its password", async () => {
  const pg = await startPostgres();
  const url = `postgres://postgres:hunter2@127.0.0.1:${pg.port}/nowhere`;
  await pg.stop();
  let error: unknown;
  try {
    await openPostgresStore(url, { timeoutMs: 2000 });
  } catch (caught) {
    error = caught;
  }
  assertEquals(error instanceof StoreUnavailableError, true, String(error));
  const message = (error as Error).message;
  assertEquals(message.includes("postgres://postgres:***@127.0.0.1"), true, message);
  assertEquals(message.includes("hunter2"), false, message);
});

Deno.test("leases: one owner at a time; a lapsed lease changes hands with a new token, and the old owner's fenced writes are refused", async () => {
  const pg = await startPostgres();
  try {
    const url = await pg.createDatabase();
    const [a, b] = [await openPostgresStore(url), await openPostgresStore(url)];
    try {
      await a.saveAccount({ keyId: "k", session: { dc: 2 }, epoch: "e" });
      assertEquals(await a.unleased(), ["k"]);
      const token = await a.claim("k", "A", 60_000);
      assertEquals(token, 1);
      assertEquals(await b.claim("k", "B", 60_000), undefined, "A's lease is live");
      assertEquals(await a.claim("k", "A", 60_000), 1, "A taking it again keeps its token");
      assertEquals(await a.unleased(), []);
      const fenceA = { owner: "A", token: 1 };
      await a.append("k", [{ seq: 1, line: "by A" }], "c1", fenceA);
      await a.saveAccount({ keyId: "k", session: { dc: 2 }, epoch: "e", cursor: "c1" }, fenceA);
      assertEquals(await a.renew("A", ["k", "other"], 60_000), ["k"]);
      assertEquals(await b.renew("B", ["k"], 60_000), []);

      // A stalls: its lease lapses (made short here), and B takes the account over.
      assertEquals(await a.claim("k", "A", 1), 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assertEquals(await a.unleased(), ["k"]);
      assertEquals(await a.renew("A", ["k"], 60_000), [], "a lapsed lease is not renewed");
      assertEquals(await b.claim("k", "B", 60_000), 2);
      const refused = async (write: Promise<void>) => {
        try {
          await write;
          return undefined;
        } catch (error) {
          return (error as Error).name;
        }
      };
      assertEquals(
        await refused(a.append("k", [{ seq: 2, line: "late by A" }], "c2", fenceA)),
        "LeaseLost",
      );
      assertEquals(
        await refused(a.saveAccount({ keyId: "k", session: { stale: true }, epoch: "x" }, fenceA)),
        "LeaseLost",
      );
      assertEquals(await b.journal("k", 0), [{ seq: 1, line: "by A" }]);
      assertEquals((await b.account("k"))?.epoch, "e");
      await b.append("k", [{ seq: 2, line: "by B" }], "c2", { owner: "B", token: 2 });

      // A clean shutdown gives it up at once: A takes it back without waiting, token 3.
      await b.release("B", ["k"]);
      assertEquals(await a.unleased(), ["k"]);
      assertEquals(await a.claim("k", "A", 60_000), 3);
    } finally {
      await a.close();
      await b.close();
    }
  } finally {
    await pg.stop();
  }
});

Deno.test("leases: of two instances claiming the same accounts at once, each account goes to exactly one", async () => {
  const pg = await startPostgres();
  try {
    const url = await pg.createDatabase();
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore(url)));
    try {
      const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
      const won = await Promise.all(
        stores.map((store, i) => Promise.all(keys.map((key) => store.claim(key, `I${i}`, 60_000)))),
      );
      for (const [k] of keys.entries()) {
        assertEquals(won.filter((claims) => claims[k] !== undefined).length, 1, keys[k]);
      }
    } finally {
      for (const store of stores) await store.close();
    }
  } finally {
    await pg.stop();
  }
});

Deno.test("heartbeats count the live instances and the stored accounts; one that leaves is not counted", async () => {
  const pg = await startPostgres();
  try {
    const url = await pg.createDatabase();
    const store = await openPostgresStore(url);
    try {
      await store.saveAccount({ keyId: "a", session: { dc: 2 } });
      await store.saveAccount({ keyId: "b", session: { dc: 2 } });
      assertEquals(await store.heartbeat("A", 60_000), { instances: 1, accounts: 2 });
      assertEquals(await store.heartbeat("B", 60_000), { instances: 2, accounts: 2 });
      assertEquals(await store.heartbeat("A", 0), { instances: 1, accounts: 2 });
      assertEquals(await store.heartbeat("B", 60_000), { instances: 1, accounts: 2 });
    } finally {
      await store.close();
    }
  } finally {
    await pg.stop();
  }
});

Deno.test("a handover asked by one instance reaches every listener (LISTEN/NOTIFY), naming the asker", async () => {
  const pg = await startPostgres();
  try {
    const url = await pg.createDatabase();
    const [holder, asker] = [await openPostgresStore(url), await openPostgresStore(url)];
    try {
      const asked: string[] = [];
      const heardOwn: string[] = [];
      await holder.onHandover((keyId, by) => asked.push(`${keyId} by ${by}`));
      await asker.onHandover((keyId, by) => heardOwn.push(`${keyId} by ${by}`));
      await asker.askHandover("k1", "instance-b");
      await asker.askHandover("k2", "instance-b");
      for (let i = 0; i < 100 && (asked.length < 2 || heardOwn.length < 2); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assertEquals(asked, ["k1 by instance-b", "k2 by instance-b"]);
      // The asker hears its own asks too: it must tell them apart (HeldAccounts does).
      assertEquals(heardOwn, asked);
    } finally {
      await holder.close();
      await asker.close();
    }
  } finally {
    await pg.stop();
  }
});
