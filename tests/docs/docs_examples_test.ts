import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import type { WorldOptions } from "../../lib/emulator/world.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInAlice } from "../support/processes.ts";
import {
  mismatch,
  type Program,
  programsOf,
  type Transcript,
  transcriptsOf,
} from "./transcripts.ts";

const docs = new URL("../../docs/", import.meta.url).pathname;
const schema = loadSchema();

/**
 * The world and serve a transcript's set-up words ask for: `alice` (signed in), `files` (serve
 * with `--files DIR`, DIR a fresh empty directory), `flood-wait=METHOD:S` (once),
 * `file=ID:SIZE[:DC]` and `photo=ID:SIZE[:DC][:progressive]` (the emulator's `--file` /
 * `--photo`: generated files Bob sends Alice, one message each), `file-latency=MS` (file answers
 * that late), `file-corrupt=OFFSET` (upload.getFile serves that byte of every file flipped).
 */
function setupOf(transcript: Transcript): { world: WorldOptions; files: boolean } {
  const world: WorldOptions = {};
  let files = false;
  for (const word of transcript.setup) {
    const flood = /^flood-wait=([\w.]+):(\d+)$/.exec(word);
    const generated = /^(file|photo)=(\d+):(\d+)(?::(\d+))?(:progressive)?$/.exec(word);
    const latency = /^file-latency=(\d+)$/.exec(word);
    const corrupt = /^file-corrupt=(\d+)$/.exec(word);
    if (flood) world.floodWait = { method: flood[1], seconds: Number(flood[2]), times: 1 };
    else if (generated) {
      (world.files ??= []).push({
        id: generated[2],
        size: Number(generated[3]),
        kind: generated[1] === "photo" ? "photo" : "document",
        ...(generated[4] ? { dc: Number(generated[4]) } : {}),
        ...(generated[5] ? { progressive: true } : {}),
      });
    } else if (latency) world.fileLatencyMs = Number(latency[1]);
    else if (corrupt) world.fileCorruptOffset = Number(corrupt[1]);
    else if (word === "files") files = true;
    else if (word !== "alice") {
      throw new Error(`${transcript.file}:${transcript.line}: unknown set-up word ${word}`);
    }
  }
  return { world, files };
}

/** Runs one transcript against a fresh emulator and serve; throws where it goes astray. */
async function replay(transcript: Transcript): Promise<void> {
  const { world, files } = setupOf(transcript);
  const dir = files ? await Deno.makeTempDir({ prefix: "docs_files_" }) : undefined;
  const emulator = await startEmulator({ port: 0, log: () => {}, world });
  const proxy = serve({
    schema,
    server: serverFlag(JSON.stringify(emulator.serverLine()))!,
    app: appIdentity("12345", "hash", "docs"),
    behaviour: { timeoutSeconds: 5 },
    transport: { kind: "intermediate" },
    ...(dir ? { files: { kind: "inside" as const, dir: await Deno.realPath(dir) } } : {}),
  }, { host: "127.0.0.1", port: 0, maxLine: 1 << 24 });
  const client = await JsonClient.connect(proxy.port);
  const where = (line: number) => `${transcript.file}:${line}`;
  try {
    if (transcript.setup.includes("alice")) {
      await signInAlice(client);
      await client.next((line) => (line.event as { type?: string })?.type === "synced");
      client.updates.length = 0;
    }
    let lastId: unknown;
    for (const step of transcript.steps) {
      if (step.send !== undefined) {
        lastId = step.id;
        await client.sendText(step.send + "\n");
        continue;
      }
      const expected = step.expect as Record<string, unknown>;
      const id = expected.id ?? lastId;
      let actual: Record<string, unknown>;
      try {
        actual = id === 0
          ? await client.next(
            (line) => line.id === 0 && mismatch(expected, line) === undefined,
            5000,
          )
          // Progress lines come as time passes: a transcript shows them only where it says so.
          : await client.next(
            (line) => line.id === id && (line.progress === undefined || "progress" in expected),
            10_000,
          );
      } catch {
        const seen = client.updates.map((line) => JSON.stringify(line)).join("\n  ");
        throw new Error(
          `${where(step.line)}: no line like ${JSON.stringify(expected)}; id 0 lines:\n  ${seen}`,
        );
      }
      const found = mismatch(expected, actual);
      if (found) throw new Error(`${where(step.line)}: ${found}\n  got ${JSON.stringify(actual)}`);
    }
  } finally {
    client.close();
    await proxy.close();
    await emulator.close();
    if (dir) await Deno.remove(dir, { recursive: true });
  }
}

