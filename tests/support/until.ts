/**
 * Waiting for a condition a test cannot await directly (a push arriving over a socket, a
 * connection closing on the other side, a process's descriptors), by polling it every 20 ms with
 * a bound: it waits for the condition, never for time, and fails naming what did not happen.
 *
 * @module
 */

/** How often the condition is looked at, in milliseconds. */
const POLL_MS = 20;

/**
 * Resolves once `test()` holds (it may be async, and is awaited before the next look); throws
 * naming `what` after `ms` milliseconds without it. A bench timing what it waits for looks more
 * often (`pollMs`), so that the look does not add to the figure.
 */
export async function until(
  test: () => boolean | Promise<boolean>,
  ms = 15_000,
  what = "the condition",
  pollMs = POLL_MS,
): Promise<void> {
  for (const end = Date.now() + ms; !(await test());) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * Resolves with the first value `find()` returns that is not `undefined`; throws naming `what`
 * after `ms` milliseconds without one.
 */
export async function untilFound<T>(
  find: () => T | undefined,
  ms = 15_000,
  what = "the value",
): Promise<T> {
  let found: T | undefined;
  await until(() => (found = find()) !== undefined, ms, what);
  return found!;
}

/**
 * Resolves as `promise` does; rejects naming `what` if it has not settled within `ms`
 * milliseconds (a bound on a wait, so that a broken behaviour fails the test instead of hanging it).
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves with `read()` once it gave the same number `times` looks in a row, `stepMs` apart:
 * "nothing more comes" for a count that settles (file requests still answered after a client
 * left), shown by the count staying put rather than by a fixed wait.
 */
export async function settledCount(read: () => number, stepMs = 300, times = 3): Promise<number> {
  let seen = -1;
  for (let stable = 0; stable < times;) {
    await new Promise((resolve) => setTimeout(resolve, stepMs));
    const now = read();
    stable = now === seen ? stable + 1 : 0;
    seen = now;
  }
  return seen;
}
