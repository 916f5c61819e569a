import { assertEquals } from "../assert.ts";
import { LeaseKeeper } from "../../lib/proxy/lease_keeper.ts";
import type { AccountStore } from "../../lib/store/account_store.ts";
import { FakeClock } from "../support/fake_clock.ts";

/**
 * A shared store's lease side, in memory, by the test's clock: `paused` makes it answer nothing
 * (a partition); `stolen` are keys another instance took.
 */
function world(options: { instances?: number; accounts?: string[] } = {}) {
  const clock = new FakeClock();
  const state = {
    paused: false,
    stolen: new Set<string>(),
    renewals: 0,
    /** Accounts stored later (their instance died): nobody's from now on. */
    freeNow: undefined as string[] | undefined,
    /** Accounts whose restore after a takeover never ends (a store that is slow to read). */
    slowRestore: new Set<string>(),
  };
  const never = new Promise<never>(() => {});
  const answer = <T>(value: () => T): Promise<T> => state.paused ? never : Promise.resolve(value());
  const held = new Set<string>();
  const store = {
    claim: (keyId: string) =>
      answer(() => state.stolen.has(keyId) ? undefined : (held.add(keyId), 7)),
    renew: (_owner: string, keyIds: string[]) =>
      answer(() => (state.renewals++, keyIds.filter((key) => !state.stolen.has(key)))),
    release: () => answer(() => held.clear()),
    unleased: () =>
      answer(() => (state.freeNow ?? options.accounts ?? []).filter((key) => !held.has(key))),
    heartbeat: () =>
      answer(() => ({
        instances: options.instances ?? 1,
        accounts: (state.freeNow ?? options.accounts)?.length ?? held.size,
      })),
  } as unknown as AccountStore;
  const events: string[] = [];
  const keeper = new LeaseKeeper({
    store,
    clock,
    leaseMs: 15_000,
    owner: "me",
    onLost: (keyId) => void events.push(`lost ${keyId} at ${clock.now() - start}`),
    onTaken: (keyId, token) => {
      events.push(`taken ${keyId} token ${token}`);
      return state.slowRestore.has(keyId) ? never : undefined;
    },
  });
  const start = clock.now();
  return { clock, state, keeper, events };
}

Deno.test("leases renewed every third of their length stay held for as long as the store answers", async () => {
  const { clock, state, keeper, events } = world();
  await keeper.start();
  assertEquals(await keeper.claim("k"), { owner: "me", token: 7 });
  await clock.advance(60_000);
  assertEquals(events, []);
  assertEquals(state.renewals, 12);
  assertEquals(keeper.fence("k"), { owner: "me", token: 7 });
  await keeper.stop(false);
});

Deno.test("a store that stops answering: the account stops before its lease could lapse", async () => {
  const { clock, state, keeper, events } = world();
  await keeper.start();
  await keeper.claim("k");
  await clock.advance(5_000); // renewed at 5 s: held until 5 + 15 s, less the margin
  state.paused = true;
  await clock.advance(30_000);
  // The store set the lease to lapse 15 s after it got the 5 s renewal, at 20 s at the earliest.
  assertEquals(events.length, 1, events.join());
  const at = Number(events[0].split(" at ")[1]);
  assertEquals(at >= 17_000 && at < 20_000, true, events[0]);
  assertEquals(keeper.fence("k"), undefined);
  await keeper.stop(false);
});

Deno.test("a lease another instance took is lost at the next renewal, not when it would lapse", async () => {
  const { clock, state, keeper, events } = world();
  await keeper.start();
  await keeper.claim("k");
  await keeper.claim("j");
  state.stolen.add("k");
  await clock.advance(5_000);
  assertEquals(events, ["lost k at 5000"]);
  assertEquals(keeper.size, 1);
  await keeper.stop(false);
});

Deno.test("each instance takes over its even share of the accounts nobody holds", async () => {
  const accounts = Array.from({ length: 10 }, (_, i) => `k${i}`);
  const { keeper, events } = world({ instances: 3, accounts });
  await keeper.start();
  // ceil(10 / 3): four of them, each with its token.
  assertEquals(events.length, 4, events.join());
  assertEquals(events.every((event) => / token 7$/.test(event)), true);
  assertEquals(keeper.takeovers, 4);
  assertEquals(keeper.size, 4);
  await keeper.stop(true);
  assertEquals(keeper.size, 0);
});

Deno.test("an account whose lease lapsed is taken within a fifteenth of a lease, not at the next renewal round", async () => {
  const { clock, keeper, events, state } = world({ instances: 1, accounts: [] });
  await keeper.start();
  await clock.advance(1_000);
  assertEquals(events, []);
  // The instance that held k0 and k1 died, and their leases lapsed just now.
  state.freeNow = ["k0", "k1"];
  await clock.advance(1_000);
  assertEquals(events.sort(), ["taken k0 token 7", "taken k1 token 7"]);
  await keeper.stop(true);
});

Deno.test("a takeover that takes long (slow restores) never holds back the renewal of the leases already held", async () => {
  const { clock, keeper, events, state } = world({ instances: 1, accounts: [] });
  await keeper.start();
  await keeper.claim("held");
  const renewals = state.renewals;
  // An account nobody holds, whose restore (onTaken) never ends while the test runs.
  state.freeNow = ["held", "slow"];
  state.slowRestore.add("slow");
  await clock.advance(1_000);
  // Renewal rounds every 5 s go on: the lease held stays held past its length.
  await clock.advance(30_000);
  assertEquals(state.renewals - renewals >= 6, true, `${state.renewals - renewals} renewals`);
  assertEquals(events.filter((event) => event.startsWith("lost")), []);
  await keeper.stop(false);
});
