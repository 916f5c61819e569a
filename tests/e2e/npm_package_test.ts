import { assertEquals } from "../assert.ts";
import { buildNpmPackage } from "../../scripts/build_npm.ts";
import { smokeTest } from "../../scripts/smoke_test.ts";

const root = new URL("../../", import.meta.url).pathname;

// The release workflow's smoke test, in its local form: on the source as `deno run` runs it.
Deno.test("the release smoke test passes on the source", async () => {
  await smokeTest([Deno.execPath(), "run", "-A", "--config", `${root}deno.json`, `${root}main.ts`]);
});

// The npm package, as a user gets it: packed, installed with one command into an empty prefix
// (npm needs only its registry, for the "deno" dependency), and run from an empty directory.
Deno.test("the packed npm package installs with one command and runs the emulator quick start", async () => {
  const home = await Deno.makeTempDir();
  try {
    const tarball = (await buildNpmPackage(`${home}/package`, true))!;
    const installed = await new Deno.Command("npm", {
      args: ["install", "-g", "--prefix", `${home}/prefix`, "--no-audit", "--no-fund", tarball],
      cwd: home,
      stdout: "null",
      stderr: "piped",
    }).output();
    assertEquals(installed.code, 0, new TextDecoder().decode(installed.stderr));
    const bin = `${home}/prefix/bin/mtproto2json`;
    await smokeTest([bin]);
    // Exit statuses and signals pass through the launcher: a usage error is 2, and a stopped
    // serve ends as serve does (0).
    assertEquals(
      (await new Deno.Command(bin, { args: ["frobnicate"], stderr: "null" }).output()).code,
      2,
    );
    const serve = new Deno.Command(bin, {
      args: ["serve", "--port", "0"],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = serve.stderr.getReader();
    let text = "";
    while (!text.includes("listening on")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    serve.kill("SIGTERM");
    assertEquals((await serve.status).code, 0, text);
    reader.releaseLock();
    await serve.stderr.cancel();
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
