/**
 * Subcommand dispatch, `--help` and `--version` for the one executable.
 *
 * @module
 */

import denoConfig from "../../deno.json" with { type: "json" };
import { DEFAULT_LAYER } from "../tl/default_schema.ts";
import { runTlCommand, TL_HELP } from "./tl_command.ts";
import { UsageError } from "./usage_error.ts";

/** The release version, from `deno.json`. */
export const VERSION: string = denoConfig.version;

// Subcommands appear here only once they work; serve, pipe, signin and emulator come with the
// MTProto session core.
const HELP = `mtproto2json ${VERSION} — Telegram's MTProto 2.0 as newline-delimited JSON

Usage: mtproto2json <subcommand> [options]

Subcommands:
  tl        encode JSON to TL, decode TL to JSON, describe schema entries

Options:
  -h, --help       show this help (or a subcommand's: mtproto2json tl --help)
  -V, --version    print the version and the TL layer
`;

/** Where the CLI writes; replaced in tests. */
export interface CliIo {
  stdin: ReadableStream<Uint8Array>;
  stdout: (text: string) => void | Promise<void>;
  stderr: (text: string) => void | Promise<void>;
  readTextFile: (path: string) => Promise<string>;
}

/** Runs the command line `args` and returns the process exit status. */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const [subcommand, ...rest] = args;
  try {
    switch (subcommand) {
      case undefined:
      case "-h":
      case "--help":
      case "help":
        await io.stdout(HELP);
        return subcommand === undefined ? 2 : 0;
      case "-V":
      case "--version":
      case "version":
        await io.stdout(`mtproto2json ${VERSION} (TL layer ${DEFAULT_LAYER})\n`);
        return 0;
      case "tl":
        return await runTlCommand(rest, {
          stdin: io.stdin,
          write: io.stdout,
          readTextFile: io.readTextFile,
        });
      default:
        throw new UsageError(`unknown subcommand "${subcommand}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      await io.stderr(`mtproto2json: ${(error as Error).message}\n`);
      await io.stderr(`Run "mtproto2json ${subcommand === "tl" ? "tl " : ""}--help" for usage.\n`);
      return 2;
    }
    if (error instanceof Error && error.name === "SchemaParseError") {
      await io.stderr(`mtproto2json: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function isParseArgsError(error: unknown): boolean {
  return error instanceof TypeError &&
    String((error as { code?: string }).code ?? "").startsWith("ERR_PARSE_ARGS");
}

export { TL_HELP };
