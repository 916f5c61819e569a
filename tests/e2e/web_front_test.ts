import { assertEquals, assertStringIncludes } from "../assert.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { signInBob, startServeProcess } from "../support/processes.ts";
import { connectWebSocket } from "../support/ws_json_client.ts";

type Line = Record<string, unknown>;

Deno.test("serve --http as a process: Alice signs in by one-shot HTTP calls, Bob over the WebSocket writes to her, she reads it by HTTP", async () => {
  const emulator = await startEmulator({ port: 0, log: () => {} });
  const serve = await startServeProcess(emulator.serverLine(), ["--http", "127.0.0.1:0"]);
  const bob = { close: () => {} } as { close(): void };
  try {
    // The HTTP port is printed after the TCP one, the way a user reads it.
    const port = await httpPortOf(serve);
    const base = `http://127.0.0.1:${port}`;
    const call = async (path: string, body: unknown, handle?: string) => {
      const response = await fetch(`${base}${path}`, {
        method: "POST",
        headers: handle ? { authorization: `Bearer ${handle}` } : {},
        body: JSON.stringify(body),
      });
      return { status: response.status, value: await response.json() };
    };
    assertEquals((await (await fetch(`${base}/healthz`)).json()).status, "ok");
    const { account } = (await call("/v1/sessions", {})).value;
    const sent = await call("/v1/auth.sendCode", {
      phone_number: "+15550000001",
      api_id: 12345,
      api_hash: "hash",
      settings: { _cons: "codeSettings" },
    }, account);
    const signed = await call("/v1/auth.signIn", {
      phone_number: "+15550000001",
      phone_code_hash: sent.value.phone_code_hash,
      phone_code: "12345",
    }, account);
    assertEquals([signed.status, signed.value._cons], [200, "auth.authorization"]);
    const client = await connectWebSocket(port);
    bob.close = () => client.close();
    await signInBob(client);
    // JSON.parse in this client would round a 64-bit access hash: ask for strings.
    await client.request({ id: 9, options: { longs_as_strings: true } });
    const resolved = await client.request({
      id: 10,
      message: { _cons: "contacts.resolveUsername", username: "alice" },
    });
    const alice = ((resolved.message as Line).users as Line[])
      .find((user) => String(user.id) === "1000001")!;
    const written = await client.request({
      id: 11,
      message: {
        _cons: "messages.sendMessage",
        peer: { _cons: "inputPeerUser", user_id: alice.id, access_hash: alice.access_hash },
        message: "hello over the WebSocket",
        random_id: 77,
      },
    });
    assertEquals(
      (written.message as Line)._cons,
      "updateShortSentMessage",
      JSON.stringify(written),
    );
    // Her dialogs end with the message Bob just wrote.
    const history = await call("/v1/messages.getDialogs", {
      offset_date: 0,
      offset_id: 0,
      offset_peer: { _cons: "inputPeerEmpty" },
      limit: 10,
      hash: 0,
    }, account);
    assertEquals(history.status, 200, JSON.stringify(history.value));
    assertStringIncludes(JSON.stringify(history.value), "hello over the WebSocket");
  } finally {
    bob.close();
    serve.child.kill("SIGTERM");
    assertEquals((await serve.child.status).code, 0, serve.stderr());
    await emulator.close();
  }
});

/** The HTTP port serve printed on stderr. */
async function httpPortOf(serve: { stderr(): string }): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const match = /HTTP and WebSocket on http:\/\/127\.0\.0\.1:(\d+)/.exec(serve.stderr());
    if (match) return Number(match[1]);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no HTTP port printed: ${serve.stderr()}`);
}

Deno.test("--http-max-open: one address (a reverse proxy's) may keep that many requests open, and no more; the default is 64", async () => {
  const emulator = await startEmulator({ port: 0, log: () => {} });
  /** serve with `extra` flags, and a way to leave requests from this address waiting. */
  const started = async (extra: string[]) => {
    const serve = await startServeProcess(emulator.serverLine(), [
      "--http",
      "127.0.0.1:0",
      ...extra,
    ]);
    const port = await httpPortOf(serve);
    const waiting: Deno.TcpConn[] = [];
    return {
      /** Opens `count` requests whose promised body never comes (each stays open 30 s). */
      async hold(count: number) {
        for (let i = 0; i < count; i++) {
          const connection = await Deno.connect({ hostname: "127.0.0.1", port });
          waiting.push(connection);
          await connection.write(new TextEncoder().encode(
            `POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 10\r\n\r\n{`,
          ));
        }
      },
      /** GET /healthz's statuses over half a second (the held requests reach serve meanwhile). */
      async statuses(): Promise<number[]> {
        const seen: number[] = [];
        for (let i = 0; i < 10; i++) {
          const response = await fetch(`http://127.0.0.1:${port}/healthz`);
          await response.body?.cancel();
          seen.push(response.status);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return seen;
      },
      /** Closes `count` of the held requests' connections: their places come back. */
      release(count: number) {
        for (const connection of waiting.splice(0, count)) connection.close();
      },
      async stop() {
        for (const connection of waiting) connection.close();
        serve.child.kill("SIGTERM");
        await serve.child.status;
      },
    };
  };
  try {
    const raised = await started(["--http-max-open", "71"]);
    try {
      // 71 held: the probe is one too many, once they all reached serve.
      await raised.hold(71);
      assertEquals((await raised.statuses()).at(-1), 429);
      // One given back: 70 held and the probe are 71, allowed.
      raised.release(1);
      assertEquals((await raised.statuses()).at(-1), 200);
    } finally {
      await raised.stop();
    }
    const plain = await started([]);
    try {
      await plain.hold(64);
      assertEquals((await plain.statuses()).at(-1), 429);
    } finally {
      await plain.stop();
    }
  } finally {
    await emulator.close();
  }
});
