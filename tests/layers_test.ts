import { assertEquals } from "./assert.ts";
import { boundaryViolations, layerViolations, timeViolations } from "../scripts/check_layers.ts";

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
    write("lib/net/a.ts", 'import { fakeClock } from "../../tests/support/fake_clock.ts";\n');
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
      "lib/net/a.ts → tests/support/fake_clock.ts (the product imports no tests)",
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

Deno.test("only lib/io/clock.ts reads the time or sets a timer in lib/ and main.ts", () => {
  assertEquals(timeViolations(new URL("..", import.meta.url).pathname), []);
});

Deno.test("the time check names every clock read and timer outside the clock", () => {
  const root = Deno.makeTempDirSync();
  const write = (path: string, text: string) => {
    Deno.mkdirSync(`${root}/${path.split("/").slice(0, -1).join("/")}`, { recursive: true });
    Deno.writeTextFileSync(`${root}/${path}`, text);
  };
  try {
    write("lib/io/clock.ts", "export const now = () => performance.now();\nsetTimeout(f, 1);\n");
    write(
      "lib/net/a.ts",
      [
        "const started = Date.now();",
        "const timer = setTimeout(() => {}, 10);",
        "clearInterval(id);",
        "Deno.unrefTimer(timer);",
        "const when = new Date();",
        "  const t = performance.now ();",
        // Allowed: a Clock's own timers, a date built from a given time, and comments.
        "clock.setTimeout(run, 5);",
        "this.#clock.clearTimeout(timer);",
        "const date = new Date(clock.wall());",
        " * await new Promise((resolve) => setTimeout(resolve, 1));",
        "// Date.now() would be wrong here",
      ].join("\n"),
    );
    write("main.ts", "await new Promise((resolve) => setTimeout(resolve, 100));\n");
    write("tests/e2e/x_test.ts", "await new Promise((resolve) => setTimeout(resolve, 100));\n");
    assertEquals(timeViolations(root).sort(), [
      "lib/net/a.ts:1: Date.now()",
      "lib/net/a.ts:2: a platform timer",
      "lib/net/a.ts:3: a platform timer",
      "lib/net/a.ts:4: Deno.unrefTimer",
      "lib/net/a.ts:5: new Date()",
      "lib/net/a.ts:6: performance.now()",
      "main.ts:1: a platform timer",
    ]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
