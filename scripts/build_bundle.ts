/**
 * Builds the bundle: the whole program as plain JavaScript in one folder, the schema embedded,
 * which runs on Deno from any directory with nothing else installed — the npm package's program
 * and the release script's local form. The folder holds `main.js`, which is what one runs, and
 * the chunks it imports when a command needs them (`deno bundle --code-splitting`).
 *
 * Why a folder, not one file (#22): a process reads, hashes and compiles all of its main module
 * before any of it runs, and esbuild hoists every `node:` import of one file to its top, the
 * PostgreSQL driver's too. As one 1.3 MB file `serve` spent ~190–250 ms of CPU before it accepted
 * (~155–170 even with no Node module at all); as chunks it loads ~90 KB before it listens, as
 * the source does, and about what the source spends.
 *
 * ```sh
 * deno run -A scripts/build_bundle.ts dist/bundle    # prints dist/bundle/main.js
 * deno run -A --no-config --unstable-lazy-dynamic-imports dist/bundle/main.js --version
 * ```
 *
 * @module
 */

/**
 * The `deno run` flags the bundle runs with (before the path of its main.js); `-A` is the caller's
 * choice. `--no-config`: a deno.json where it is started is not the program's. Lazy dynamic imports:
 * otherwise Deno reads and analyses every chunk a dynamic import names, the whole program, before
 * main.js runs (what deno.json's `unstable` entry does for the source).
 */
export const BUNDLE_RUN_FLAGS: readonly string[] = [
  "--no-config",
  "--unstable-lazy-dynamic-imports",
];

const root = new URL("../", import.meta.url).pathname;

/**
 * Bundles main.ts of the tree `from` (this one unless told) into the folder `dir`, made anew
 * (chunks are named by their content, so old ones would stay beside the new), and returns the path
 * of the main.js to run. A folder that holds anything but .js files is not an old bundle and is
 * refused, not emptied.
 */
export async function buildBundle(dir: string, from = root): Promise<string> {
  dir = (dir.startsWith("/") ? dir : `${Deno.cwd()}/${dir}`).replace(/\/+$/, "");
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !entry.name.endsWith(".js")) {
        throw new Error(`${dir} holds ${entry.name}: not a bundle's folder, left as it is`);
      }
    }
    await Deno.remove(dir, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const built = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--code-splitting", "--outdir", dir, `${from}main.ts`],
    cwd: from,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (built.code !== 0) {
    throw new Error(`deno bundle failed: ${new TextDecoder().decode(built.stderr).trim()}`);
  }
  const main = `${dir}/main.js`;
  await Deno.stat(main);
  return main;
}

if (import.meta.main) {
  const [dir, ...rest] = Deno.args;
  if (!dir || rest.length) {
    console.error("usage: deno run -A scripts/build_bundle.ts OUT_DIR");
    Deno.exit(2);
  }
  console.log(await buildBundle(dir));
}
