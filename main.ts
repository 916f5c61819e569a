/**
 * The mtproto2json executable: hands the command line to the CLI and exits with its status.
 *
 * @module
 */

import { runCli } from "./lib/cli/run.ts";

if (import.meta.main) {
  const encoder = new TextEncoder();
  const write = (stream: { write(p: Uint8Array): Promise<number> }) => async (text: string) => {
    const bytes = encoder.encode(text);
    for (let written = 0; written < bytes.length;) {
      written += await stream.write(bytes.subarray(written));
    }
  };
  const status = await runCli(Deno.args, {
    stdin: Deno.stdin.readable,
    stdout: write(Deno.stdout),
    stderr: write(Deno.stderr),
    readTextFile: (path) => Deno.readTextFile(path),
    writeSecretFile: (path, text) => Deno.writeTextFile(path, text, { mode: 0o600 }),
    env: (name) => Deno.env.get(name),
    stopped: new Promise<void>((resolve) => {
      Deno.addSignalListener("SIGINT", () => resolve());
      Deno.addSignalListener("SIGTERM", () => resolve());
    }),
  });
  Deno.exit(status);
}
