import { assertEquals } from "../assert.ts";
import { TlCodec } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { STOPPED_STATUS } from "../../lib/cli/run.ts";
import { listenHostile } from "../support/hostile_dc.ts";
import { until } from "../support/until.ts";

const root = new URL("../../", import.meta.url).pathname;
const codec = new TlCodec(loadSchema());

/**
 * Starts a subcommand with stdin held open, writes `input` to it, and returns it once its stderr
 * (or stdout, `from`) matched `ready`.
 */
async function start(args: string[], ready: RegExp, input = "", from = "stderr") {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}main.ts`, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  if (input) await writer.write(new TextEncoder().encode(input));
  writer.releaseLock();
  const stream = from === "stdout" ? child.stdout : child.stderr;
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!ready.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return child;
}

Deno.test("pipe, tl, signin and serve end on SIGTERM, even with a request hanging on a silent DC", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {} });
  const silent = listenHostile("silent", codec, emulator.rsaKey);
  const target = JSON.stringify({
    server: {
      host: "127.0.0.1",
      port: silent.port,
      dc: 1,
      rsa: emulator.publicKeyPem,
      transport: "intermediate",
    },
  });
  try {
    const cases: [string[], RegExp, number][] = [
      // pipe logs the request it read (--verbose): by then it is running and the call hangs.
      [["pipe", "--verbose", "--server", target], /in {2}\{/, STOPPED_STATUS],
      // tl decodes a first line (boolTrue) and waits for more.
      [["tl", "decode"], /boolTrue/, STOPPED_STATUS],
      [
        ["signin", "--api-id", "1", "--api-hash", "h", "--server", target],
        /[Pp]hone/,
        STOPPED_STATUS,
      ],
      [["serve", "--port", "0", "--server", target], /listening on/, 0],
    ];
    // A call that can only hang: the DC never answers and the timeout is long.
    const hanging = '{"id": 1, "options": {"timeout": 600, "connect_timeout": 600}, ' +
      '"message": {"_cons": "help.getConfig"}}\n';
    for (const [args, ready, expected] of cases) {
      const dialed = silent.accepted();
      const child = args[0] === "tl"
        ? await start(args, ready, "b5757299\n", "stdout")
        : await start(args, ready, args[0] === "pipe" ? hanging : "");
      const writer = child.stdin.getWriter();
      // The signal handlers are set before a command prints anything, so the ready line is all a
      // stop needs; pipe's call must be hanging too: its connection is open at the silent DC.
      if (args[0] === "pipe") {
        await until(() => silent.accepted() > dialed, 15_000, "pipe's connection to the DC");
      }
      const stopped = performance.now();
      child.kill("SIGTERM");
      const status = await child.status;
      assertEquals(
        { command: args[0], code: status.code, quick: performance.now() - stopped < 3000 },
        { command: args[0], code: expected, quick: true },
      );
      await writer.close().catch(() => {});
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
    }
  } finally {
    await silent.close();
    await emulator.close();
  }
});
