/**
 * Imported first by `main.ts`: the program runs on Deno, and a bundle started with plain `node`
 * must say so and fail, not die on the first Deno call or, worse, exit 0 having done nothing.
 *
 * @module
 */

const runtime = globalThis as { Deno?: unknown; process?: { exit(code: number): never } };
if (runtime.Deno === undefined) {
  const message = "mtproto2json runs on Deno, not on this runtime: install it with " +
    "`npm install -g mtproto2json` (which brings Deno) and run `mtproto2json`, or run " +
    "this file with `deno run -A`.";
  console.error(message);
  runtime.process?.exit(1);
  throw new Error(message);
}
