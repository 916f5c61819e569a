import { assertEquals, assertStringIncludes } from "../assert.ts";
import { systemClock } from "../../lib/io/clock.ts";
import { runCli } from "../../lib/cli/run.ts";
import { parseFlags } from "../../lib/cli/flags.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { appIdentity } from "../../lib/cli/server_flags.ts";
import { readLines } from "../../lib/io/lines.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { JsonClient } from "../support/json_client.ts";
import { within } from "../support/until.ts";

async function run(args: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const status = await runCli(args, {
    stdin: ReadableStream.from([]),
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    readTextFile: (path) => Deno.readTextFile(path),
    writeSecretFile: () => Promise.reject(new Error("no writes in this test")),
    stopped: Promise.resolve(),
    env: (name) => env[name],
    clock: systemClock,
  });
  return { status, stdout, stderr };
}

Deno.test("usage errors go to stderr with a guess: unknown flags and subcommands, no arguments", async () => {
  const flag = await run(["serve", "--prot", "1"]);
  assertEquals(flag.status, 2);
  assertStringIncludes(flag.stderr, "unknown flag --prot; did you mean --port?");
  const subcommand = await run(["serv"]);
  assertEquals(subcommand.status, 2);
  assertStringIncludes(subcommand.stderr, 'unknown subcommand "serv"; did you mean serve?');
  const nothing = await run([]);
  assertEquals([nothing.status, nothing.stdout], [2, ""]);
  assertStringIncludes(nothing.stderr, "Usage: mtproto2json <subcommand>");
});

Deno.test("a negative number is a flag's value, and a flag left out comes from its environment variable", () => {
  const options = {
    "clock-skew": { type: "string" },
    timeout: { type: "string" },
    verbose: { type: "boolean", default: false },
  } as const;
  const parsed = parseFlags(
    ["--clock-skew", "-3600"],
    options,
    false,
    (name) =>
      ({ MTPROTO2JSON_TIMEOUT: "30", MTPROTO2JSON_VERBOSE: "1", MTPROTO2JSON_CLOCK_SKEW: "5" })[
        name
      ],
  );
  assertEquals({ ...parsed.values }, { "clock-skew": "-3600", timeout: "30", verbose: true });
});

Deno.test("serve refuses a name that only looks like loopback, and names a busy address", async () => {
  const evil = await run(["serve", "--host", "127.evil.example", "--port", "0"]);
  assertEquals(evil.status, 2);
  assertStringIncludes(evil.stderr, "refusing to listen on 127.evil.example without --token");
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const busy = await run(["serve", "--port", String(port)]);
    assertEquals(busy.status, 2);
    assertStringIncludes(
      busy.stderr,
      `cannot listen on 127.0.0.1:${port}: the address is already in use`,
    );
  } finally {
    taken.close();
  }
});

