import { assertEquals } from "./assert.ts";
import { boundaryViolations, layerViolations } from "../scripts/check_layers.ts";

Deno.test("every import under lib/ points to a lower layer", () => {
  assertEquals(layerViolations(new URL("../lib", import.meta.url).pathname), []);
});

Deno.test("the layer check notices an upward import", () => {
  const lib = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${lib}/mtproto`);
    Deno.mkdirSync(`${lib}/net`);
    Deno.writeTextFileSync(`${lib}/mtproto/session.ts`, 'import { x } from "../net/sender.ts";\n');
    Deno.writeTextFileSync(`${lib}/net/sender.ts`, 'import { y } from "../mtproto/session.ts";\n');
    // A file one folder down is checked too, with its longer relative paths.
    Deno.mkdirSync(`${lib}/net/deep`);
    Deno.writeTextFileSync(`${lib}/net/deep/x.ts`, 'import { y } from "../../mtproto/a.ts";\n');
    Deno.mkdirSync(`${lib}/transport`);
    Deno.writeTextFileSync(`${lib}/transport/t.ts`, 'import { z } from "../net/deep/x.ts";\n');
    // A dynamic import reaches up as much as a static one.
    Deno.writeTextFileSync(`${lib}/transport/u.ts`, 'await import("../net/sender.ts");\n');
    assertEquals(layerViolations(lib).sort(), [
      "lib/mtproto/session.ts → lib/net/",
      "lib/transport/t.ts → lib/net/",
      "lib/transport/u.ts → lib/net/",
    ]);
  } finally {
    Deno.removeSync(lib, { recursive: true });
  }
});

Deno.test("lib/, main.ts, scripts/ and tests/support/ reach into tests/ only through tests/support/", () => {
  assertEquals(boundaryViolations(new URL("..", import.meta.url).pathname), []);
});

Deno.test("the boundary check names every import across the tests/ line", () => {
  const root = Deno.makeTempDirSync();
  const write = (path: string, text: string) => {
    Deno.mkdirSync(`${root}/${path.split("/").slice(0, -1).join("/")}`, { recursive: true });
    Deno.writeTextFileSync(`${root}/${path}`, text);
  };
  try {
    write("main.ts", 'import { memoryDc } from "./tests/support/memory_dc.ts";\n');
    write("lib/net/a.ts", 'import { fakeTimers } from "../../tests/support/fake_timers.ts";\n');
    write("lib/cli/b.ts", 'import { run } from "../../scripts/demo.ts";\n');
    // The tree before the JSON client moved: a script importing it from tests/e2e/.
    write("scripts/demo.ts", 'import { JsonClient } from "../tests/e2e/json_client.ts";\n');
    write("scripts/check.js", "import { exampleOf } from '../tests/tl/example_values.ts';\n");
    write("scripts/bench.ts", 'await import("../tests/support/serve_test.ts");\n');
    write("tests/support/processes.ts", 'import type { C } from "../e2e/json_client.ts";\n');
    write("tests/support/x.ts", 'export { y } from "./y_test.ts";\n');
    // Allowed: support code from scripts and from support, lib from anywhere, packages, and
    // tests importing each other (tests/ outside support is not checked).
    write(
      "scripts/fuzz.ts",
      [
        'import { fuzzDecode } from "../tests/support/fuzz_decode.ts";',
        'import { TlCodec } from "../lib/tl/codec.ts";',
        'import { assert } from "jsr:@std/assert";',
        'export { signIn } from "../tests/support/processes.ts";',
      ].join("\n"),
    );
    write("tests/support/z.ts", 'import {\n  signIn,\n} from "./processes.ts";\n');
    write("tests/e2e/serve_test.ts", 'import { a } from "./other_test.ts";\n');
    assertEquals(boundaryViolations(root).sort(), [
      "lib/cli/b.ts → scripts/demo.ts (the product imports no scripts)",
      "lib/net/a.ts → tests/support/fake_timers.ts (the product imports no tests)",
      "main.ts → tests/support/memory_dc.ts (the product imports no tests)",
      "scripts/bench.ts → tests/support/serve_test.ts" +
      " (a test file registers its tests when imported)",
      "scripts/check.js → tests/tl/example_values.ts" +
      " (scripts take shared code from tests/support/ only)",
      "scripts/demo.ts → tests/e2e/json_client.ts" +
      " (scripts take shared code from tests/support/ only)",
      "tests/support/processes.ts → tests/e2e/json_client.ts" +
      " (tests/support/ must not depend on tests)",
      "tests/support/x.ts → tests/support/y_test.ts" +
      " (a test file registers its tests when imported)",
    ]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
