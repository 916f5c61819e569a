import { assertEquals, assertStringIncludes } from "../assert.ts";
import { buildNpmPackage } from "../../scripts/build_npm.ts";
import { waitFor } from "../support/processes.ts";
import { JsonClient } from "./json_client.ts";

// The npm package, as a user gets it: packed, installed with one command into an empty prefix
// (npm needs only its registry, for the "deno" dependency), and run from an empty directory.
Deno.test("the packed npm package installs with one command and runs the emulator quick start", async () => {
  const home = await Deno.makeTempDir();
  const children: Deno.ChildProcess[] = [];
  try {
    const tarball = (await buildNpmPackage(`${home}/package`, true))!;
    const installed = await new Deno.Command("npm", {
      args: ["install", "-g", "--prefix", `${home}/prefix`, "--no-audit", "--no-fund", tarball],
      cwd: home,
      stdout: "null",
      stderr: "piped",
    }).output();
    assertEquals(installed.code, 0, new TextDecoder().decode(installed.stderr));
    const work = `${home}/work`;
    await Deno.mkdir(work);
    const bin = `${home}/prefix/bin/mtproto2json`;
    const start = (args: string[], read: "stdout" | "stderr") => {
      const child = new Deno.Command(bin, {
        args,
        cwd: work,
        stdout: read === "stdout" ? "piped" : "null",
        stderr: read === "stderr" ? "piped" : "null",
      }).spawn();
      children.push(child);
      return child;
    };
    const run = async (args: string[], input = "") => {
      const child = new Deno.Command(bin, {
        args,
        cwd: work,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(input));
      await writer.close();
      const output = await child.output();
      const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
      return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
    };

    const version = await run(["--version"]);
    assertEquals(version.code, 0, version.stderr);
    assertStringIncludes(version.stdout, "mtproto2json 0.1.0");
    const encoded = await run(
      ["tl", "encode"],
      '{"_cons":"inputPeerUser","user_id":1,"access_hash":2}\n',
    );
    assertEquals(encoded.stdout.trim(), "4ca5e8dd01000000000000000200000000000000");

    // The emulator quick start, every step through the installed command.
    const emulator = start(["emulator", "--port", "0"], "stdout");
    const server = (await waitFor(emulator.stdout, /^.*\n/))[0].trim();
    const serve = start([
      "serve",
      "--port",
      "0",
      "--server",
      server,
      "--api-id",
      "1",
      "--api-hash",
      "x",
    ], "stderr");
    const port = Number((await waitFor(serve.stderr, /listening on [\d.]+:(\d+)/))[1]);
    const signin = await run([
      "signin",
      "--server",
      server,
      "--api-id",
      "1",
      "--api-hash",
      "x",
      "--phone",
      "+15550000001",
      "--code",
      "12345",
    ]);
    assertEquals(signin.code, 0, signin.stderr);
    const client = await JsonClient.connect(port);
    try {
      await client.sendText(signin.stdout);
      const me = await client.request({
        id: 2,
        message: { _cons: "users.getUsers", id: [{ _cons: "inputUserSelf" }] },
      });
      assertEquals((me.message as { first_name: string }[])[0].first_name, "Alice");
    } finally {
      client.close();
    }
    // Signals reach the program through the launcher (serve stops cleanly on SIGTERM: 0), and
    // so does its exit status.
    serve.kill("SIGTERM");
    assertEquals((await serve.status).code, 0);
    assertEquals((await run(["frobnicate"])).code, 2);
  } finally {
    for (const child of children) {
      try {
        child.kill("SIGTERM");
      } catch { /* ended */ }
      await child.status;
    }
    await Deno.remove(home, { recursive: true });
  }
});
