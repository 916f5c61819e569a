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
    assertEquals(versions.trim(), "1");
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
