import { assertEquals } from "../assert.ts";

const root = new URL("../../", import.meta.url);

interface Info {
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
  }[];
}

/** The modules `from` loads before any of its code runs: its static imports, followed. */
function staticClosure(info: Info, from: string): Set<string> {
  const byName = new Map(info.modules.map((module) => [module.specifier, module]));
  const seen = new Set<string>();
  const next = [from];
  while (next.length) {
    const name = next.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const dependency of byName.get(name)?.dependencies ?? []) {
      if (dependency.code && !dependency.isDynamic) next.push(dependency.code.specifier);
    }
  }
  return seen;
}

// serve accepts within 100 ms of its start (#22) only while what it loads before it listens stays
// small: Node's compatibility layer (node:util alone was ~15 ms, node:crypto ~45), the ciphers
// and the 260 KB schema text load after the port opens.
Deno.test("serve loads no Node module, hash, cipher nor schema text before it listens", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("main.ts", root).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
  const info: Info = JSON.parse(new TextDecoder().decode(output.stdout));
  const loaded = new Set([
    ...staticClosure(info, new URL("main.ts", root).href),
    // run.ts imports serve's command when serve is asked for.
    ...staticClosure(info, new URL("lib/cli/proxy_command.ts", root).href),
  ]);
  const heavy = [...loaded].filter((name) =>
    name.startsWith("node:") || name.startsWith("npm:") || name.endsWith(".tl") ||
    /lib\/(crypto\/(hash|ctr|aes\w*|rsa)|transport\/transport|tl\/(default_schema|codec))\.ts$/
      .test(name)
  );
  assertEquals(heavy, []);
  // Without it Deno reads and analyses every module a dynamic import names (the whole program)
  // before main.ts runs: ~30 ms.
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  assertEquals(config.unstable.includes("lazy-dynamic-imports"), true);
});
