/**
 * The steps of the independent-client checks (`check_with_*.js`): each prints ✓ or ✗ with what
 * it returned or threw, and the run ends with a summary and status 1 if any failed.
 *
 * @module
 */

let failures = 0;

/** Runs one step, printing ✓ or ✗ with what it returned or threw (a client's own error text). */
export async function step(name, run) {
  try {
    const detail = await run();
    console.log(`✓ ${name}${detail === undefined ? "" : `: ${detail}`}`);
  } catch (error) {
    failures++;
    console.log(`✗ ${name}: ${error?.errorMessage ?? error?.message ?? error}`);
  }
}

/** Prints the summary and exits: 0 when every step passed. */
export function finish() {
  console.log(`\n${failures === 0 ? "all steps passed" : `${failures} step(s) failed`}`);
  Deno.exit(failures === 0 ? 0 : 1);
}
