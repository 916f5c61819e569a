/**
 * Builds the npm package that is the tool: the bundle (scripts/build_bundle.ts: a folder,
 * mtproto2json/, the schema embedded), a small Node launcher that runs it on the `deno` npm package
 * (a dependency, pinned to the Deno this repository uses), the licence and a short README; with
 * `--pack`, also the tarball `npm pack` makes of it. The release workflow publishes that tarball;
 * the tests install it.
 *
 * ```sh
 * deno run -A scripts/build_npm.ts [--out dist/npm] [--pack]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import denoConfig from "../deno.json" with { type: "json" };
import { buildBundle, BUNDLE_RUN_FLAGS } from "./build_bundle.ts";

const root = new URL("../", import.meta.url).pathname;

const RUN_FLAGS = BUNDLE_RUN_FLAGS.map((flag) => JSON.stringify(flag)).join(", ");

/** The launcher: runs the bundle on Deno, passing arguments, stdio, signals and the exit status. */
const LAUNCHER = `#!/usr/bin/env node
// mtproto2json's launcher: the program runs on Deno, which the "deno" package installed.
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

function denoExecutable() {
  const home = path.dirname(require.resolve("deno/package.json"));
  const exe = path.join(home, process.platform === "win32" ? "deno.exe" : "deno");
  if (fs.existsSync(exe)) return exe;
  return require("deno/install_api.cjs").runInstall();
}

const bundle = path.join(__dirname, "..", "mtproto2json", "main.js");
const child = spawn(
  denoExecutable(),
  ["run", "--allow-all", ${RUN_FLAGS}, "--quiet", bundle, ...process.argv.slice(2)],
  { stdio: "inherit", env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" } },
);
// Signals go to the program, which decides how to end (status 130 for SIGINT and SIGTERM).
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("error", (error) => {
  console.error("mtproto2json: cannot start Deno: " + error.message);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  process.exit(code ?? 128 + (require("node:os").constants.signals[signal] ?? 0));
});
`;

const README = `# mtproto2json

Telegram's client protocol (MTProto 2.0) as newline-delimited JSON: any program can call any raw
Telegram API method, sign in, and receive live, gap-free updates without implementing MTProto.

\`\`\`sh
npm install -g mtproto2json
mtproto2json --help
mtproto2json emulator > server.json &     # a local stand-in for Telegram, for trying it out
\`\`\`

The full documentation is in the project's repository.
`;

/** Builds the package into `out`; returns the tarball's path when `pack` is set. */
export async function buildNpmPackage(out: string, pack: boolean): Promise<string | undefined> {
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${out}/bin`, { recursive: true });
  await buildBundle(`${out}/mtproto2json`);
  const packageJson = {
    name: "mtproto2json",
    version: denoConfig.version,
    description: "Telegram's MTProto 2.0 as newline-delimited JSON: raw API calls, sign-in and " +
      "gap-free updates from any language",
    license: "MIT",
    bin: { mtproto2json: "bin/mtproto2json.cjs" },
    files: ["bin/", "mtproto2json/", "LICENSE", "README.md"],
    dependencies: { deno: Deno.version.deno },
    engines: { node: ">=18" },
    keywords: ["telegram", "mtproto", "json", "proxy"],
  };
  await Deno.writeTextFile(`${out}/package.json`, JSON.stringify(packageJson, null, 2) + "\n");
  await Deno.writeTextFile(`${out}/bin/mtproto2json.cjs`, LAUNCHER, { mode: 0o755 });
  await Deno.writeTextFile(`${out}/README.md`, README);
  await Deno.copyFile(`${root}LICENSE`, `${out}/LICENSE`);
  if (!pack) return undefined;
  const packed = await new Deno.Command("npm", {
    args: ["pack", "--silent", "--pack-destination", out],
    cwd: out,
    stdout: "piped",
  }).output();
  if (packed.code !== 0) throw new Error("npm pack failed");
  return `${out}/${new TextDecoder().decode(packed.stdout).trim().split("\n").at(-1)}`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: `${root}dist/npm` }, pack: { type: "boolean" } },
  });
  const tarball = await buildNpmPackage(values.out!, values.pack === true);
  console.log(tarball ?? values.out);
}
