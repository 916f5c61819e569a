/**
 * The mtproto2json executable: hands the command line to the CLI and exits with its status.
 *
 * @module
 */

import { runCli } from "./lib/cli/run.ts";

/** Reads one line from a terminal without echoing it (for passwords). */
async function readHidden(): Promise<string> {
  Deno.stdin.setRaw(true);
  try {
    const buffer = new Uint8Array(1);
    const bytes: number[] = [];
    for (;;) {
      const read = await Deno.stdin.read(buffer);
      if (read === null || buffer[0] === 13 || buffer[0] === 10) {
        return new TextDecoder().decode(new Uint8Array(bytes));
      }
      if (buffer[0] === 3) throw new Error("interrupted");
      // Backspace removes a whole UTF-8 character: its continuation bytes, then its lead byte.
      if (buffer[0] === 127) {
        while (bytes.length && (bytes[bytes.length - 1] & 0xc0) === 0x80) bytes.pop();
        bytes.pop();
      } else bytes.push(buffer[0]);
    }
  } finally {
    Deno.stdin.setRaw(false);
  }
}

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
    stdin: Deno.stdin.readable,
    stdout: write(Deno.stdout),
    stderr: write(Deno.stderr),
    readTextFile: (path) => Deno.readTextFile(path),
    writeSecretFile: (path, text) => Deno.writeTextFile(path, text, { mode: 0o600 }),
    env: (name) => Deno.env.get(name),
    ...(Deno.stdin.isTerminal() ? { readHidden } : {}),
    stopped: new Promise<void>((resolve) => {
      Deno.addSignalListener("SIGINT", () => resolve());
      Deno.addSignalListener("SIGTERM", () => resolve());
    }),
  });
  await pending;
  Deno.exit(status);
}
