import { assertEquals, assertStringIncludes } from "./assert.ts";

const config = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));

/** The paths after `--ignore=` in a deno.json task. */
function ignored(task: string): string[] {
  return task.split(/\s+/).find((word) => word.startsWith("--ignore="))?.slice(9).split(",") ?? [];
}

Deno.test("release-check runs exactly the slow tests that deno task test leaves out", () => {
  const { tasks } = config;
  const slow = ignored(tasks.test).filter((path) => path.startsWith("tests/"));
  const run = tasks["release-check"].split(/\s+/).filter((word: string) =>
    word.startsWith("tests/")
  );
  // A path in one list only would be a test that no command runs, or one that runs twice in CI.
  assertEquals(slow.length > 0, true, "deno task test leaves out no slow test");
  assertEquals([...slow].sort(), [...run].sort());
  for (const path of run) Deno.statSync(new URL(`../${path}`, import.meta.url)); // still there
  assertStringIncludes(tasks.ok, "deno task test");
});

Deno.test("deno task test still leaves out what deno.json's test.exclude does", () => {
  // `--ignore=` replaces the config's exclude list instead of adding to it: without these, the
  // --doc run would execute the examples under docs/ (tests/docs runs them, with a server).
  const list = ignored(config.tasks.test);
  for (const path of config.test.exclude) assertEquals(list.includes(path), true, path);
});

Deno.test("CI soaks the model-based test and the big file longer than ok, and ok still runs both", () => {
  const { tasks } = config;
  assertStringIncludes(tasks.soak, "MTPROTO2JSON_MODEL_SEEDS=200");
  assertStringIncludes(tasks.soak, "MTPROTO2JSON_FILES_TEST_MB=300");
  for (const file of ["tests/e2e/update_model_test.ts", "tests/e2e/files_test.ts"]) {
    assertStringIncludes(tasks.soak, file);
    // ok's test run covers the file too (with its smaller defaults): it is not ignored there.
    assertEquals(ignored(tasks.test).includes(file), false);
  }
  const ci = Deno.readTextFileSync(new URL("../.ci/run", import.meta.url));
  for (const task of ["ok", "soak", "release-check"]) assertStringIncludes(ci, `run_task ${task}`);
});
