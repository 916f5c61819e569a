/**
 * What any account store must do (lib/store/account_store.ts), as test steps any store's test
 * runs against its own `open`: the SQLite store's (sqlite_test.ts) and PostgreSQL's
 * (postgres_test.ts). Held accounts rely on each of these for "every cursor resumes exactly".
 *
 * @module
 */

import { assertEquals } from "../assert.ts";
import { type AccountStore, StoreWriteError } from "../../lib/store/account_store.ts";

const session = (n: number) => ({ dc: 2, user_id: n, auth_key: `key${n}` });
const rows = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, line: `line ${from + i}` }));

/** Runs the contract's steps in `t` against fresh stores from `open` (each step gets its own). */
export async function accountStoreContract(
  t: Deno.TestContext,
  open: () => Promise<{ store: AccountStore; reopen: () => Promise<AccountStore> }>,
): Promise<void> {
  const step = (
    name: string,
    run: (store: AccountStore, reopen: () => Promise<AccountStore>) => Promise<void> | void,
  ) =>
    t.step(name, async () => {
      const { store, reopen } = await open();
      try {
        await run(store, reopen);
      } finally {
        await store.close();
      }
    });

  await step(
    "an account saved is listed with its session, epoch and cursor, also after a reopen",
    async (store, reopen) => {
      await store.saveAccount({ keyId: "a", session: session(1), epoch: "e1" });
      await store.saveAccount({ keyId: "b", session: session(2), epoch: "e2", cursor: "c2" });
      const byKey = (list: Awaited<ReturnType<AccountStore["accounts"]>>) =>
        Object.fromEntries(list.map((account) => [account.keyId, account]));
      assertEquals(byKey(await store.accounts()), {
        a: { keyId: "a", session: session(1), epoch: "e1" },
        b: { keyId: "b", session: session(2), epoch: "e2", cursor: "c2" },
      });
      await store.close();
      const again = await reopen();
      try {
        assertEquals(byKey(await again.accounts()).b, {
          keyId: "b",
          session: session(2),
          epoch: "e2",
          cursor: "c2",
        });
      } finally {
        await again.close();
      }
    },
  );

  await step(
    "journal rows and the cursor move together; rows come back in order after a position",
    async (store) => {
      await store.saveAccount({ keyId: "a", session: session(1), epoch: "e1" });
      await store.append("a", rows(1, 3), "after 3");
      await store.append("a", rows(4, 5), "after 5");
      assertEquals((await store.journal("a", 2)).map((row) => row.seq), [3, 4, 5]);
      assertEquals((await store.journal("a", 2))[0].line, "line 3");
      assertEquals(await store.journal("a", 5), []);
      assertEquals(await store.journalBounds("a"), { first: 1, last: 5 });
      assertEquals((await store.accounts())[0].cursor, "after 5");
      // A cursor alone (the state moved without lines) is a write too.
      await store.append("a", [], "moved");
      assertEquals((await store.account("a"))?.cursor, "moved");
      assertEquals(await store.journalBounds("b"), undefined);
      assertEquals(await store.account("b"), undefined);
    },
  );

  await step(
    "a session with keys of several DCs and long JSON comes back exactly",
    async (store, reopen) => {
      const rich = {
        dc: 4,
        user_id: 7,
        auth_key: "k".repeat(512),
        server: { dc: 4, host: "127.0.0.1", port: 4444, test: true },
        dc_keys: { "2": { auth_key: "x".repeat(512) }, "5": { auth_key: "y".repeat(512) } },
        proxy: "socks5://u:p@127.0.0.1:1080",
        text: 'ünïcødé \u2028 "quoted" \n',
      };
      await store.saveAccount({ keyId: "r", session: rich, epoch: "e" });
      const line = '{"cursor":"AQ.x","value":{"_cons":"updates","id":9223372036854775807}}';
      await store.append("r", [{ seq: 1, line }], "c1");
      await store.close();
      const again = await reopen();
      try {
        assertEquals((await again.account("r"))?.session, rich);
        assertEquals(await again.journal("r", 0), [{ seq: 1, line }]);
      } finally {
        await again.close();
      }
    },
  );

  await step(
    "appending to an account that is not stored fails whole: no row is kept",
    async (store) => {
      let error: unknown;
      try {
        await store.append("ghost", rows(1, 2), "c");
      } catch (caught) {
        error = caught;
      }
      assertEquals(error instanceof StoreWriteError, true, String(error));
      assertEquals(await store.journalBounds("ghost"), undefined);
    },
  );

  await step("a row appended again at a position replaces it (a retried write)", async (store) => {
    await store.saveAccount({ keyId: "a", session: session(1), epoch: "e1" });
    await store.append("a", rows(1, 2), "c2");
    await store.append("a", [{ seq: 2, line: "line 2 again" }], "c2 again");
    assertEquals(await store.journal("a", 0), [
      { seq: 1, line: "line 1" },
      { seq: 2, line: "line 2 again" },
    ]);
    assertEquals((await store.account("a"))?.cursor, "c2 again");
  });

  await step("a new epoch drops the old journal; the same epoch keeps it", async (store) => {
    await store.saveAccount({ keyId: "a", session: session(1), epoch: "e1" });
    await store.append("a", rows(1, 3), "c3");
    await store.saveAccount({ keyId: "a", session: session(1), epoch: "e1", cursor: "c3" });
    assertEquals(await store.journalBounds("a"), { first: 1, last: 3 });
    await store.saveAccount({ keyId: "a", session: session(1), epoch: "e2" });
    assertEquals(await store.journalBounds("a"), undefined);
    assertEquals((await store.accounts())[0].cursor, undefined);
  });

  await step(
    "trim keeps the newest rows; forget drops the account and its journal",
    async (store) => {
      await store.saveAccount({ keyId: "a", session: session(1), epoch: "e1" });
      await store.saveAccount({ keyId: "b", session: session(2), epoch: "e1" });
      await store.append("a", rows(1, 10), "c10");
      await store.append("b", rows(1, 2), "b2");
      await store.trim("a", 4);
      assertEquals(await store.journalBounds("a"), { first: 7, last: 10 });
      await store.forget("a");
      assertEquals((await store.accounts()).map((account) => account.keyId), ["b"]);
      assertEquals(await store.journalBounds("a"), undefined);
      assertEquals(await store.journalBounds("b"), { first: 1, last: 2 });
    },
  );
}
