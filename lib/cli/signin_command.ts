/**
 * `mtproto2json signin`: signs in in-process and prints one line that is itself a valid request,
 * `{"id": 1, "session": {...}}`, to paste into `serve` or `pipe`.
 *
 * @module
 */

import type { Clock } from "../io/clock.ts";
import { Client } from "../client/client.ts";
import { SigninError, signInFlow, type SigninPrompter } from "../client/signin_flow.ts";
import { sessionToJson } from "../client/session_json.ts";
import { InterruptedError, lineReader, type PromptReader } from "./prompt_reader.ts";
import { STOPPED_STATUS } from "./exit_status.ts";
import { appIdentity, serverFlag, withPfs, withProxy } from "./server_flags.ts";
import { schemaFromFlags } from "./schema_flags.ts";
import { parseFlags } from "./flags.ts";

/** Help text of `mtproto2json signin`. */
export const SIGNIN_HELP = `Usage: mtproto2json signin [options]

Signs in to Telegram (phone → code → 2FA password) and prints one line, {"id": 1, "session":
{...}}, that resumes the account when pasted into serve or pipe. Prompts (on stderr) only for what
the flags and environment do not give; the password is not echoed.

This line is your authorization: anyone who has it can act as the account. Keep it secret.

Options:
  --phone NUMBER       phone number, e.g. +15550000001 (env MTPROTO2JSON_PHONE)
  --code CODE          the login code, if known in advance (env MTPROTO2JSON_CODE)
  --password PASSWORD  the 2FA password (env MTPROTO2JSON_PASSWORD)
  --first-name NAME    for a new account
  --last-name NAME     for a new account
  --api-id N           api_id from my.telegram.org (env MTPROTO2JSON_API_ID)
  --api-hash H         api_hash (env MTPROTO2JSON_API_HASH)
  --server LINE        the server to sign in on: a {"server": {...}} line such as the emulator
                       prints (env MTPROTO2JSON_SERVER; default: Telegram)
  --proxy URL          sign in through a proxy: socks5://[user:pass@]host:port,
                       http://[user:pass@]host:port, or an MTProxy link (tg://proxy?...,
                       https://t.me/proxy?..., mtproxy://H:P?secret=S) (env
                       MTPROTO2JSON_PROXY); the printed line does not carry it: give serve or
                       pipe their own --proxy
  --pfs                sign in over a temporary key bound to the new permanent key
  --out FILE           also write the line to FILE, readable by you only (mode 0600)
  --scheme FILE        load this .tl file instead of the shipped API schema (repeatable)
  -h, --help           show this help
`;

/** I/O of the signin command. */
export interface SigninCommandIo {
  stdin: ReadableStream<Uint8Array>;
  stdout: (text: string) => Promise<void>;
  stderr: (text: string) => Promise<void>;
  readTextFile: (path: string) => Promise<string>;
  writeSecretFile: (path: string, text: string) => Promise<void>;
  env: (name: string) => string | undefined;
  /** Time and timers. */
  clock: Clock;
  /** Reads answers at a terminal (the password without echo); lines of stdin otherwise. */
  prompts?: PromptReader;
}

/** Runs `signin`; returns the exit status. */
export async function runSigninCommand(
  args: string[],
  io: SigninCommandIo,
  version: string,
): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      phone: { type: "string" },
      code: { type: "string" },
      password: { type: "string" },
      "first-name": { type: "string" },
      "last-name": { type: "string" },
      "api-id": { type: "string" },
      "api-hash": { type: "string" },
      server: { type: "string" },
      pfs: { type: "boolean", default: false },
      proxy: { type: "string" },
      out: { type: "string" },
      scheme: { type: "string", multiple: true },
      help: { type: "boolean", short: "h", default: false },
    },
    false,
    io.env,
  );
  if (values.help) {
    await io.stdout(SIGNIN_HELP);
    return 0;
  }
  const schema = await schemaFromFlags(values.scheme ?? [], io.readTextFile);
  const server = withProxy(
    withPfs(serverFlag(values.server ?? io.env("MTPROTO2JSON_SERVER")), values.pfs === true),
    values.proxy,
  );
  const app = appIdentity(
    values["api-id"] ?? io.env("MTPROTO2JSON_API_ID"),
    values["api-hash"] ?? io.env("MTPROTO2JSON_API_HASH"),
    version,
  );
  const client = new Client({
    clock: io.clock,
    schema,
    ...(server ? { server } : {}),
    app,
    log: (line) => void io.stderr(line + "\n"),
  });
  // One reader for every answer: two would compete for what is typed.
  const prompts = io.prompts ?? lineReader(io.stdin);
  const prompter: SigninPrompter = {
    async ask(question, options) {
      const hidden = options?.hidden === true && io.prompts !== undefined;
      const answer = await prompts.readLine(hidden, () => io.stderr(question));
      if (hidden) await io.stderr("\n");
      if (answer === null) throw new SigninError(`no answer to "${question.trim()}" on stdin`);
      return answer;
    },
    tell(line) {
      void io.stderr(line + "\n");
    },
  };
  try {
    await signInFlow(client, {
      ...optional("phone", values.phone ?? io.env("MTPROTO2JSON_PHONE")),
      ...optional("code", values.code ?? io.env("MTPROTO2JSON_CODE")),
      ...optional("password", values.password ?? io.env("MTPROTO2JSON_PASSWORD")),
      ...optional("firstName", values["first-name"]),
      ...optional("lastName", values["last-name"]),
    }, prompter);
  } catch (error) {
    // Whatever went wrong — a wrong answer, Ctrl-C, a server that is not there or not Telegram —
    // is one line, never a stack trace.
    client.closeConnections();
    if (error instanceof InterruptedError) {
      await io.stderr(`\nmtproto2json signin: interrupted\n`);
      return STOPPED_STATUS;
    }
    const name = error instanceof Error && error.name !== "SigninError" ? `${error.name}: ` : "";
    await io.stderr(`mtproto2json signin: ${name}${(error as Error).message ?? error}\n`);
    return 1;
  }
  const session = client.currentSession();
  if (app.apiId !== undefined) session.apiId = app.apiId;
  const line = JSON.stringify({ id: 1, session: sessionToJson(session, client.server) }) + "\n";
  client.closeConnections();
  // Signed in: the session line is written whatever happens to the file.
  await io.stdout(line);
  if (values.out) {
    try {
      await io.writeSecretFile(values.out, line);
    } catch (error) {
      await io.stderr(
        `mtproto2json signin: signed in, but ${values.out} could not be written: ` +
          `${(error as Error).message}; the session line is on stdout\n`,
      );
      return 1;
    }
    await io.stderr(`Session written to ${values.out} (mode 0600). Keep it secret.\n`);
  }
  return 0;
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
