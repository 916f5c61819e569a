/**
 * The assertions the tests use, over `node:assert/strict` (the JSR standard library is not
 * reachable from our machines).
 *
 * @module
 */

import assert from "node:assert/strict";

/** Asserts deep, strict equality. */
export function assertEquals<T>(actual: unknown, expected: T, message?: string): void {
  assert.deepStrictEqual(actual, expected, message);
}

/** Asserts that `text` contains `part`. */
export function assertStringIncludes(text: string, part: string, message?: string): void {
  assert.ok(
    text.includes(part),
    message ?? `expected ${JSON.stringify(text)} to include ${JSON.stringify(part)}`,
  );
}

/**
 * Asserts that `fn` throws an instance of `type` whose message includes `includes`, and returns
 * the error for further checks.
 */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  type: abstract new (...args: never[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    if (includes !== undefined) assertStringIncludes((error as Error).message, includes);
    return error as E;
  }
  throw new assert.AssertionError({ message: `expected ${type.name} to be thrown` });
}

/** Async form of {@link assertThrows}. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  type: abstract new (...args: never[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    if (includes !== undefined) assertStringIncludes((error as Error).message, includes);
    return error as E;
  }
  throw new assert.AssertionError({ message: `expected ${type.name} to be rejected` });
}
