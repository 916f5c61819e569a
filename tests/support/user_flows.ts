/**
 * What a user does with the executable, for the end-to-end tests of the ways to reach Telegram
 * (proxies, transports): run `signin` as a process, have Bob write to Alice and see it arrive as
 * her managed update, download one of the world's generated files and check every byte.
 *
 * @module
 */

import { generatedFileSha256 } from "../../lib/emulator/files/generated_bytes.ts";
import { answerOf, fileMessage, hex, type LineClient, sha256Of } from "./files.ts";

type Line = Record<string, unknown>;
const root = new URL("../../", import.meta.url).pathname;

/** Throws `message` unless `holds` (tests/support/ imports nothing else from tests/). */
function check(holds: boolean, message: string): void {
  if (!holds) throw new Error(message);
}

/** What a finished process printed, and how it ended. */
export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `mtproto2json signin --api-id 12345 --api-hash h ARGS` with no terminal; waits for it. */
export async function runSignin(args: string[]): Promise<Finished> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${root}main.ts`,
      "signin",
      "--api-id",
      "12345",
      "--api-hash",
      "h",
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/**
 * Bob (on `bob`) writes `text` to Alice (user 1000001); it must reach `alice` as a managed update
 * (id 0, with a cursor).
 */
export async function bobWritesToAlice(alice: LineClient, bob: LineClient, text: string) {
  const resolved = await bob.request({
    id: 9200,
    message: { _cons: "contacts.resolveUsername", username: "alice" },
  });
  const user = ((resolved.message as Line).users as Line[] | undefined)
    ?.find((candidate) => String(candidate.id) === "1000001");
  if (!user) throw new Error(`Alice not resolved: ${JSON.stringify(resolved).slice(0, 300)}`);
  const sent = await bob.request({
    id: 9201,
    message: {
      _cons: "messages.sendMessage",
      peer: { _cons: "inputPeerUser", user_id: 1000001, access_hash: user.access_hash },
      message: text,
      random_id: String(Math.floor(Math.random() * 2 ** 48)),
    },
  });
  check(
    (sent.message as Line)?._cons === "updateShortSentMessage",
    `Bob's message was not sent: ${JSON.stringify(sent).slice(0, 300)}`,
  );
  const pushed = await alice.next(
    (line) => line.id === 0 && JSON.stringify(line.message ?? "").includes(text),
    30_000,
  );
  check(
    typeof pushed.cursor === "string",
    `the update carries no cursor: ${JSON.stringify(pushed).slice(0, 300)}`,
  );
}

/**
 * Downloads the world's file `fileId` (`size` bytes, in Alice's history with Bob as
 * `file <fileId>`) to `to` in `dir` with request `id`; checks the answer's and the file's SHA-256.
 */
export async function downloadChecked(
  client: LineClient,
  file: { id: string; size: number },
  dir: string,
  to: string,
  id: number,
) {
  const { media } = await fileMessage(client, file.id);
  await client.send({ id, download: { media, to } });
  const done = await answerOf(client, id, 180_000);
  const expected = hex(generatedFileSha256(BigInt(file.id), file.size));
  check(
    (done.download as Line)?.sha256 === expected,
    `the download did not answer SHA-256 ${expected}: ${JSON.stringify(done).slice(0, 400)}`,
  );
  const written = await sha256Of(`${dir}/${to}`);
  check(written === expected, `${to} on disk has SHA-256 ${written}, not ${expected}`);
}
