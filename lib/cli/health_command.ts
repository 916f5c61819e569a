/**
 * `mtproto2json health`: asks a running `serve` how it is, with a `{"health": {}}` request of the
 * JSON protocol, prints the answer and exits 0 when it is well. It is what a container's
 * HEALTHCHECK or a supervisor runs.
 *
 * @module
 */

import type { Clock, TimerId } from "../io/clock.ts";
import { parseFlags } from "./flags.ts";
import { UsageError } from "./usage_error.ts";

/** Help text of `mtproto2json health`. */
export const HEALTH_HELP = `Usage: mtproto2json health [options]

Sends {"health": {}} to a running serve and prints the answer: status, uptime, connections and
held accounts. Exits 0 when serve answers "ok" within the timeout, 1 otherwise.

Options:
  --host HOST          serve's address (default 127.0.0.1; env MTPROTO2JSON_HOST)
  --port PORT          serve's port (default 1543; env MTPROTO2JSON_PORT)
  --token-file FILE    present the token in FILE first (or env MTPROTO2JSON_TOKEN)
  --timeout S          give up after S seconds (default 5; env MTPROTO2JSON_TIMEOUT)
  -h, --help           show this help
`;

/** I/O of the health command. */
export interface HealthCommandIo {
  stdout: (text: string) => void | Promise<void>;
  stderr: (text: string) => void | Promise<void>;
  readTextFile: (path: string) => Promise<string>;
  env: (name: string) => string | undefined;
  /** Time and timers. */
  clock: Clock;
}

/** Runs `health`; returns the exit status. */
export async function runHealthCommand(args: string[], io: HealthCommandIo): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "1543" },
      "token-file": { type: "string" },
      timeout: { type: "string", default: "5" },
      help: { type: "boolean", short: "h", default: false },
    },
    false,
    io.env,
  );
  if (values.help) {
    await io.stdout(HEALTH_HELP);
    return 0;
  }
  const port = Number(values.port);
  const seconds = Number(values.timeout);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--port needs a port number, got "${values.port}"`);
  }
  if (!(seconds > 0)) throw new UsageError(`--timeout needs a number of seconds`);
  const token = values["token-file"] !== undefined
    ? (await io.readTextFile(values["token-file"])).split("\n")[0].trim()
    : io.env("MTPROTO2JSON_TOKEN");
  let timer: TimerId;
  const late = new Promise<never>((_, reject) => {
    timer = io.clock.setTimeout(
      () => reject(new Error(`no answer within ${seconds} s`)),
      seconds * 1000,
    );
  });
  let connection: Deno.TcpConn | undefined;
  try {
    const answer = await Promise.race([
      late,
      (async () => {
        connection = await Deno.connect({ hostname: values.host!, port });
        const lines = (token ? JSON.stringify({ token }) + "\n" : "") + '{"id": 1, "health": {}}\n';
        await connection.write(new TextEncoder().encode(lines));
        let text = "";
        const decoder = new TextDecoder();
        for await (const chunk of connection.readable) {
          text += decoder.decode(chunk, { stream: true });
          for (const line of text.split("\n").slice(0, -1)) {
            const value = JSON.parse(line);
            if (value.id === 1 || value.id === -1) return value;
          }
        }
        throw new Error("serve closed the connection without answering");
      })(),
    ]);
    await io.stdout(JSON.stringify(answer.health ?? answer) + "\n");
    return answer.health?.status === "ok" ? 0 : 1;
  } catch (error) {
    await io.stderr(
      `mtproto2json health: ${values.host}:${port}: ${(error as Error).message}\n`,
    );
    return 1;
  } finally {
    io.clock.clearTimeout(timer);
    try {
      connection?.close();
    } catch { /* closed by serve */ }
  }
}
