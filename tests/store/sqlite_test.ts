import { assertEquals } from "../assert.ts";
import { openSqliteStore, StoreLockedError } from "../../lib/store/sqlite.ts";
import { accountStoreContract } from "./account_store_contract.ts";

Deno.test("the SQLite store keeps the account store contract", async (t) => {
  const dirs: string[] = [];
  try {
    await accountStoreContract(t, async () => {
      const dir = await Deno.makeTempDir();
      dirs.push(dir);
      return { store: await openSqliteStore(dir), reopen: () => openSqliteStore(dir) };
    });
  } finally {
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the SQLite store has one owner at a time, and is free again once closed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await openSqliteStore(dir);
    let error: unknown;
    try {
      await (await openSqliteStore(dir)).close();
    } catch (caught) {
      error = caught;
    }
    assertEquals(error instanceof StoreLockedError, true, String(error));
    assertEquals(String((error as Error).message).includes(`process ${Deno.pid}`), true);
    await first.close();
    await (await openSqliteStore(dir)).close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
