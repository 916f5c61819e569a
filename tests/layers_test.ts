import { assertEquals } from "./assert.ts";
import { layerViolations } from "../scripts/check_layers.ts";

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
    assertEquals(layerViolations(lib).sort(), [
      "lib/mtproto/session.ts → lib/net/",
      "lib/transport/t.ts → lib/net/",
    ]);
  } finally {
    Deno.removeSync(lib, { recursive: true });
  }
});
