import { assertEquals, assertStringIncludes } from "../assert.ts";

Deno.test("deno task demo runs to its end, as the README promises a newcomer", async () => {
  const demo = new URL("../../scripts/demo.ts", import.meta.url).pathname;
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "--allow-net=127.0.0.1", demo],
    env: { NO_COLOR: "1" },
    stderr: "null",
  }).output();
  const text = new TextDecoder().decode(stdout);
  assertEquals(code, 0, text);
  assertStringIncludes(text, "Hello from the demo!");
  assertStringIncludes(text, "Done: emulator, serve, signin and a JSON client");
});
