import { assertEquals, assertThrows } from "../assert.ts";
import {
  ActionLog,
  AliceView,
  CHANNEL_BOX,
  COMMON,
  describeFailure,
  ModelFailure,
  ModelWorld,
  positionAt,
  runSeed,
  type SeedResult,
  STEP_KINDS,
} from "../support/update_model.ts";

/**
 * Seeds run, of this many steps each: 20 in `deno task ok` (the developers' loop), 200 in
 * `deno task model`, which CI runs after it; by hand, any number: scripts/update_model.ts --seeds N.
 */
const SEEDS = Number(Deno.env.get("MTPROTO2JSON_MODEL_SEEDS") ?? 20);
const STEPS = 12;

/** A managed line of one update, as serve writes it. */
function line(update: Record<string, unknown>, cursor: string) {
  return { id: 0, message: { _cons: "updates", updates: [update] }, cursor };
}
const newMessage = (id: number, pts: number) => ({
  _cons: "updateNewMessage",
  message: { _cons: "message", id, peer_id: { _cons: "peerUser", user_id: 1000002 } },
  pts,
  pts_count: pts ? 1 : 0,
});
const deletion = (ids: number[], pts: number) => ({
  _cons: "updateDeleteMessages",
  messages: ids,
  pts,
  pts_count: 1,
});

/** Bob sent messages 1 and 2 (common pts 11, 12), then deleted 1 (pts 13); Alice had pts 10. */
function modelAfterThreeActions() {
  const log = new ActionLog({ [COMMON]: 10, [CHANNEL_BOX]: 5 });
  log.add({ box: COMMON, pts: 11, kind: "new", ids: [1] });
  log.add({ box: COMMON, pts: 12, kind: "new", ids: [2] });
  log.add({ box: COMMON, pts: 13, kind: "delete", ids: [1] });
  const view = new AliceView(log, positionAt({ [COMMON]: 10, [CHANNEL_BOX]: 5 }));
  return { log, view };
}

Deno.test("the update model's check refuses a repeat, a skip, a change before what preceded it, and a cursor that does not move", () => {
  const repeat = modelAfterThreeActions().view;
  repeat.take(line(newMessage(1, 11), "a"));
  assertThrows(() => repeat.take(line(newMessage(1, 11), "b")), ModelFailure, "again");
  // As a difference carries it: no pts, found by message id.
  assertThrows(() => repeat.take(line(newMessage(1, 0), "b")), ModelFailure, "again");

  const skip = modelAfterThreeActions().view;
  skip.take(line(newMessage(1, 11), "a"));
  assertThrows(() => skip.take(line(deletion([1], 13), "b")), ModelFailure, "pts 12 never did");
  assertThrows(() => skip.take(line(newMessage(1, 13), "c")), ModelFailure, "Bob's action there");

  const early = modelAfterThreeActions().view;
  assertThrows(() => early.take(line(deletion([1], 13), "a")), ModelFailure, "pts 11 never did");

  const { view: stuck } = modelAfterThreeActions();
  stuck.take(line(newMessage(1, 11), "same"));
  assertThrows(() => stuck.take(line(newMessage(2, 12), "same")), ModelFailure, "two positions");
});

Deno.test("the update model's check takes a difference's shape: its new messages before the changes between them, then complete", () => {
  const { log, view } = modelAfterThreeActions();
  view.take({ id: 0, event: { type: "gap", box: COMMON } });
  view.take(line(newMessage(1, 0), "k1"));
  view.take(line(newMessage(2, 0), "k2"));
  assertEquals(view.complete(), false);
  view.take(line(deletion([1], 13), "k3"));
  view.take({ id: 0, event: { type: "synced", cursor: "k3", recovered: 3 } });
  assertEquals(view.complete(), true);
  // Resuming from the middle of it expects exactly what followed.
  const resumed = new AliceView(log, log.positionOf("k1"));
  resumed.take(line(newMessage(2, 12), "k2"));
  resumed.take(line(deletion([1], 13), "k3"));
  assertEquals(resumed.complete(), false); // no synced yet
  resumed.take({ id: 0, event: { type: "synced", cursor: "k3", recovered: 2 } });
  assertEquals(resumed.complete(), true);
});

Deno.test(`held sessions' updates, model-based: ${SEEDS} seeds of ${STEPS} random steps, each update once and in order after every cursor`, async () => {
  // Steps: Alice attaches (last cursor, first synced's, none) and detaches; Bob sends, edits and
  // deletes in the chat, the group and the channel; serve restarted gracefully or killed (a real
  // SIGKILL for process seeds); journal bounds 1, 10, 10,000; store writes failing and healing;
  // pushes dropped.
  const world = await ModelWorld.start();
  const results: SeedResult[] = [];
  try {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const result = await runSeed(world, seed, STEPS);
      results.push(result);
      if (results.filter((each) => !each.ok).length >= 3) break;
    }
  } finally {
    await world.close();
  }
  assertEquals(results.filter((result) => !result.ok).map(describeFailure), []);
  // Every kind of step ran, and the faults were met, so that the seeds above tested them.
  const ran = (kind: string) => results.reduce((sum, result) => sum + (result.kinds[kind] ?? 0), 0);
  // Five times each over CI's 200 seeds; at least once over ok's 20.
  const least = SEEDS >= 200 ? 5 : 1;
  assertEquals(STEP_KINDS.filter((kind) => ran(kind) < least), []);
  // The rarer paths — a write refused by the store, a serve process killed — are met in CI's 200
  // seeds (ok's 20 need not meet them).
  if (SEEDS >= 200) {
    assertEquals(results.some((result) => result.refusedWrites > 0), true);
    assertEquals(
      results.some((result) => result.trace[0].includes("as a process") && result.kinds.kill),
      true,
    );
  }
});
