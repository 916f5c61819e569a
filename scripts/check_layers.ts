/**
 * `deno run --allow-read scripts/check_layers.ts`: fails when a file under lib/ imports from a
 * layer above its own. The layers, lowest first: tl and io; crypto; mtproto and transport (no I/O);
 * net (the only sockets and timers); client and emulator (built from the same pieces, neither
 * using the other); proxy; cli. `lib/errors.ts` is below everything.
 *
 * @module
 */

/** Each directory of lib/ and its height; a file may import only from strictly lower ones. */
export const LAYERS: Record<string, number> = {
  tl: 0,
  io: 0,
  crypto: 1,
  mtproto: 2,
  transport: 2,
  net: 3,
  updates: 3,
  client: 4,
  emulator: 4,
  proxy: 5,
  cli: 6,
};

/** Every import under `lib` that reaches up or sideways, as "file → target" lines. */
export function layerViolations(lib: string): string[] {
  const problems: string[] = [];
  for (const directory of Deno.readDirSync(lib)) {
    if (!directory.isDirectory) continue;
    const own = LAYERS[directory.name];
    if (own === undefined) {
      problems.push(`lib/${directory.name}/ is in no layer (add it to scripts/check_layers.ts)`);
      continue;
    }
    for (const file of tsFiles(`${lib}/${directory.name}`, directory.name)) {
      const text = Deno.readTextFileSync(`${lib}/${file}`);
      const depth = file.split("/").length - 1; // how many folders below lib/ the file is
      for (const match of text.matchAll(/from "((?:\.\.\/)+)([a-z_]+)\//g)) {
        // The folder under lib/ that the import lands in, or the file's own when it stays inside.
        const ups = match[1].length / 3;
        if (ups > depth) continue; // out of lib/ altogether: data such as scheme/
        const target = ups === depth ? match[2] : file.split("/")[0];
        if (target !== directory.name && !(LAYERS[target] < own)) {
          problems.push(`lib/${file} → lib/${target}/`);
        }
      }
    }
  }
  return problems;
}

/** The .ts files under `path`, recursively, as paths relative to lib/. */
function tsFiles(path: string, relative: string): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(path)) {
    if (entry.isDirectory) {
      files.push(...tsFiles(`${path}/${entry.name}`, `${relative}/${entry.name}`));
    } else if (entry.name.endsWith(".ts")) files.push(`${relative}/${entry.name}`);
  }
  return files;
}

if (import.meta.main) {
  const problems = layerViolations(new URL("../lib", import.meta.url).pathname);
  for (const problem of problems) console.log(`upward import: ${problem}`);
  if (problems.length) Deno.exit(1);
  console.log("layers: every import points down");
}
