import { assertEquals, assertStringIncludes } from "../assert.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { parsePublicKeyPem } from "../../lib/crypto/rsa.ts";
import { TlCodec } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { Sender } from "../../lib/net/sender.ts";
import { TlReader } from "../../lib/tl/reader.ts";
import { laterLayerText } from "../support/later_layer.ts";

const root = new URL("../../", import.meta.url).pathname;
const codec = new TlCodec(loadSchema());

/** Starts `mtproto2json emulator` as a process and reads its first stdout line. */
async function spawnEmulator(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}main.ts`, "emulator", "--port", "0", ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return { child, line: JSON.parse(text.split("\n")[0]) };
}

async function stop(child: Deno.ChildProcess) {
  child.kill("SIGTERM");
  const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
  await child.stdout.cancel().catch(() => {});
  return { status, stderr };
}

Deno.test("the emulator prints a server line a client can connect with, and logs login codes to stderr", async () => {
  const { child, line } = await spawnEmulator([]);
  try {
    assertEquals(line.server.host, "127.0.0.1");
    assertEquals(line.server.dc, 2);
    const sender = new Sender({
      host: line.server.host,
      port: line.server.port,
      dcId: line.server.dc,
      publicKeys: [parsePublicKeyPem(line.server.rsa)],
      transport: { kind: "abridged", obfuscated: true },
      codec,
      random: secureRandom,
      pingIntervalMs: 0,
    });
    try {
      const sent = codec.decode(
        await sender.invoke(codec.encode({
          _cons: "auth.sendCode",
          phone_number: "+15550000001",
          api_id: 1,
          api_hash: "x",
          settings: { _cons: "codeSettings" },
        })),
      );
      assertEquals(sent._cons, "auth.sentCode");
    } finally {
      sender.close();
    }
  } finally {
    const { status, stderr } = await stop(child);
    assertEquals(status.success, true);
    assertStringIncludes(stderr, "a test double of Telegram");
    assertStringIncludes(stderr, "login code for +15550000001: 12345");
  }
});

Deno.test("--key keeps the same RSA key across restarts, written with mode 0600", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const keyFile = `${directory}/emulator.pem`;
    const first = await spawnEmulator(["--key", keyFile, "--dcs", "1"]);
    await stop(first.child);
    assertEquals((await Deno.stat(keyFile)).mode! & 0o777, 0o600);
    const second = await spawnEmulator(["--key", keyFile, "--dcs", "1"]);
    await stop(second.child);
    assertEquals(second.line.server.rsa, first.line.server.rsa);
    assertEquals(second.line.server.dc, 1);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("--clock-skew VALUE@DC skews that DC only", async () => {
  const { child, line } = await spawnEmulator(["--clock-skew", "3600@3"]);
  const connect = (port: number, dcId: number) =>
    new Sender({
      host: "127.0.0.1",
      port,
      dcId,
      publicKeys: [parsePublicKeyPem(line.server.rsa)],
      transport: { kind: "abridged" },
      codec,
      random: secureRandom,
      pingIntervalMs: 0,
    });
  const home = connect(line.server.port, 2);
  try {
    const config = codec.decode(await home.invoke(codec.encode({ _cons: "help.getConfig" })));
    const dc3 = (config.dc_options as Record<string, unknown>[]).find((option) => option.id === 3)!;
    const skewed = connect(dc3.port as number, 3);
    try {
      await skewed.invoke(codec.encode({ _cons: "help.getNearestDc" }));
      assertEquals(Math.abs(skewed.session!.ids.offsetMs - 3600_000) < 2000, true);
      assertEquals(Math.abs(home.session!.ids.offsetMs) < 2000, true);
    } finally {
      skewed.close();
    }
  } finally {
    home.close();
    await stop(child);
  }
});

Deno.test("--scheme serves that file's layer, and says so when a client declares another", async () => {
  const directory = await Deno.makeTempDir();
  const file = `${directory}/api.tl`;
  await Deno.writeTextFile(file, await laterLayerText());
  const later = new TlCodec(loadSchema([{ name: file, text: await Deno.readTextFile(file) }]));
  const { child, line } = await spawnEmulator(["--scheme", file]);
  let stderr = "";
  try {
    const sender = new Sender({
      host: "127.0.0.1",
      port: line.server.port,
      dcId: line.server.dc,
      publicKeys: [parsePublicKeyPem(line.server.rsa)],
      transport: { kind: "intermediate" },
      codec: later,
      random: secureRandom,
      pingIntervalMs: 0,
    });
    try {
      const request = {
        _cons: "invokeWithLayer",
        layer: 223,
        query: { _cons: "help.getNearestDc" },
      };
      const answer = await sender.invoke(later.encode(request));
      const nearest = later.readType(new TlReader(answer), later.resultType(request)!);
      assertEquals((nearest as { this_dc: number }).this_dc, 2);
    } finally {
      sender.close();
    }
  } finally {
    stderr = (await stop(child)).stderr;
    await Deno.remove(directory, { recursive: true });
  }
  assertStringIncludes(stderr, "the client declares layer 223, the emulator serves layer 999");
});

Deno.test("a port in use is one line naming it and exit 2, not a stack trace", async () => {
  // Another program holds the port of DC 1 (say, an emulator started earlier).
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = String((taken.addr as Deno.NetAddr).port);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${root}main.ts`, "emulator", "--port", port, "--dcs", "1"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const said = new TextDecoder().decode(stderr);
    assertEquals(code, 2, said);
    assertEquals(new TextDecoder().decode(stdout), "");
    assertEquals(said.trim().split("\n").length, 1, said);
    assertStringIncludes(
      said,
      `cannot listen on 127.0.0.1:${port} for DC 1: the address is already in use`,
    );
  } finally {
    taken.close();
  }
});

