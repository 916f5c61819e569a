/**
 * Subcommand dispatch, `--help` and `--version` for the one executable.
 *
 * @module
 */

import type { Clock } from "../io/clock.ts";
import denoConfig from "../../deno.json" with { type: "json" };
import { UsageError } from "./usage_error.ts";
import { closest } from "./flags.ts";
import type { PromptReader } from "./prompt_reader.ts";
import { STOPPED_STATUS } from "./exit_status.ts";

export { STOPPED_STATUS };

const SUBCOMMANDS = ["serve", "pipe", "signin", "emulator", "tl", "health"];

/** The release version, from `deno.json`. */
export const VERSION: string = denoConfig.version;

// Subcommands appear here only once they work.
const HELP = `mtproto2json ${VERSION} — Telegram's MTProto 2.0 as newline-delimited JSON

Usage: mtproto2json <subcommand> [options]

Subcommands:
  serve     TCP server speaking newline-delimited JSON, each client with its own Telegram session
  pipe      the same JSON protocol for one client on stdin/stdout
  signin    sign in (phone, code, 2FA password) and print a session line to resume the account
  emulator  a local test double of Telegram's DCs on 127.0.0.1 (real MTProto, in-memory world)
  tl        encode JSON to TL, decode TL to JSON, describe schema entries
  health    ask a running serve how it is (for HEALTHCHECK and supervisors); exit 0 when well

Options:
  -h, --help       show this help (or a subcommand's: mtproto2json tl --help)
  -V, --version    print the version and the TL layer

Exit status: 0 done (serve and emulator also when stopped by SIGINT or SIGTERM); 1 failed (a
sign-in, a bad line for tl, an unhealthy serve); 2 usage error or a refused start (a busy port, a
non-loopback address without a token); 130 pipe, signin or tl stopped by SIGINT or SIGTERM.
`;

/** Where the CLI writes; replaced in tests. */
export interface CliIo {
  stdin: ReadableStream<Uint8Array>;
  stdout: (text: string) => void | Promise<void>;
  stderr: (text: string) => void | Promise<void>;
  readTextFile: (path: string) => Promise<string>;
  /** Writes a file readable by its owner only (mode 0600): keys and sessions. */
  writeSecretFile: (path: string, text: string) => Promise<void>;
  /** Resolves when the user asks a long-running subcommand to stop. */
  stopped: Promise<void>;
  /** Reads an environment variable. */
  env: (name: string) => string | undefined;
  /** The one clock: every deadline, timer and timestamp below runs on it. */
  clock: Clock;
  /** Reads prompted answers when stdin is a terminal (hidden ones without echo). */
  prompts?: PromptReader;
}

/**
 * Runs the command line `args` and returns the process exit status. Each subcommand's modules are
 * loaded only when it runs: `serve` need not load the emulator, nor `--version` the client, and
 * loading the whole graph was most of what a process did before `serve` could accept.
 */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const [subcommand, ...rest] = args;
  try {
    switch (subcommand) {
      case undefined:
        // Asked for nothing: the help is an error message here, so it goes to stderr.
        await io.stderr(HELP);
        return 2;
      case "-h":
      case "--help":
      case "help":
        await io.stdout(HELP);
        return 0;
      case "-V":
      case "--version":
      case "version": {
        const { DEFAULT_LAYER } = await import("../tl/default_schema.ts");
        await io.stdout(`mtproto2json ${VERSION} (TL layer ${DEFAULT_LAYER})\n`);
        return 0;
      }
      case "serve":
      case "pipe": {
        const proxyIo = {
          get stdin() {
            return io.stdin; // serve never reads it: see main.ts
          },
          stdout: async (text: string) => await io.stdout(text),
          log: (line: string) => void io.stderr(line + "\n"),
          readTextFile: io.readTextFile,
          env: io.env,
          stopped: io.stopped,
          clock: io.clock,
        };
        const { runPipeCommand, runServeCommand } = await import("./proxy_command.ts");
        return subcommand === "serve"
          ? await runServeCommand(rest, proxyIo, VERSION)
          : await untilStopped(runPipeCommand(rest, proxyIo, VERSION), io.stopped, "pipe", io);
      }
      case "signin": {
        const { runSigninCommand } = await import("./signin_command.ts");
        return await untilStopped(
          runSigninCommand(rest, {
            stdin: io.stdin,
            stdout: async (text) => await io.stdout(text),
            stderr: async (text) => await io.stderr(text),
            readTextFile: io.readTextFile,
            writeSecretFile: io.writeSecretFile,
            env: io.env,
            clock: io.clock,
            ...(io.prompts ? { prompts: io.prompts } : {}),
          }, VERSION),
          io.stopped,
          "signin",
          io,
        );
      }
      case "emulator": {
        const { runEmulatorCommand } = await import("./emulator_command.ts");
        return await runEmulatorCommand(rest, {
          write: io.stdout,
          log: (line) => void io.stderr(line + "\n"),
          readTextFile: io.readTextFile,
          writeSecretFile: io.writeSecretFile,
          stopped: io.stopped,
          env: io.env,
          clock: io.clock,
        });
      }
      case "health": {
        const { runHealthCommand } = await import("./health_command.ts");
        return await runHealthCommand(rest, {
          stdout: io.stdout,
          stderr: io.stderr,
          readTextFile: io.readTextFile,
          env: io.env,
          clock: io.clock,
        });
      }
      case "tl": {
        const { runTlCommand } = await import("./tl_command.ts");
        return await untilStopped(
          runTlCommand(rest, {
            stdin: io.stdin,
            write: io.stdout,
            readTextFile: io.readTextFile,
            env: io.env,
          }),
          io.stopped,
          "tl",
          io,
        );
      }
      default: {
        const guess = closest(subcommand, SUBCOMMANDS);
        throw new UsageError(
          `unknown subcommand "${subcommand}"${guess ? `; did you mean ${guess}?` : ""}`,
        );
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      await io.stderr(`mtproto2json: ${(error as Error).message}\n`);
      const known = SUBCOMMANDS.includes(subcommand!);
      await io.stderr(`Run "mtproto2json ${known ? subcommand + " " : ""}--help" for usage.\n`);
      return 2;
    }
    if (error instanceof Error && error.name === "SchemaParseError") {
      await io.stderr(`mtproto2json: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

/**
 * Runs a command that has no graceful stop of its own until it ends or the user stops it. The
 * signal handlers that let `serve` close cleanly replace the default of ending the process, so
 * every other command must end on them here.
 */
async function untilStopped(
  command: Promise<number>,
  stopped: Promise<void>,
  name: string,
  io: CliIo,
): Promise<number> {
  return await Promise.race([
    command,
    stopped.then(async () => {
      await io.stderr(`\nmtproto2json ${name}: interrupted\n`);
      return STOPPED_STATUS;
    }),
  ]);
}
