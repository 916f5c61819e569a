import { assertEquals, assertStringIncludes } from "../assert.ts";
import { createHash } from "node:crypto";
import { smokeTest } from "../../scripts/smoke_test.ts";
import { BUNDLE_RUN_FLAGS } from "../../scripts/build_bundle.ts";

const root = new URL("../../", import.meta.url).pathname;

async function bash(...args: string[]) {
  const output = await new Deno.Command("bash", {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
}

Deno.test("the release workflow calls only scripts in scripts/, and each exists", async () => {
  const workflow = await Deno.readTextFile(`${root}.github/workflows/release.yml`);
  const runs = [...workflow.matchAll(/^\s*(?:- )?run: (.*)$/gm)].map((match) => match[1]);
  assertEquals(runs.length >= 8, true);
  const plumbing = 'echo "$PWD/.tools/node_modules/.bin" >> "$GITHUB_PATH"';
  for (const run of runs) {
    if (run === plumbing || run === "bash .ci/run") continue;
    const scripts = [...run.matchAll(/scripts\/[\w.]+/g)].map((match) => match[0]);
    assertEquals(scripts.length > 0, true, `run: ${run}`);
    for (const script of scripts) await Deno.stat(`${root}${script}`);
  }
});

Deno.test("release_compile.sh in its local form builds the bundle, which passes the smoke test", async () => {
  const out = await Deno.makeTempDir();
  try {
    const built = await bash("scripts/release_compile.sh", "bundle", out);
    assertEquals(built.code, 0, built.stderr);
    assertEquals(built.stdout.trim(), `${out}/mtproto2json/main.js`);
    await smokeTest([Deno.execPath(), "run", "-A", ...BUNDLE_RUN_FLAGS, built.stdout.trim()]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("checksums.sh writes SHA256SUMS as sha256sum --check reads it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/mtproto2json-x86_64-unknown-linux-gnu`, "binary one");
    await Deno.writeTextFile(`${dir}/mtproto2json-0.1.0.tgz`, "package");
    const result = await bash("scripts/checksums.sh", dir);
    assertEquals(result.code, 0, result.stderr);
    const sums = await Deno.readTextFile(`${dir}/SHA256SUMS`);
    const sha = (text: string) => createHash("sha256").update(text).digest("hex");
    assertEquals(
      sums,
      `${sha("package")}  mtproto2json-0.1.0.tgz\n${
        sha("binary one")
      }  mtproto2json-x86_64-unknown-linux-gnu\n`,
    );
    assertStringIncludes(result.stdout, "mtproto2json-0.1.0.tgz");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("publish_npm.sh --dry-run packs the package and shows what would be published", async () => {
  const out = await Deno.makeTempDir();
  try {
    // Any registry request would go to a closed loopback port: the dry run needs none.
    const output = await new Deno.Command("bash", {
      args: ["scripts/publish_npm.sh", "--dry-run", out],
      cwd: root,
      env: {
        npm_config_registry: "http://127.0.0.1:9/",
        npm_config_fetch_retries: "0",
        npm_config_update_notifier: "false",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assertEquals(output.code, 0, text);
    assertStringIncludes(text, "mtproto2json@0.1.0");
    assertStringIncludes(text, "mtproto2json/main.js");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
