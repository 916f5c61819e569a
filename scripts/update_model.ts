/**
 * The model-based test of held sessions' update pipeline, by hand, for as many seeds as one
 * likes (tests/e2e/update_model_test.ts runs a few hundred in CI):
 *
 *   deno run -A scripts/update_model.ts --seeds 10000 [--from 1] [--steps 12] [--process-only]
 *   deno run -A scripts/update_model.ts --seed 1234 --steps 12     (replays one, with its steps)
 *   ... --verbose                                                   (and every line Alice took)
 *
 * Prints progress, and each failure with the steps that led to it and its replay line; exits 1
 * when any seed failed. Talks only to 127.0.0.1 (the emulator and serve).
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  describeFailure,
  ModelWorld,
  runSeed,
  servesAsProcess,
} from "../tests/support/update_model.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seed: { type: "string" },
    seeds: { type: "string" },
    from: { type: "string" },
    steps: { type: "string" },
    /** A fresh emulator every this many seeds, so that its history stays small. */
    batch: { type: "string" },
    /** Every line Alice takes, in the trace. */
    verbose: { type: "boolean" },
    /** Only the seeds that run serve as a process (SIGTERM/SIGKILL restarts), skipping the rest. */
    "process-only": { type: "boolean" },
  },
});
const steps = Number(values.steps ?? 12);
const single = values.seed !== undefined;
const from = Number(values.seed ?? values.from ?? 1);
const count = single ? 1 : Number(values.seeds ?? 100);
const batch = Number(values.batch ?? 200);

const failures: string[] = [];
const started = Date.now();
let world: ModelWorld | undefined;
try {
  for (let i = 0; i < count; i++) {
    if (i % batch === 0) {
      await world?.close();
      world = await ModelWorld.start();
    }
    if (values["process-only"] && !servesAsProcess(from + i)) continue;
    const result = await runSeed(world!, from + i, steps, { verbose: values.verbose });
    if (single) console.log(result.trace.join("\n"));
    if (!result.ok) {
      failures.push(describeFailure(result));
      console.log(describeFailure(result));
    }
    if (single || (i + 1) % 50 === 0 || i + 1 === count) {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`${i + 1}/${count} seeds, ${failures.length} failed, ${seconds} s`);
    }
  }
} finally {
  await world?.close();
}
Deno.exit(failures.length ? 1 : 0);
