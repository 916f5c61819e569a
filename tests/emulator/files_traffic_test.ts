/**
 * The pace of file requests: answers held `fileLatencyMs` on the DCs' clock, and with
 * `fileFlood` N, a key's requests past N in flight answered FLOOD_WAIT (parts of uploads count as
 * much as parts of downloads); with no latency, the requests of one container are in flight
 * together.
 */

import { assertEquals } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import type { WorldOptions } from "../../lib/emulator/world.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signInWithCode } from "../support/raw_calls.ts";
import { FakeClock } from "../support/fake_clock.ts";

type Call = (request: TlObject) => Promise<TlObject>;

/** Alice signed in on a one-DC emulator on `clock`, with a 4 MiB file on that DC. */
async function withAlice(
  world: WorldOptions,
  clock: FakeClock,
  test: (call: Call, getFile: (offset: number) => TlObject) => Promise<void>,
) {
  const emulator = await startEmulator({
    port: 0,
    dcs: 1,
    log: () => {},
    clock,
    world: { homeDc: 1, files: [{ id: 5001, size: 4 << 20, dc: 1 }], ...world },
  });
  const sender = emulatedSender(emulator, 1);
  try {
    const call = rawCaller(sender, codec);
    await signInWithCode(call, "+15550000001");
    const file = emulator.world.files.get(5001n)!;
    await test(call, (offset) => ({
      _cons: "upload.getFile",
      location: {
        _cons: "inputDocumentFileLocation",
        id: file.id,
        access_hash: file.accessHash,
        file_reference: new Uint8Array(0),
        thumb_size: "",
      },
      offset,
      limit: 1 << 20,
    }));
  } finally {
    sender.close();
    await emulator.close();
  }
}

/** Resolves once `count` of `promises` have. */
function firstSettled(promises: Promise<unknown>[], count: number): Promise<void> {
  return new Promise((resolve) => {
    let settled = 0;
    for (const promise of promises) promise.then(() => ++settled === count && resolve());
  });
}

/** What each answer was: its error, or its constructor. */
const outcome = (answer: TlObject | undefined) => answer?.error_message ?? answer?._cons;

/** The outcome of each of `count` answers, undefined for those not here yet. */
const outcomes = (answers: (TlObject | undefined)[], count: number) =>
  Array.from({ length: count }, (_, index) => outcome(answers[index]));

Deno.test("file answers wait out the latency; past fileFlood in flight, the rest answer FLOOD_WAIT at once", async () => {
  const clock = new FakeClock();
  await withAlice(
    { fileFlood: 2, fileFloodSeconds: 3, fileLatencyMs: 100 },
    clock,
    async (call, getFile) => {
      const answers: (TlObject | undefined)[] = [];
      const pending = [0, 1, 2, 3].map((index) =>
        call(getFile(index << 20)).then(
          (answer) => (answers[index] = answer),
          // A closed sender (a failed test): noted, not left unhandled.
          (error) => (answers[index] = { _cons: "error", error_message: String(error) }),
        )
      );
      await firstSettled(pending, 2);
      assertEquals(outcomes(answers, 4), [undefined, undefined, "FLOOD_WAIT_3", "FLOOD_WAIT_3"]);
      await clock.advance(99);
      assertEquals(outcomes(answers, 2), [undefined, undefined], "held for 100 ms");
      await clock.advance(1);
      await Promise.all(pending);
      assertEquals(outcomes(answers, 4), [
        "upload.file",
        "upload.file",
        "FLOOD_WAIT_3",
        "FLOOD_WAIT_3",
      ]);
      // Answered, they are no longer in flight: two more are admitted, an upload part among them.
      const next = [
        call(getFile(2 << 20)),
        call({
          _cons: "upload.saveFilePart",
          file_id: 1n,
          file_part: 0,
          bytes: new Uint8Array(1024),
        }),
        call({
          _cons: "upload.saveFilePart",
          file_id: 1n,
          file_part: 1,
          bytes: new Uint8Array(1024),
        }),
      ];
      const third = await next[2];
      assertEquals(outcome(third), "FLOOD_WAIT_3", "the upload part is the third in flight");
      await clock.advance(100);
      assertEquals((await Promise.all(next.slice(0, 2))).map(outcome), ["upload.file", "boolTrue"]);
    },
  );
});

Deno.test("without latency, the file requests of one container are in flight together", async () => {
  const clock = new FakeClock();
  await withAlice({ fileFlood: 1 }, clock, async (call, getFile) => {
    // Invoked in one tick, the three go out in one container.
    const together = await Promise.all([0, 1, 2].map((index) => call(getFile(index << 20))));
    assertEquals(together.map(outcome), ["upload.file", "FLOOD_WAIT_1", "FLOOD_WAIT_1"]);
    // One at a time, each is answered before the next arrives.
    for (const index of [1, 2]) {
      assertEquals(outcome(await call(getFile(index << 20))), "upload.file");
    }
  });
});
