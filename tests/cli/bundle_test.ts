import { assertEquals, assertStringIncludes } from "../assert.ts";
import { buildBundle, BUNDLE_RUN_FLAGS } from "../../scripts/build_bundle.ts";

/** The modules `from` (a file of the bundle) imports before any of its code runs, followed. */
async function staticClosure(dir: string, from: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const next = [from];
  while (next.length) {
    const name = next.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    if (!name.startsWith("./")) continue; // node:..., npm:...: not a file of the bundle
    const text = await Deno.readTextFile(`${dir}/${name}`);
    for (const [, specifier] of text.matchAll(/^import\s+(?:[^;"]*?\sfrom\s*)?"([^"]+)"/gm)) {
      next.push(specifier);
    }
  }
  return seen;
}

// `deno compile` needs Deno's runtime download, which our machines cannot reach; a bundle run from
// an empty directory shows the same property: nothing is read from the source tree at run time.
Deno.test("the bundle runs from an empty directory, and serve loads little of it before it listens", async (t) => {
  const empty = await Deno.makeTempDir();
  try {
    const main = await buildBundle(`${empty}/mtproto2json`);
    await t.step("it runs from an empty directory", async () => {
      const run = async (...args: string[]) => {
        const result = await new Deno.Command(Deno.execPath(), {
          // It reads its own folder only (its chunks, loaded when needed), and nothing else.
          args: ["run", ...BUNDLE_RUN_FLAGS, `--allow-read=${empty}/mtproto2json`, main, ...args],
          cwd: empty,
          stdout: "piped",
          stderr: "piped",
        }).output();
        return {
          code: result.code,
          stdout: new TextDecoder().decode(result.stdout),
          stderr: new TextDecoder().decode(result.stderr),
        };
      };
      const version = await run("--version");
      assertEquals(version.code, 0, version.stderr);
      assertStringIncludes(version.stdout, "(TL layer 223)");
      const describe = await run("tl", "describe", "inputPeerUser");
      assertEquals(describe.code, 0, describe.stderr);
      assertEquals(JSON.parse(describe.stdout).id, "0xdde8a54c");
      // Under plain Node (CI has it) the bundle says what it needs and fails; it never exits 0.
      const node = await new Deno.Command("node", { args: [main, "--version"], stderr: "piped" })
        .output().catch(() => undefined);
      if (node) {
        assertEquals(node.code, 1);
        assertStringIncludes(new TextDecoder().decode(node.stderr), "mtproto2json runs on Deno");
      }
    });
    // As the source does (tests/cli/startup_modules_test.ts), so that serve accepts within 100 ms
    // of its start (#22): as one file, its 1.3 MB and every Node module the program or the
    // PostgreSQL driver imports were read and compiled before anything ran (~200 ms).
    await t.step("serve loads no Node module and under 150 KB before it listens", async () => {
      const dir = `${empty}/mtproto2json`;
      const entry = await Deno.readTextFile(main);
      const serveChunk = /import\("(\.\/proxy_command-\w+\.js)"\)/.exec(entry)?.[1];
      assertEquals(typeof serveChunk, "string", "main.js imports serve's command when asked");
      const loaded = new Set([
        ...await staticClosure(dir, "./main.js"),
        ...await staticClosure(dir, serveChunk!),
      ]);
      assertEquals([...loaded].filter((name) => !name.startsWith("./")), []);
      let bytes = 0, total = 0;
      for (const name of loaded) bytes += (await Deno.stat(`${dir}/${name}`)).size;
      for await (const file of Deno.readDir(dir)) {
        total += (await Deno.stat(`${dir}/${file.name}`)).size;
      }
      assertEquals(total > 1_000_000, true, `the whole bundle: ${total} bytes`);
      assertEquals(bytes < 150_000, true, `${bytes} bytes in ${[...loaded].join(", ")}`);
    });
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});
