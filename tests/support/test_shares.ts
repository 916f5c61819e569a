/**
 * `deno task test` (ok's tests) in a few shares instead of a file each. `deno test` starts an
 * isolate per test file, about a third of a second of CPU each before any test runs: with over
 * two hundred files that was most of the fast loop's time. Each share is one module that imports
 * its part of the test files, so the files' tests register there and run in one isolate; the
 * shares run in parallel. A test file still runs alone as always (`deno test tests/x_test.ts`).
 *
 * @module
 */

/** Test files that ok leaves to other tasks: `e2e`, and `release-check`'s slow checks. */
export const NOT_IN_OK = [
  "tests/e2e/",
  "tests/docs/",
  "tests/cli/bundle_test.ts",
  "tests/cli/release_scripts_test.ts",
];

const root = new URL("../../", import.meta.url);

/** Every test file under `folder` (relative to the repository), sorted. */
export function testFiles(folder = "tests/"): string[] {
  return [...Deno.readDirSync(new URL(folder, root))].flatMap((entry) =>
    entry.isDirectory
      ? testFiles(`${folder}${entry.name}/`)
      : entry.name.endsWith("_test.ts")
      ? [`${folder}${entry.name}`]
      : []
  ).sort();
}

/** The test files `deno task test` runs. */
export function okTestFiles(): string[] {
  return testFiles().filter((path) =>
    !NOT_IN_OK.some((entry) => path === entry || (entry.endsWith("/") && path.startsWith(entry)))
  );
}

/**
 * The files of share `index` (1-based) of `count`: every count-th file, so that each share gets
 * some of every folder (the slow ones are not all in one).
 */
export function shareOf(index: number, count: number): string[] {
  return okTestFiles().filter((_, position) => position % count === index - 1);
}

/** Imports share `index` of `count`: its files' tests register in the importing module's run. */
export async function importShare(index: number, count: number): Promise<void> {
  for (const path of shareOf(index, count)) await import(new URL(path, root).href);
}
