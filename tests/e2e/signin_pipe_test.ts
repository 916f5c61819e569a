import { assertEquals, assertStringIncludes } from "../assert.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { systemClock } from "../../lib/io/clock.ts";
import { runCli } from "../../lib/cli/run.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { JsonClient } from "../support/json_client.ts";

const quiet = () => {};
const root = new URL("../../", import.meta.url).pathname;

async function signin(args: string[], stdin = "", files: Map<string, string> = new Map()) {
  let stdout = "";
  let stderr = "";
  const status = await runCli(["signin", "--api-id", "12345", "--api-hash", "hash", ...args], {
    stdin: ReadableStream.from([new TextEncoder().encode(stdin)]),
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    readTextFile: () => Promise.reject(new Error("no files")),
    writeSecretFile: (path, text) => (files.set(path, text), Promise.resolve()),
    stopped: new Promise(() => {}),
    env: () => undefined,
    clock: systemClock,
  });
  return { status, stdout, stderr };
}

/** Runs `mtproto2json pipe` as a process with `input` on stdin; returns its stdout lines. */
async function pipe(server: unknown, input: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}main.ts`, "pipe", "--server", JSON.stringify(server)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const output = await child.output();
  return {
    code: output.code,
    lines: new TextDecoder().decode(output.stdout).trim().split("\n").filter(Boolean).map((line) =>
      JSON.parse(line)
    ),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("signin with flags prints a session line that resumes the account in pipe", async () => {
  const emulator = await startEmulator({ port: 0, log: quiet });
  try {
    const files = new Map<string, string>();
    const server = JSON.stringify(emulator.serverLine());
    const result = await signin(
      ["--server", server, "--phone", "+15550000001", "--code", "12345", "--out", "alice.json"],
      "",
      files,
    );
    assertEquals(result.status, 0, result.stderr);
    const line = JSON.parse(result.stdout);
    assertEquals(line.id, 1);
    assertEquals(line.session.user_id, 1000001);
    assertEquals(line.session.api_id, 12345);
    assertEquals(files.get("alice.json"), result.stdout);
    // Pasted into pipe: no login needed, and end of input finishes the calls in flight.
    const piped = await pipe(
      emulator.serverLine().server,
      result.stdout +
        '{"id": 2, "message": {"_cons": "users.getUsers", "id": [{"_cons": "inputUserSelf"}]}}\n' +
        '{"id": 3, "message": {"_cons": "ping", "ping_id": 3}}\n',
    );
    assertEquals(piped.code, 0, piped.stderr);
    const byId = new Map(piped.lines.map((response) => [response.id, response]));
    assertEquals(byId.get(2).message[0].first_name, "Alice");
    assertEquals(byId.get(3).message.ping_id, 3);
    assertEquals(byId.get(1).session.user_id, 1000001);
  } finally {
    await emulator.close();
  }
});

Deno.test("signin asks for what is missing, again after a wrong code and a wrong password", async () => {
  const emulator = await startEmulator({ port: 0, log: quiet });
  try {
    const result = await signin(
      ["--server", JSON.stringify(emulator.serverLine())],
      "+15550000002\n00000\n12345\nhunter3\nhunter2\n",
    );
    assertEquals(result.status, 0, result.stderr);
    assertStringIncludes(result.stderr, "That code is not right");
    assertStringIncludes(result.stderr, "That password is not right");
    assertStringIncludes(result.stderr, "2FA password (hint: the classic)");
    assertEquals(JSON.parse(result.stdout).session.user_id, 1000002);
  } finally {
    await emulator.close();
  }
});

Deno.test("signin lands on the phone's home DC and signs up a new number", async () => {
  const emulator = await startEmulator({ port: 0, log: quiet, world: { homeDc: 3 } });
  try {
    const server = JSON.stringify(emulator.serverLine());
    const moved = await signin(["--server", server, "--phone", "+15550000001", "--code", "12345"]);
    assertEquals(moved.status, 0, moved.stderr);
    const session = JSON.parse(moved.stdout).session;
    assertEquals(session.dc, 3);
    assertEquals(session.server.port, emulator.dcs[2].port);
    const created = await signin(
      ["--server", server, "--phone", "+15557777777", "--code", "12345"],
      "Dana\nNew\n",
    );
    assertEquals(created.status, 0, created.stderr);
    assertEquals(typeof JSON.parse(created.stdout).session.user_id, "number");
  } finally {
    await emulator.close();
  }
});

Deno.test("signin without an api_id says where to get one", async () => {
  let stderr = "";
  const status = await runCli(["signin", "--phone", "+15550000001"], {
    stdin: ReadableStream.from([]),
    stdout: () => {},
    stderr: (text) => void (stderr += text),
    readTextFile: () => Promise.reject(new Error("no files")),
    writeSecretFile: () => Promise.resolve(),
    stopped: new Promise(() => {}),
    env: () => undefined,
    clock: systemClock,
  });
  assertEquals(status, 1);
  assertStringIncludes(stderr, "my.telegram.org");
});

Deno.test("a session printed by signin, pasted into a fresh serve connection, resumes without a new login", async () => {
  const emulator = await startEmulator({ port: 0, log: quiet });
  const server = serve({
    schema: loadSchema(),
    server: serverFlag(JSON.stringify(emulator.serverLine()))!,
    app: appIdentity(undefined, undefined, "test"),
  }, { host: "127.0.0.1", port: 0, maxLine: 1 << 20 });
  try {
    const printed = await signin([
      "--server",
      JSON.stringify(emulator.serverLine()),
      "--phone",
      "+15550000002",
      "--code",
      "12345",
      "--password",
      "hunter2",
    ]);
    assertEquals(printed.status, 0, printed.stderr);
    const client = await JsonClient.connect(server.port);
    try {
      await client.sendText(printed.stdout);
      const loaded = await client.next((line) => line.id === 1);
      assertEquals((loaded.session as Record<string, unknown>).user_id, 1000002);
      const me = await client.request({
        id: 2,
        message: { _cons: "users.getUsers", id: [{ _cons: "inputUserSelf" }] },
      });
      assertEquals((me.message as Record<string, unknown>[])[0].first_name, "Bob");
    } finally {
      client.close();
    }
  } finally {
    await server.close();
    await emulator.close();
  }
});

Deno.test("no answer within the timeout gives rpc_timeout, and the late answer is not sent twice", async () => {
  // The emulator and serve share a fake clock: the 400 ms and the 100 ms pass when moved.
  const clock = new FakeClock();
  const emulator = await startEmulator({
    port: 0,
    log: quiet,
    clock,
    faults: { slow: { method: "help.getNearestDc", ms: 400 } },
  });
  const server = serve({
    schema: loadSchema(),
    server: serverFlag(JSON.stringify(emulator.serverLine()))!,
    app: appIdentity("1", "x", "test"),
    clock,
  }, { host: "127.0.0.1", port: 0, maxLine: 1 << 20 });
  /** The answer to `request`, moving the clock 50 ms at a time until it comes. */
  const answered = async (client: JsonClient, request: Record<string, unknown>) => {
    let answer: Record<string, unknown> | undefined;
    const asked = client.request(request, 60_000).then((line) => answer = line);
    while (!answer) await clock.advance(50);
    return await asked;
  };
  try {
    const client = await JsonClient.connect(server.port);
    try {
      await client.request({ id: 1, message: { _cons: "help.getConfig" } });
      // The emulator answers help.getNearestDc after 400 ms; the client gives up after 100 ms.
      await client.request({ id: 2, options: { timeout: 0.1 } });
      const timedOut = await answered(client, { id: 3, message: { _cons: "help.getNearestDc" } });
      assertEquals((timedOut.message as Record<string, unknown>)._cons, "rpc_timeout");
      // Past the emulator's 400 ms its late answer has come to serve; a call made after it is
      // answered after it, so a forwarded late answer would be here first.
      await clock.advance(500);
      await client.request({ id: 6, message: { _cons: "help.getConfig" } });
      const late = await client.next((line) => line.id === 3, 1).then(() => true, () => false);
      assertEquals(late, false, "the late answer was forwarded");
      await client.request({ id: 4, options: { timeout: 10 } });
      const patient = await answered(client, { id: 5, message: { _cons: "help.getNearestDc" } });
      assertEquals((patient.message as Record<string, unknown>)._cons, "nearestDc");
    } finally {
      client.close();
    }
  } finally {
    await server.close();
    await emulator.close();
  }
});

Deno.test('signin --pfs, then pipe with "pfs": true, never send a message under the permanent key', async () => {
  const log: string[] = [];
  const emulator = await startEmulator({ port: 0, log: (line) => log.push(line) });
  try {
    const server = JSON.stringify(emulator.serverLine());
    const result = await signin(
      ["--pfs", "--server", server, "--phone", "+15550000001"],
      "12345\n",
    );
    assertEquals(result.status, 0, result.stderr);
    const piped = await pipe(
      { ...emulator.serverLine().server, pfs: true },
      result.stdout +
        '{"id": 2, "message": {"_cons": "users.getUsers", "id": [{"_cons": "inputUserSelf"}]}}\n',
    );
    assertEquals(piped.code, 0, piped.stderr);
    const byId = new Map(piped.lines.map((response) => [response.id, response]));
    assertEquals(byId.get(2).message[0].first_name, "Alice");
    assertEquals(log.filter((line) => line.includes("bound to permanent key")).length, 2);
    assertEquals(log.filter((line) => line.includes("a message under permanent key")), []);
  } finally {
    await emulator.close();
  }
});
