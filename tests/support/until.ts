/**
 * Polling for a condition a test waits on across processes or sockets, bounded.
 *
 * @module
 */

/** Resolves once `test()` holds; throws naming `what` after `ms` milliseconds without it. */
export async function until(
  test: () => boolean,
  ms = 15_000,
  what = "the condition",
): Promise<void> {
  for (const end = Date.now() + ms; !test();) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
