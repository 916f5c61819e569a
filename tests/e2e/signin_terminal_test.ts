/**
 * `signin` as a person at a terminal uses it: through a real pseudo-terminal (`script` from
 * util-linux), each answer typed once, Ctrl-C at each prompt, and servers that are not there.
 */

import { assertEquals, assertStringIncludes } from "../assert.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { STOPPED_STATUS } from "../../lib/cli/run.ts";

const root = new URL("../../", import.meta.url).pathname;
const hasScript = (() => {
  try {
    return new Deno.Command("script", { args: ["--version"] }).outputSync().success;
  } catch {
    return false;
  }
})();

/** `signin` in a pseudo-terminal: type into it, read what the terminal shows. */
function terminal(server: unknown) {
  const command = `"${Deno.execPath()}" run -A ${root}main.ts signin --api-id 1 --api-hash h`;
  const child = new Deno.Command("script", {
    args: ["-q", "-f", "-e", "-c", command, "/dev/null"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { MTPROTO2JSON_SERVER: JSON.stringify(server), NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let screen = "";
  return {
    child,
    get screen() {
      return screen;
    },
    async type(text: string) {
      await writer.write(new TextEncoder().encode(text));
    },
    async waitFor(text: string) {
      const deadline = Date.now() + 20_000;
      while (!screen.includes(text)) {
        if (Date.now() > deadline) throw new Error(`"${text}" never appeared in: ${screen}`);
        const { value, done } = await reader.read();
        if (done) throw new Error(`the terminal closed before "${text}": ${screen}`);
        screen += value;
      }
    },
    async finish() {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        screen += value;
      }
      await writer.close().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      return (await child.status).code;
    },
  };
}

Deno.test({
  name: "signin at a terminal: phone, code and the hidden 2FA password each typed once sign Bob in",
  ignore: !hasScript,
  async fn() {
    const emulator = await startEmulator({ port: 0, log: () => {} });
    try {
      const session = terminal(emulator.serverLine());
      await session.waitFor("Phone number");
      await session.type("+15550000002\r");
      await session.waitFor("Login code");
      await session.type("12345\r");
      await session.waitFor("2FA password");
      await session.type("hunter2\r");
      await session.waitFor('"session"');
      const status = await session.finish();
      assertEquals(status, 0, session.screen);
      assertEquals(session.screen.includes("hunter2"), false, "the password is not echoed");
      assertStringIncludes(session.screen, '"user_id":1000002');
    } finally {
      await emulator.close();
    }
  },
});

Deno.test({
  name: "Ctrl-C at each signin prompt ends it with one line and status 130",
  ignore: !hasScript,
  async fn() {
    const emulator = await startEmulator({ port: 0, log: () => {} });
    try {
      for (
        const [answers, prompt] of [
          [[], "Phone number"],
          [["+15550000002\r"], "Login code"],
          [["+15550000002\r", "12345\r"], "2FA password"],
        ] as const
      ) {
        const session = terminal(emulator.serverLine());
        const prompts = ["Phone number", "Login code", "2FA password"];
        for (const [index, answer] of answers.entries()) {
          await session.waitFor(prompts[index]);
          await session.type(answer);
        }
        await session.waitFor(prompt);
        await session.type("\x03");
        const status = await session.finish();
        assertEquals(status, STOPPED_STATUS, `${prompt}: ${session.screen}`);
        assertStringIncludes(session.screen, "mtproto2json signin: interrupted");
        assertEquals(session.screen.includes("    at "), false, "no stack trace");
      }
    } finally {
      await emulator.close();
    }
  },
});

Deno.test("signin against a closed port or a server speaking HTTP fails in one line", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {} });
  const http = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const socket of http) {
      const reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      socket.write(new TextEncoder().encode(reply)).catch(() => {}).finally(() => {
        try {
          socket.close();
        } catch {
          // closed already
        }
      });
    }
  })();
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  try {
    for (const port of [closedPort, (http.addr as Deno.NetAddr).port]) {
      const server = { ...emulator.serverLine().server, port };
      const { code, stderr } = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          `${root}main.ts`,
          "signin",
          "--api-id",
          "1",
          "--api-hash",
          "h",
          "--phone",
          "+15550000001",
          "--server",
          JSON.stringify({ server }),
        ],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      const text = new TextDecoder().decode(stderr).trim().split("\n")
        .filter((line) => !line.startsWith("A login code"));
      assertEquals(code, 1, text.join("\n"));
      assertEquals(text.length, 1, text.join("\n"));
      assertStringIncludes(text[0], "mtproto2json signin: ");
    }
  } finally {
    http.close();
    await serving;
    await emulator.close();
  }
});
