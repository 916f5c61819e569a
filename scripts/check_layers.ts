/**
 * `deno run --allow-read scripts/check_layers.ts`: fails when an import crosses a line the tree is
 * built around.
 *
 * Inside lib/, a file imports only from a layer below its own. The layers, lowest first: tl and io;
 * crypto; mtproto and transport (no I/O); net (sockets and timers) and updates (the update state
 * machine, no I/O); client and emulator (built from the same pieces, neither using the other);
 * store (persistence of held accounts); proxy; web (the HTTP and WebSocket front); cli. `lib/errors.ts` is below everything.
 *
 * Around lib/, code shared by tests, the demo, the benches and the check scripts lives in
 * tests/support/ only:
 * - lib/ and main.ts import nothing from tests/ or scripts/ (the product never ships test code);
 * - scripts/ imports from tests/ only files under tests/support/;
 * - tests/support/ imports from tests/ only files under tests/support/, so that what a script pulls
 *   in through it is support code too;
 * - neither scripts/ nor tests/support/ imports a test file (`*_test.ts`): importing one registers
 *   its tests.
 *
 * Time has one door: in lib/ and main.ts, only `lib/io/clock.ts` reads the platform's time or sets
 * its timers; everything else is handed a `Clock` (so that tests drive time with a fake one).
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
  store: 5,
  proxy: 6,
  web: 7,
  cli: 8,
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
    for (const file of sourceFiles(lib, directory.name)) {
      for (const target of relativeImports(lib, file)) {
        // Out of lib/ altogether (data such as scheme/): the boundary rules below judge those.
        if (target.startsWith("../")) continue;
        const layer = target.split("/")[0];
        // A file at lib/ itself (errors.ts) has no folder and sits below every layer.
        if (!target.includes("/") || layer === directory.name) continue;
        if (!(LAYERS[layer] < own)) problems.push(`lib/${file} → lib/${layer}/`);
      }
    }
  }
  return problems;
}

/**
 * Every import in the tree at `root` that breaks the rules between lib/, scripts/ and tests/ (see
 * the module comment), as "file → imported file (why)" lines with paths relative to `root`.
 *
 * @example
 * ```ts ignore
 * boundaryViolations(".") // [] when scripts/ reaches only into tests/support/
 * ```
 */
export function boundaryViolations(root: string): string[] {
  const problems: string[] = [];
  const files = ["main.ts", "lib", "scripts", "tests/support"].flatMap((path) =>
    sourceFiles(root, path)
  );
  for (const file of files) {
    for (const target of relativeImports(root, file)) {
      const why = boundaryRule(file, target);
      if (why) problems.push(`${file} → ${target} (${why})`);
    }
  }
  return problems;
}

/** Why importing `target` from `file` (both relative to the root) is not allowed, or undefined. */
function boundaryRule(file: string, target: string): string | undefined {
  const inTests = target.startsWith("tests/");
  const inSupport = target.startsWith("tests/support/");
  if (file === "main.ts" || file.startsWith("lib/")) {
    if (inTests) return "the product imports no tests";
    if (target.startsWith("scripts/")) return "the product imports no scripts";
    return undefined;
  }
  if (/_test\.[jt]s$/.test(target)) return "a test file registers its tests when imported";
  if (inTests && !inSupport) {
    return file.startsWith("scripts/")
      ? "scripts take shared code from tests/support/ only"
      : "tests/support/ must not depend on tests";
  }
  return undefined;
}

/**
 * The files that `file` imports by a relative specifier (static, `export … from` and dynamic
 * imports alike), resolved and made relative to `root`; a path starting with "../" left the root.
 * Package and URL specifiers are someone else's code and are skipped.
 */
function relativeImports(root: string, file: string): string[] {
  const text = Deno.readTextFileSync(`${root}/${file}`);
  const targets: string[] = [];
  for (const match of text.matchAll(/\b(?:from|import)\s*\(?\s*["'](\.\.?\/[^"']*)["']/g)) {
    targets.push(resolve(file, match[1]));
  }
  return targets;
}

/** `specifier` resolved against the folder of `file`, both relative to the same root. */
function resolve(file: string, specifier: string): string {
  const parts = file.split("/").slice(0, -1);
  let outside = 0; // how far above the root the path has climbed
  for (const part of specifier.split("/")) {
    if (part === "..") {
      if (parts.length) parts.pop();
      else outside++;
    } else if (part !== "." && part !== "") parts.push(part);
  }
  return "../".repeat(outside) + parts.join("/");
}

/** The .ts and .js files at `path` (a file or a folder, recursively), relative to `root`. */
function sourceFiles(root: string, path: string): string[] {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(`${root}/${path}`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return []; // a tree without scripts/, say
    throw error;
  }
  if (!info.isDirectory) return /\.[jt]s$/.test(path) ? [path] : [];
  const files: string[] = [];
  for (const entry of Deno.readDirSync(`${root}/${path}`)) {
    if (entry.name === "node_modules") continue;
    files.push(...sourceFiles(root, `${path}/${entry.name}`));
  }
  return files;
}

/** The one file in lib/ allowed to read the platform's time and set its timers. */
export const CLOCK_FILE = "lib/io/clock.ts";

/** Reading the time or setting a timer without a `Clock`: what {@link timeViolations} looks for. */
const TIME_READS: [RegExp, string][] = [
  [/\bDate\.now\s*\(/, "Date.now()"],
  [/\bperformance\.now\s*\(/, "performance.now()"],
  [/\bnew Date\s*\(\s*\)/, "new Date()"],
  [/(?<![.\w])(?:set|clear)(?:Timeout|Interval)\s*\(/, "a platform timer"],
  [/\bDeno\.unrefTimer\b/, "Deno.unrefTimer"],
];

/**
 * Every place in lib/ and main.ts under `root` that reads the time or sets a timer other than
 * through a `Clock`, as "file:line: what" lines. Comment lines (JSDoc examples included) are not
 * code the product runs, so they are skipped.
 *
 * @example
 * ```ts ignore
 * timeViolations(".") // [] when only lib/io/clock.ts touches the platform's clock
 * ```
 */
export function timeViolations(root: string): string[] {
  const problems: string[] = [];
  for (const file of ["main.ts", "lib"].flatMap((path) => sourceFiles(root, path))) {
    if (file === CLOCK_FILE) continue;
    const lines = Deno.readTextFileSync(`${root}/${file}`).split("\n");
    lines.forEach((line, index) => {
      const code = line.trim();
      if (code.startsWith("*") || code.startsWith("//") || code.startsWith("/*")) return;
      for (const [pattern, what] of TIME_READS) {
        if (pattern.test(code)) problems.push(`${file}:${index + 1}: ${what}`);
      }
    });
  }
  return problems;
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname;
  const upward = layerViolations(`${root}/lib`);
  const boundary = boundaryViolations(root);
  for (const problem of upward) console.log(`upward import: ${problem}`);
  for (const problem of boundary) console.log(`import across the tests/ boundary: ${problem}`);
  const time = timeViolations(root);
  for (const problem of time) console.log(`time read outside ${CLOCK_FILE}: ${problem}`);
  if (upward.length || boundary.length || time.length) Deno.exit(1);
  console.log(
    "layers: every import in lib/ points down; scripts/ reach only tests/support/; " +
      `only ${CLOCK_FILE} reads the time`,
  );
}