const root = new URL("../../", import.meta.url).pathname;

/** A port nobody listens on now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Runs a document's programs in order as one shell session in an empty directory, with
 * `mtproto2json` on the PATH (this source tree), serve's port in MTPROTO2JSON_PORT (the clients
 * read it too), the emulator on free ports and free ports for the proxies a document starts
 * (SOCKS_PORT, SOCKS_AUTH_PORT, HTTP_PROXY_PORT); checks every `=> text` the programs promise.
 */
async function runPrograms(file: string, all: Program[]): Promise<void> {
  // Go examples need a Go toolchain (Debian's golang-go); without one they are left out here.
  const hasGo = (await new Deno.Command("sh", { args: ["-c", "command -v go"], stdout: "null" })
    .output()).code === 0;
  const programs = all.filter((program) => program.language !== "go" || hasGo);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/bin`);
    await Deno.writeTextFile(
      `${dir}/bin/mtproto2json`,
      `#!/bin/sh\nexec "${Deno.execPath()}" run -A --config "${root}deno.json" "${root}main.ts" "$@"\n`,
      { mode: 0o755 },
    );
    const parts = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"];
    programs.forEach((program, index) => {
      if (program.language === "sh") parts.push(program.code);
      else {
        const [extension, runner] = {
          python: ["py", "python3"],
          js: ["mjs", "node"],
          ts: ["ts", `"${Deno.execPath()}" run -A --no-config`],
          go: ["go", "go run"],
        }[program.language];
        const name = `example${index}.${extension}`;
        parts.push(`cat > ${name} <<'EXAMPLE_END'\n${program.code}EXAMPLE_END`);
        parts.push(`${runner} ${name}`);
      }
    });
    const output = await new Deno.Command("bash", {
      args: ["-c", parts.join("\n")],
      cwd: dir,
      env: {
        PATH: `${dir}/bin:${Deno.env.get("PATH")}`,
        MTPROTO2JSON_PORT: String(freePort()),
        MTPROTO2JSON_EMULATOR_PORT: "0",
        SOCKS_PORT: String(freePort()),
        SOCKS_AUTH_PORT: String(freePort()),
        HTTP_PROXY_PORT: String(freePort()),
        // Deno's update check would look up dl.deno.land: the examples reach only 127.0.0.1.
        DENO_NO_UPDATE_CHECK: "1",
        NO_COLOR: "1",
        // Go builds in the directory, with the standard library only and no network.
        GOCACHE: `${dir}/.gocache`,
        GOPATH: `${dir}/.gopath`,
        GOPROXY: "off",
        GOFLAGS: "-mod=mod",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    const stderr = new TextDecoder().decode(output.stderr);
    if (output.code !== 0) {
      throw new Error(
        `${file}: the examples ended with status ${output.code}\n${stdout}\n${stderr}`,
      );
    }
    for (const program of programs) {
      for (const expected of program.expects) {
        if (!stdout.includes(expected)) {
          throw new Error(
            `${file}:${program.line}: output lacks ${JSON.stringify(expected)}\n${stdout}`,
          );
        }
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// The README's quick start is run too.
const readme = await Deno.readTextFile(`${root}README.md`);
Deno.test("README.md: its quick start runs as shown", () =>
  runPrograms("README.md", programsOf("README.md", readme)));

for await (const entry of Deno.readDir(docs)) {
  if (!entry.name.endsWith(".md")) continue;
  const file = `docs/${entry.name}`;
  const text = await Deno.readTextFile(`${docs}${entry.name}`);
  for (const transcript of transcriptsOf(file, text)) {
    Deno.test(`${file}:${transcript.line} runs as shown`, () => replay(transcript));
  }
  const programs = programsOf(file, text);
  if (programs.length) {
    Deno.test(`${file}: its programs run as shown`, () => runPrograms(file, programs));
  }
}

Deno.test("every example in docs/ is one the tests run: a transcript or a program marked run", async () => {
  for await (const entry of Deno.readDir(docs)) {
    if (!entry.name.endsWith(".md")) continue;
    const lines = (await Deno.readTextFile(`${docs}${entry.name}`)).split("\n");
    let inside = false;
    lines.forEach((line, index) => {
      if (!line.startsWith("```")) return;
      if (!inside && !/^```(jsonl( .*)?|(sh|python|js|ts|go) run|text)$/.test(line)) {
        throw new Error(`docs/${entry.name}:${index + 1}: ${line} is not run by the tests`);
      }
      inside = !inside;
    });
  }
});
