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
    assertEquals(layerViolations(lib), ["lib/mtproto/session.ts → lib/net/"]);
  } finally {
    Deno.removeSync(lib, { recursive: true });
  }
});
