/**
 * What any account store must do (lib/store/account_store.ts), as test steps any store's test
 * runs against its own `open`: the SQLite store's today, a server database's tomorrow. Held
 * accounts rely on each of these for "every cursor resumes exactly".
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
        try {
          store.close();
        } catch { /* closed by the step */ }
      }
    });

  await step(
    "an account saved is listed with its session, epoch and cursor, also after a reopen",
    async (store, reopen) => {
      store.saveAccount({ keyId: "a", session: session(1), epoch: "e1" });
      store.saveAccount({ keyId: "b", session: session(2), epoch: "e2", cursor: "c2" });
      const byKey = (list: ReturnType<AccountStore["accounts"]>) =>
        Object.fromEntries(list.map((account) => [account.keyId, account]));
      assertEquals(byKey(store.accounts()), {
        a: { keyId: "a", session: session(1), epoch: "e1" },
        b: { keyId: "b", session: session(2), epoch: "e2", cursor: "c2" },
      });
      store.close();
      const again = await reopen();
      try {
        assertEquals(byKey(again.accounts()).b, {
          keyId: "b",
          session: session(2),
          epoch: "e2",
          cursor: "c2",
        });
      } finally {
        again.close();
      }
    },
  );

  await step(
    "journal rows and the cursor move together; rows come back in order after a position",
    (store) => {
      store.saveAccount({ keyId: "a", session: session(1), epoch: "e1" });
      store.append("a", rows(1, 3), "after 3");
      store.append("a", rows(4, 5), "after 5");
      assertEquals(store.journal("a", 2).map((row) => row.seq), [3, 4, 5]);
      assertEquals(store.journal("a", 2)[0].line, "line 3");
      assertEquals(store.journalBounds("a"), { first: 1, last: 5 });
      assertEquals(store.accounts()[0].cursor, "after 5");
      // A cursor alone (the state moved without lines) is a write too.
      store.append("a", [], "moved");
      assertEquals(store.accounts()[0].cursor, "moved");
      assertEquals(store.journalBounds("b"), undefined);
    },
  );

  await step("appending to an account that is not stored fails whole: no row is kept", (store) => {
    let error: unknown;
    try {
      store.append("ghost", rows(1, 2), "c");
    } catch (caught) {
      error = caught;
    }
    assertEquals(error instanceof StoreWriteError, true, String(error));
    assertEquals(store.journalBounds("ghost"), undefined);
  });

  await step("a new epoch drops the old journal; the same epoch keeps it", (store) => {
    store.saveAccount({ keyId: "a", session: session(1), epoch: "e1" });
    store.append("a", rows(1, 3), "c3");
    store.saveAccount({ keyId: "a", session: session(1), epoch: "e1", cursor: "c3" });
    assertEquals(store.journalBounds("a"), { first: 1, last: 3 });
    store.saveAccount({ keyId: "a", session: session(1), epoch: "e2" });
    assertEquals(store.journalBounds("a"), undefined);
    assertEquals(store.accounts()[0].cursor, undefined);
  });

  await step("trim keeps the newest rows; forget drops the account and its journal", (store) => {
    store.saveAccount({ keyId: "a", session: session(1), epoch: "e1" });
    store.saveAccount({ keyId: "b", session: session(2), epoch: "e1" });
    store.append("a", rows(1, 10), "c10");
    store.append("b", rows(1, 2), "b2");
    store.trim("a", 4);
    assertEquals(store.journalBounds("a"), { first: 7, last: 10 });
    store.forget("a");
    assertEquals(store.accounts().map((account) => account.keyId), ["b"]);
    assertEquals(store.journalBounds("a"), undefined);
    assertEquals(store.journalBounds("b"), { first: 1, last: 2 });
  });
}