Deno.test("serve parses a --scheme file before it listens: a bad one fails the start", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.tl`, "inputPeerEmpty#7f3b18ea = InputPeer;\nnonsense\n");
    // The port is free, so only the file can fail the start; nothing listens afterwards.
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const bad = await run(["serve", "--port", String(port), "--scheme", `${dir}/bad.tl`]);
    assertEquals(bad.status, 1);
    assertStringIncludes(bad.stderr, `${dir}/bad.tl`);
    assertEquals(bad.stderr.includes("listening"), false, bad.stderr);
    const missing = await run(["serve", "--port", String(port), "--scheme", `${dir}/none.tl`]);
    assertEquals(missing.status, 2);
    assertStringIncludes(missing.stderr, `--scheme ${dir}/none.tl`);
    assertEquals(missing.stderr.includes("listening"), false, missing.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve: the token line has a deadline, and connections past the limit are told so", async () => {
  // The token deadline runs on a fake clock: it passes when the test moves time.
  const clock = new FakeClock();
  const server = serve(
    {
      schema: loadSchema(),
      app: appIdentity(undefined, undefined, "test"),
      log: () => {},
      clock,
    },
    {
      host: "127.0.0.1",
      port: 0,
      maxLine: 1 << 16,
      token: "s3cret",
      tokenDeadlineMs: 200,
      maxConnections: 2,
    },
  );
  const first = async (socket: Deno.TcpConn) => {
    for await (const line of readLines(socket.readable)) {
      if (line.kind === "line") return JSON.parse(line.text);
    }
    return undefined;
  };
  /** Every line until the server closes the connection. */
  const all = async (socket: Deno.TcpConn) => {
    const lines = [];
    for await (const line of readLines(socket.readable)) {
      if (line.kind === "line") lines.push(JSON.parse(line.text));
    }
    return lines;
  };
  const sockets: { close(): void }[] = [];
  try {
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    sockets.push(silent);
    const authorized = await JsonClient.connect(server.port);
    sockets.push(authorized);
    await authorized.sendText('{"token": "s3cret"}\n');
    // Answered: the server has its token.
    assertEquals((await authorized.request({ id: 1, options: {} })).id, 1);
    const third = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    sockets.push(third);
    assertEquals((await first(third))?.error, "TooManyConnections");
    // The silent one's deadline was set when it was accepted (before the third was refused).
    await clock.advance(200);
    // Refused, then closed: the server lets go of a connection before it closes it.
    const refused = await within(all(silent), 15_000, "the silent connection's refusal and close");
    assertEquals(refused.map((line) => [line.error, line.msg]), [[
      "Unauthorized",
      "no token line within the deadline",
    ]]);
    // The one that presented its token is still served past the deadline.
    assertEquals((await authorized.request({ id: 2, options: {} })).id, 2);
    // The silent one is gone, so there is room again.
    const fourth = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    sockets.push(fourth);
    await fourth.write(new TextEncoder().encode('{"token": "s3cret"}\n{"id": 5, "options": {}}\n'));
    assertEquals((await first(fourth))?.id, 5);
  } finally {
    for (const socket of sockets) {
      try {
        socket.close();
      } catch {
        // closed by the server
      }
    }
    await server.close();
  }
});

Deno.test("--log-format json: one object a line, each naming its connection", async () => {
  const lines: string[] = [];
  let stop: () => void = () => {};
  let listening: (port: number) => void = () => {};
  const port = new Promise<number>((resolve) => (listening = resolve));
  const status = runCli(["serve", "--port", "0", "--log-format", "json", "--verbose"], {
    stdin: ReadableStream.from([]),
    stdout: () => {},
    stderr: (text) => {
      lines.push(text.trimEnd());
      const match = /listening on [\d.]+:(\d+)/.exec(text);
      if (match) listening(Number(match[1]));
    },
    readTextFile: () => Promise.reject(new Error("no files")),
    writeSecretFile: () => Promise.reject(new Error("no writes")),
    stopped: new Promise((resolve) => (stop = resolve)),
    env: () => undefined,
    clock: systemClock,
  });
  const socket = await Deno.connect({ hostname: "127.0.0.1", port: await port });
  await socket.write(new TextEncoder().encode('{"id": 7, "options": {}}\n'));
  // Leaving the loop cancels the socket's stream, which closes it.
  for await (const line of readLines(socket.readable)) if (line.kind === "line") break;
  stop();
  assertEquals(await status, 0);
  const logged = lines.map((line) => JSON.parse(line));
  assertEquals(logged[0].level, "info");
  assertStringIncludes(logged[0].msg, "listening on");
  const traffic = logged.filter((line) => line.level === "debug");
  assertEquals(traffic.map((line) => [line.connection, line.msg.slice(0, 3)]), [
    [1, "in "],
    [1, "out"],
  ]);
  assertEquals(typeof logged[0].time, "string");
});

Deno.test("every subcommand's --help names its environment variables, and the emulator reads them", async () => {
  for (const subcommand of ["serve", "pipe", "signin", "emulator", "tl", "health"]) {
    const help = await run([subcommand, "--help"]);
    assertEquals(help.status, 0);
    assertEquals(/MTPROTO2JSON_[A-Z_]+/.test(help.stdout), true, `${subcommand} --help`);
  }
  // A bad value from the environment is reported as the flag's.
  const emulator = await run(["emulator"], { MTPROTO2JSON_EMULATOR_HOME_DC: "zero" });
  assertEquals(emulator.status, 2);
  assertEquals(emulator.stderr.includes("--home-dc"), true, emulator.stderr);
});
