/**
 * `deno task fuzz [COUNT] [SEED]`: decodes COUNT (default 10^6) hostile inputs with both codec
 * modes and prints what happened: uncaught errors (each a bug) and the slowest input.
 *
 * @module
 */

import { TlCodec } from "../lib/tl/codec.ts";
import { loadSchema } from "../lib/tl/default_schema.ts";
import { fuzzDecode } from "../tests/support/fuzz_decode.ts";

const count = Number(Deno.args[0] ?? 1_000_000);
const seed = Number(Deno.args[1] ?? Date.now() % 2 ** 31);
let failed = false;
for (
  const [mode, codec] of [
    ["native", new TlCodec(loadSchema())],
    ["json", new TlCodec(loadSchema(), { longs: "json", bytes: "base64" })],
  ] as const
) {
  const started = performance.now();
  const report = fuzzDecode(codec, count / 2, seed);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `${mode}: ${report.inputs} inputs (seed ${seed}) in ${seconds} s, ${report.decoded} decoded, ` +
      `${report.uncaught.length} uncaught; slowest ${
        report.slowestMs.toFixed(2)
      } ms (${report.slowestKind})`,
  );
  for (const line of report.uncaught.slice(0, 10)) console.log(`  ${line}`);
  failed ||= report.uncaught.length > 0;
}
if (failed) Deno.exit(1);
