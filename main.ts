/**
 * The mtproto2json executable: hands the command line to the CLI and exits with its status.
 *
 * @module
 */

import "./lib/cli/require_deno.ts";
import { runCli } from "./lib/cli/run.ts";
import { terminalReader } from "./lib/cli/prompt_reader.ts";
import { systemClock } from "./lib/io/clock.ts";

if (import.meta.main) {
  const encoder = new TextEncoder();
  // Writes go out in order, and the process waits for the last one before it exits: a message
  // explaining an exit must never be lost.
  let pending: Promise<void> = Promise.resolve();
  const write = (stream: { write(p: Uint8Array): Promise<number> }) => (text: string) => {
    const bytes = encoder.encode(text);
    pending = pending.then(async () => {
      for (let written = 0; written < bytes.length;) {
        written += await stream.write(bytes.subarray(written));
      }
    }).catch(() => {});
    return pending;
  };
  const status = await runCli(Deno.args, {
    // Read only by the commands that use stdin: making the stream loads code `serve` never needs.
    get stdin() {
      return Deno.stdin.readable;
    },
    stdout: write(Deno.stdout),
    stderr: write(Deno.stderr),
    readTextFile: (path) => Deno.readTextFile(path),
    writeSecretFile: (path, text) => Deno.writeTextFile(path, text, { mode: 0o600 }),
    env: readEnvironment,
    clock: systemClock,
    ...(Deno.stdin.isTerminal() ? { prompts: terminalReader(Deno.stdin) } : {}),
    stopped: new Promise<void>((resolve) => {
      Deno.addSignalListener("SIGINT", () => resolve());
      Deno.addSignalListener("SIGTERM", () => resolve());
    }),
  });
  await pending;
  // Stopped in the middle of a hidden prompt, the terminal must not stay in raw mode.
  if (Deno.stdin.isTerminal()) Deno.stdin.setRaw(false);
  Deno.exit(status);
}

/** An environment variable; none when run without permission to read the environment. */
function readEnvironment(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      return undefined;
    }
    throw error;
  }
}
