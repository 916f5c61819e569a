/**
 * The smoke test of a built mtproto2json — a compiled executable, the npm package's command, or
 * `deno run -A main.ts` — as a user would first run it: `--version`, `tl describe`, `tl encode`,
 * then the emulator quick start (emulator, serve, signin, one call through serve), all on
 * 127.0.0.1 from an empty directory. The release workflow runs it on every binary the runner can
 * execute; the tests run it on the source and on the installed npm package.
 *
 * ```sh
 * deno run -A scripts/smoke_test.ts dist/mtproto2json-x86_64-unknown-linux-gnu
 * deno run -A scripts/smoke_test.ts deno run -A "$PWD/main.ts"   # paths absolute: it runs elsewhere
 * ```
 *
 * @module
 */

/** Reads lines of `stream` until one matches `pattern`; the rest of the stream is drained. */
async function waitForLine(stream: ReadableStream<Uint8Array>, pattern: RegExp, what: string) {
  const decoder = new TextDecoder();
  let text = "";
  const reader = stream.getReader();
  const deadline = setTimeout(() => reader.cancel(), 30_000);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${what}: ended without printing ${pattern}`);
      text += decoder.decode(value, { stream: true });
      const match = pattern.exec(text);
      if (match) {
        // Keep reading in the background: a full pipe would block the program.
        (async () => {
          while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
        })();
        return match;
      }
    }
  } finally {
    clearTimeout(deadline);
  }
}

/** One JSON request over TCP; resolves with the response that has `id`. */
async function request(port: number, lines: string, id: number): Promise<Record<string, unknown>> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await connection.write(new TextEncoder().encode(lines));
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of connection.readable) {
      text += decoder.decode(chunk, { stream: true });
      for (const line of text.split("\n").slice(0, -1)) {
        const value = JSON.parse(line);
        if (value.id === id) return value;
      }
    }
    throw new Error("serve closed the connection without answering");
  } finally {
    try {
      connection.close();
    } catch { /* closed */ }
  }
}

/**
 * Runs the smoke test on `command` (the executable and any leading arguments); throws on the
 * first failure, naming it. `log` receives one line per step passed.
 */
export async function smokeTest(
  command: string[],
  log: (line: string) => void = () => {},
): Promise<void> {
  const cwd = await Deno.makeTempDir();
  const children: Deno.ChildProcess[] = [];
  const [program, ...leading] = command;
  const spawn = (args: string[], read: "stdout" | "stderr") => {
    const child = new Deno.Command(program, {
      args: [...leading, ...args],
      cwd,
      stdin: "null",
      stdout: read === "stdout" ? "piped" : "null",
      stderr: read === "stderr" ? "piped" : "null",
    }).spawn();
    children.push(child);
    return child;
  };
  const run = async (args: string[], input = "") => {
    const child = new Deno.Command(program, {
      args: [...leading, ...args],
      cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
    const output = await child.output();
    const result = {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
    };
    if (result.code !== 0) {
      throw new Error(`${args.join(" ")}: status ${result.code}: ${result.stderr.trim()}`);
    }
    return result.stdout;
  };
  try {
    const version = await run(["--version"]);
    if (!/^mtproto2json \d+\.\d+\.\d+ \(TL layer \d+\)/.test(version)) {
      throw new Error(`--version printed ${JSON.stringify(version)}`);
    }
    log(`✓ --version: ${version.trim()}`);
    const described = JSON.parse(await run(["tl", "describe", "inputPeerUser"]));
    if (described.id !== "0xdde8a54c") throw new Error(`tl describe: ${JSON.stringify(described)}`);
    log("✓ tl describe inputPeerUser");
    const encoded = await run(
      ["tl", "encode"],
      '{"_cons":"inputPeerUser","user_id":1,"access_hash":2}\n',
    );
    if (encoded.trim() !== "4ca5e8dd01000000000000000200000000000000") {
      throw new Error(`tl encode printed ${encoded.trim()}`);
    }
    log("✓ tl encode");

    const emulator = spawn(["emulator", "--port", "0"], "stdout");
    const server = (await waitForLine(emulator.stdout, /^.*\n/, "emulator"))[0].trim();
    log("✓ emulator: server line printed");
    const serve = spawn(
      ["serve", "--port", "0", "--server", server, "--api-id", "1", "--api-hash", "x"],
      "stderr",
    );
    const port = Number((await waitForLine(serve.stderr, /listening on [\d.]+:(\d+)/, "serve"))[1]);
    log(`✓ serve: listening on 127.0.0.1:${port}`);
    const session = await run([
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
    log("✓ signin: session line printed");
    const me = await request(
      port,
      session.trim() + "\n" +
        '{"id": 2, "message": {"_cons": "users.getUsers", "id": [{"_cons": "inputUserSelf"}]}}\n',
      2,
    );
    const name = (me.message as { first_name?: string }[] | undefined)?.[0]?.first_name;
    if (name !== "Alice") throw new Error(`users.getUsers through serve: ${JSON.stringify(me)}`);
    log("✓ a call through serve: users.getUsers answered for Alice");
  } finally {
    for (const child of children) {
      try {
        child.kill("SIGTERM");
      } catch { /* ended */ }
      await child.status;
    }
    await Deno.remove(cwd, { recursive: true });
  }
}

if (import.meta.main) {
  if (Deno.args.length === 0) {
    console.error("usage: deno run -A scripts/smoke_test.ts <executable> [leading args...]");
    Deno.exit(2);
  }
  try {
    await smokeTest(Deno.args, console.log);
    console.log("smoke test passed");
  } catch (error) {
    console.error(`✗ ${(error as Error).message}`);
    Deno.exit(1);
  }
}
