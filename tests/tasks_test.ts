import { assertEquals, assertStringIncludes } from "./assert.ts";
import { okTestFiles, shareOf, testFiles } from "./support/test_shares.ts";

const config = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
const root = new URL("../", import.meta.url);
const SHARES = [1, 2, 3, 4, 5, 6, 7, 8];

/** The paths after `--ignore=` in a deno.json task. */
function ignored(task: string): string[] {
  return task.split(/\s+/).find((word) => word.startsWith("--ignore="))?.slice(9).split(",") ?? [];
}

/** The test paths a task names outright (files and folders under tests/). */
function named(task: string): string[] {
  return task.split(/\s+/).filter((word) => word.startsWith("tests/"));
}

/** True when `path` is `entry` or lies under the folder `entry`. */
const within = (path: string, entry: string) =>
  path === entry || (entry.endsWith("/") && path.startsWith(entry));

Deno.test("every test file runs in exactly one of test (ok's), e2e and release-check", () => {
  const { tasks } = config;
  // ok's tests run in shares (tests/support/test_shares.ts): the task names each share once.
  assertEquals(named(tasks.test), SHARES.map((index) => `tests/run/share_${index}.ts`));
  const shares = SHARES.flatMap((index) => shareOf(index, SHARES.length));
  assertEquals(new Set(shares).size, shares.length, "a file in two shares");
  assertEquals(shares.length, okTestFiles().length, "a file in no share");
  const runs = {
    test: (path: string) => shares.includes(path),
    e2e: (path: string) =>
      named(tasks.e2e).some((entry) => within(path, entry)) &&
      !ignored(tasks.e2e).some((entry) => within(path, entry)),
    "release-check": (path: string) =>
      named(tasks["release-check"]).some((entry) => within(path, entry)),
  };
  const files = testFiles();
  assertEquals(files.length > 100, true, "the walk found the tests");
  for (const path of files) {
    const by = Object.entries(runs).filter(([, runs]) => runs(path)).map(([task]) => task);
    // None would be a test that no command runs; two, one that runs twice in CI.
    assertEquals(by.length, 1, `${path} runs in ${JSON.stringify(by)}`);
  }
  for (const path of named(tasks["release-check"])) Deno.statSync(new URL(path, root));
  assertStringIncludes(tasks.ok, "deno task test");
});

Deno.test("ok type-checks the examples in lib/'s doc comments, and release-check runs them", () => {
  const { tasks } = config;
  assertEquals(/deno check --doc [^&]*\blib\//.test(tasks.ok), true, tasks.ok);
  assertEquals(/--doc\b/.test(tasks["release-check"]), true, tasks["release-check"]);
  assertEquals(tasks["release-check"].split(/\s+/).includes("lib/"), true);
});

Deno.test("CI runs ok, e2e, the soak and release-check; the soak's files are e2e's, with longer runs", () => {
  const { tasks } = config;
  assertStringIncludes(tasks.soak, "MTPROTO2JSON_MODEL_SEEDS=200");
  assertStringIncludes(tasks.soak, "MTPROTO2JSON_FILES_TEST_MB=300");
  for (const file of ["tests/e2e/update_model_test.ts", "tests/e2e/files_test.ts"]) {
    assertStringIncludes(tasks.soak, file);
    assertEquals(named(tasks.e2e).some((entry) => within(file, entry)), true, file);
  }
  const ci = Deno.readTextFileSync(new URL(".ci/run", root));
  for (const task of ["ok", "e2e", "soak", "release-check"]) {
    assertStringIncludes(ci, `run_task ${task}`);
  }
});