Deno.test("--users N adds accounts +15551000001 … in order that sign in with the code, and the log names them", async () => {
  const { child, line } = await spawnEmulator(["--users", "2", "--key-holders"]);
  try {
    const sender = new Sender({
      host: line.server.host,
      port: line.server.port,
      dcId: line.server.dc,
      publicKeys: [parsePublicKeyPem(line.server.rsa)],
      transport: { kind: "intermediate" },
      codec,
      random: secureRandom,
      pingIntervalMs: 0,
    });
    try {
      const call = async (request: Record<string, unknown>) =>
        codec.decode(await sender.invoke(codec.encode(request)));
      const sent = await call({
        _cons: "auth.sendCode",
        phone_number: "+15551000002",
        api_id: 1,
        api_hash: "x",
        settings: { _cons: "codeSettings" },
      });
      const signed = await call({
        _cons: "auth.signIn",
        phone_number: "+15551000002",
        phone_code_hash: sent.phone_code_hash,
        phone_code: "12345",
      });
      assertEquals(signed._cons, "auth.authorization");
      const user = signed.user as Record<string, unknown>;
      assertEquals([user.phone, user.first_name, user.last_name], ["15551000002", "User", "2"]);
    } finally {
      sender.close();
    }
  } finally {
    const { status, stderr } = await stop(child);
    assertEquals(status.success, true);
    assertStringIncludes(stderr, "+15551000001 to +15551000002");
  }
  const tooMany = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}main.ts`, "emulator", "--port", "0", "--users", "10000"],
    stdout: "null",
    stderr: "piped",
  }).output();
  assertEquals(tooMany.code, 2);
  assertStringIncludes(new TextDecoder().decode(tooMany.stderr), "--users takes at most 9999");
});

Deno.test("--key-holders where /proc cannot be read (Deno without -A) is one line saying why and exit 2", async () => {
  const refused = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-net=127.0.0.1",
      "--allow-env",
      `${root}main.ts`,
      "emulator",
      "--port",
      "0",
      "--key-holders",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  const said = new TextDecoder().decode(refused.stderr);
  assertEquals(refused.code, 2, said);
  assertStringIncludes(said, "--key-holders: recording key holders reads Linux's /proc");
  assertStringIncludes(said, "deno run -A");
});
