import { assertEquals, assertStringIncludes } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import type { WorldOptions } from "../../lib/emulator/world.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import { type ServedFronts, serveFronts } from "../support/serve_fronts.ts";
import type { WebOptions } from "../../lib/web/web_server.ts";
import { openWebSocket } from "../support/ws_json_client.ts";
import { FakeClock } from "../support/fake_clock.ts";

const schema = loadSchema();
type Line = Record<string, unknown>;

async function withWeb(
  run: (fronts: ServedFronts, base: string) => Promise<void>,
  options: {
    world?: WorldOptions;
    token?: string;
    web?: Partial<WebOptions>;
    clock?: FakeClock;
  } = {},
) {
  const clock = options.clock ? { clock: options.clock } : {};
  const emulator = await startEmulator({
    port: 0,
    log: () => {},
    world: options.world ?? {},
    ...clock,
  });
  const fronts = serveFronts({
    ...clock,
    schema,
    server: serverFlag(JSON.stringify(emulator.serverLine()))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds: 5 },
    transport: { kind: "intermediate" },
    log: () => {},
  }, { ...(options.token ? { token: options.token } : {}), web: options.web ?? {} });
  try {
    await run(fronts, `http://127.0.0.1:${fronts.httpPort}`);
  } finally {
    await fronts.close();
    await emulator.close();
  }
}

/** POSTs `body` (an object, or text as it is) with the handle or token as Bearer. */
async function post(base: string, path: string, body: unknown, bearer?: string) {
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

/** A handle signed in as Alice, through one-shot calls only. */
async function aliceHandle(base: string, token?: string): Promise<string> {
  const made = await post(base, "/v1/sessions", {}, token);
  assertEquals(made.status, 200, made.text);
  const handle = made.json().account as string;
  const sent = await post(base, "/v1/auth.sendCode", {
    phone_number: "+15550000001",
    api_id: 12345,
    api_hash: "hash",
    settings: { _cons: "codeSettings" },
  }, handle);
  assertEquals(sent.status, 200, sent.text);
  const signed = await post(base, "/v1/call", {
    message: {
      _cons: "auth.signIn",
      phone_number: "+15550000001",
      phone_code_hash: sent.json().phone_code_hash,
      phone_code: "12345",
    },
  }, handle);
  assertEquals([signed.status, signed.json()._cons], [200, "auth.authorization"], signed.text);
  return handle;
}

/** One raw HTTP/1.1 request (fetch will not send a Host of our choosing); the status line. */
async function rawStatus(port: number, head: string): Promise<string> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await connection.write(new TextEncoder().encode(head));
    const buffer = new Uint8Array(4096);
    const read = await connection.read(buffer);
    return new TextDecoder().decode(buffer.subarray(0, read ?? 0)).split("\r\n")[0];
  } finally {
    connection.close();
  }
}

Deno.test("one-shot calls: a handle signs in, calls by /v1/{method} and /v1/call, and longs come back exact", async () => {
  await withWeb(async (_fronts, base) => {
    const handle = await aliceHandle(base);
    assertEquals(handle.length, 43); // 32 bytes, base64url
    const me = await post(base, "/v1/users.getUsers", { id: [{ _cons: "inputUserSelf" }] }, handle);
    assertEquals([me.status, me.json()[0].first_name], [200, "Alice"]);
    assertEquals(me.headers.get("content-type"), "application/json");
    const bob = await post(
      base,
      "/v1/contacts.resolveUsername",
      { username: "bob_example" },
      handle,
    );
    // A 64-bit access hash is the integer Telegram sent, digit for digit, as on the line protocol.
    assertStringIncludes(bob.text, '"access_hash":5446744073709551616');
    // And one in a body reaches Telegram as written (a double would round it: the emulator
    // checks the hash).
    const byHash = await post(
      base,
      "/v1/users.getUsers",
      '{"id": [{"_cons": "inputUser", "user_id": 1000002, "access_hash": 5446744073709551616}]}',
      handle,
    );
    assertEquals([byHash.status, byHash.json()[0]?.username], [200, "bob_example"], byHash.text);
    const rounded = await post(
      base,
      "/v1/users.getUsers",
      '{"id": [{"_cons": "inputUser", "user_id": 1000002, "access_hash": 5446744073709552000}]}',
      handle,
    );
    assertEquals(rounded.json()[0]?.username, undefined, rounded.text);
    // Options alone set the handle's own; the session (its auth key) is not for reading here.
    const options = await post(base, "/v1/call", { options: { longs_as_strings: true } }, handle);
    assertEquals([options.status, options.json().options.longs_as_strings], [200, true]);
    const again = await post(
      base,
      "/v1/contacts.resolveUsername",
      { username: "bob_example" },
      handle,
    );
    assertStringIncludes(again.text, '"access_hash":"5446744073709551616"');
    const session = await post(base, "/v1/call", { session: {} }, handle);
    assertEquals([session.status, session.json().error], [400, "BadRequest"]);
  });
});

Deno.test("statuses follow the outcome: rpc_error codes, FLOOD_WAIT as 429 with Retry-After, proxy errors 400 and 413, unknown handles 401", async () => {
  await withWeb(async (_fronts, base) => {
    const fresh = (await post(base, "/v1/sessions", "")).json().account as string;
    const unregistered = await post(base, "/v1/updates.getState", {}, fresh);
    assertEquals(unregistered.status, 401);
    assertEquals(unregistered.json(), {
      _cons: "rpc_error",
      error_code: 401,
      error_message: "AUTH_KEY_UNREGISTERED",
    });
    const handle = await aliceHandle(base);
    // Flood waits longer than the threshold come back: 429, and when to try again.
    const flood = await post(base, "/v1/call", {
      message: { _cons: "help.getNearestDc" },
      options: { flood_wait_threshold: 0 },
    }, handle);
    assertEquals([flood.status, flood.headers.get("retry-after")], [429, "30"], flood.text);
    assertEquals(flood.json().error_message, "FLOOD_WAIT_30");
    const invalid = await post(base, "/v1/messages.getHistory", {
      peer: { _cons: "inputPeerUser", user_id: 424242, access_hash: 1 },
      offset_id: 0,
      offset_date: 0,
      add_offset: 0,
      limit: 1,
      max_id: 0,
      min_id: 0,
      hash: 0,
    }, handle);
    assertEquals([invalid.status, invalid.json()._cons], [400, "rpc_error"], invalid.text);
    const unknown = await post(base, "/v1/messages.getDialogz", {}, handle);
    assertEquals([unknown.status, unknown.json().error], [400, "UnknownConstructor"]);
    const badJson = await post(base, "/v1/call", "{not json", handle);
    assertEquals([badJson.status, badJson.json().error], [400, "BadJson"]);
    const extra = await post(
      base,
      "/v1/call",
      { message: { _cons: "ping", ping_id: 1 }, to: 1 },
      handle,
    );
    assertEquals([extra.status, extra.json().error], [400, "BadRequest"]);
    const tooLong = await post(base, "/v1/ping", { ping_id: 1, pad: "x".repeat(70_000) }, handle);
    assertEquals([tooLong.status, tooLong.json().error], [413, "BodyTooLong"]);
    // A body within the limit whose request line is not (the method's name and an id added) is
    // answered 413 too, not left waiting.
    const justUnder = await post(
      base,
      "/v1/ping",
      `{"ping_id": 1, "pad": "${"x".repeat(65_536 - 30)}"}`,
      handle,
    );
    assertEquals([justUnder.status, justUnder.json().error], [413, "LineTooLong"]);
    const nobody = await post(base, "/v1/ping", { ping_id: 1 }, "A".repeat(43));
    assertEquals([nobody.status, nobody.json().error], [401, "UnknownAccount"]);
    const none = await post(base, "/v1/ping", { ping_id: 1 });
    assertEquals(none.status, 401);
    // Revoked, a handle is refused; its cookie is cleared.
    const revoked = await fetch(`${base}/v1/sessions`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${handle}` },
    });
    assertEquals(revoked.status, 204);
    assertStringIncludes(revoked.headers.get("set-cookie") ?? "", "Max-Age=0");
    assertEquals((await post(base, "/v1/ping", { ping_id: 1 }, handle)).status, 401);
  }, {
    world: { floodWait: { method: "help.getNearestDc", seconds: 30, times: 1 } },
    web: { maxLine: 65_536 } as Partial<WebOptions>,
  });
});

Deno.test("a page on another origin and a rebinding Host are refused; a --cors origin is let in", async () => {
  await withWeb(async (fronts, base) => {
    const port = fronts.httpPort;
    const foreign = await rawStatus(
      port,
      "POST /v1/sessions HTTP/1.1\r\nHost: evil.example:" + port +
        "\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    assertStringIncludes(foreign, " 421 ");
    assertStringIncludes(
      await rawStatus(
        port,
        "GET /healthz HTTP/1.1\r\nHost: localhost:" + port + "\r\nConnection: close\r\n\r\n",
      ),
      " 200 ",
    );
    // A page on evil.example: its POST is refused before anything runs, and its WebSocket too.
    const evil = await fetch(`${base}/v1/sessions`, {
      method: "POST",
      headers: { origin: "https://evil.example" },
      body: "{}",
    });
    assertEquals([evil.status, (await evil.json()).error], [403, "ForeignOrigin"]);
    assertEquals(fronts.web.handles.size, 0);
    let upgraded = true;
    await openWebSocket(`ws://127.0.0.1:${port}/v1/ws`, {
      headers: { origin: "https://evil.example" },
    }).then((socket) => socket.close(), () => (upgraded = false));
    assertEquals(upgraded, false);
    // The listed origin: preflight and answer carry its origin (never *) and credentials.
    const preflight = await fetch(`${base}/v1/call`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    await preflight.body?.cancel();
    assertEquals(preflight.status, 204);
    assertEquals(preflight.headers.get("access-control-allow-origin"), "https://app.example");
    const made = await fetch(`${base}/v1/sessions?cookie=1`, {
      method: "POST",
      headers: { origin: "https://app.example" },
      body: "{}",
    });
    assertEquals(made.status, 200);
    assertEquals(made.headers.get("access-control-allow-origin"), "https://app.example");
    assertEquals(made.headers.get("access-control-allow-credentials"), "true");
    const cookie = made.headers.get("set-cookie")!;
    assertStringIncludes(cookie, "HttpOnly; SameSite=Strict");
    assertEquals("account" in (await made.json()), false, "the cookie's handle is not in the body");
    // The cookie names the account as the Bearer header would.
    const pong = await fetch(`${base}/v1/ping`, {
      method: "POST",
      headers: { origin: "https://app.example", cookie: cookie.split(";")[0] },
      body: '{"ping_id": 3}',
    });
    assertEquals([pong.status, (await pong.json()).ping_id], [200, 3]);
    // A call's answer too, though it is made for Deno's fast path with one header.
    assertEquals(pong.headers.get("access-control-allow-origin"), "https://app.example");
    assertEquals(pong.headers.get("content-type"), "application/json");
  }, { web: { cors: ["https://app.example"] } });
});

Deno.test("with a token: sessions, the WebSocket and metrics need it; health probes do not", async () => {
  const token = "s3cret-token";
  await withWeb(async (fronts, base) => {
    const without = await post(base, "/v1/sessions", {});
    assertEquals([without.status, without.json().error], [401, "Unauthorized"]);
    const wrong = await post(base, "/v1/sessions", {}, "guess");
    assertEquals(wrong.status, 401);
    const health = await (await fetch(`${base}/healthz`)).json();
    assertEquals(health.token_failures.total, 1, "a wrong token over HTTP is counted with TCP's");
    assertEquals((await fetch(`${base}/readyz`)).status, 200);
    // The API's description is public, like the schema it comes from.
    const described = await (await fetch(`${base}/v1/openapi.json`)).json();
    assertEquals(described.openapi, "3.1.0");
    assertEquals(typeof described.paths["/v1/messages.sendMessage"].post, "object");
    const metrics = await fetch(`${base}/metrics`);
    await metrics.body?.cancel();
    assertEquals(metrics.status, 401);
    const handle = await aliceHandle(base, token);
    const me = await post(base, "/v1/users.getUsers", { id: [{ _cons: "inputUserSelf" }] }, handle);
    assertEquals(me.json()[0].first_name, "Alice");
    // The WebSocket: a browser cannot send headers, so its first frame has the token, as on TCP.
    const client = await fronts.connect("websocket");
    try {
      await client.send({ id: 1, message: { _cons: "ping", ping_id: 1 } });
      const refused = await client.next((line) => line.id === -1);
      assertEquals(refused.error, "Unauthorized");
    } finally {
      client.close();
    }
    const allowed = await fronts.connect("websocket");
    try {
      const pong = await allowed.request({ token, id: 2, message: { _cons: "ping", ping_id: 2 } });
      assertEquals((pong.message as Line).ping_id, 2);
    } finally {
      allowed.close();
    }
  }, { token });
});

Deno.test("a handle's session is parked after --http-idle unused, and the next call reopens it signed in", async () => {
  const clock = new FakeClock();
  await withWeb(async (fronts, base) => {
    const handle = await aliceHandle(base);
    const warm = await fronts.web.handles.account(handle);
    assertEquals(await fronts.web.handles.account(handle), warm, "kept warm while used");
    for (let waited = 0; waited < 70_000; waited += 5_000) await clock.advance(5_000);
    const me = await post(base, "/v1/users.getUsers", { id: [{ _cons: "inputUserSelf" }] }, handle);
    assertEquals([me.status, me.json()[0]?.first_name], [200, "Alice"], me.text);
    assertEquals(warm!.closed, true, "the idle session was closed");
    assertEquals((await fronts.web.handles.account(handle)) === warm, false);
  }, { clock, web: { idleSeconds: 60 } });
});

Deno.test("a body sent in chunks is read to the --max-line limit (413 past it), and one that does not all arrive within the deadline is answered 408", async () => {
  const clock = new FakeClock();
  await withWeb(async (fronts, base) => {
    const handle = (await post(base, "/v1/sessions", {})).json().account as string;
    /** POSTs `parts` as a chunked body (a stream: no Content-Length). */
    const chunked = async (parts: string[]) => {
      const response = await fetch(`${base}/v1/ping`, {
        method: "POST",
        headers: { authorization: `Bearer ${handle}` },
        body: ReadableStream.from(parts.map((part) => new TextEncoder().encode(part))),
      });
      return { status: response.status, json: await response.json() };
    };
    const pong = await chunked(['{"ping_id"', ": 5}"]);
    assertEquals([pong.status, pong.json._cons, pong.json.ping_id], [200, "pong", 5]);
    const over = await chunked([
      '{"ping_id": 1, "pad": "',
      "x".repeat(40_000),
      "x".repeat(40_000),
      '"}',
    ]);
    assertEquals([over.status, over.json.error], [413, "BodyTooLong"]);

    // Ten bytes promised, four sent: the answer comes once the deadline has passed.
    const port = fronts.httpPort;
    const connection = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await connection.write(new TextEncoder().encode(
        `POST /v1/ping HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${handle}\r\n` +
          `Content-Length: 10\r\n\r\n{"pi`,
      ));
      const buffer = new Uint8Array(4096);
      const answer = connection.read(buffer).then((read) =>
        new TextDecoder().decode(buffer.subarray(0, read ?? 0))
      );
      let answered: string | undefined;
      answer.then((text) => answered = text);
      // The body's read starts once the request has come in: time moves a second at a time
      // until the answer (the 30 s deadline, and at most a quarter of it more).
      let waited = 0;
      for (; answered === undefined && waited <= 60_000; waited += 1_000) {
        await clock.advance(1_000);
      }
      assertStringIncludes(answered ?? "", "HTTP/1.1 408 ");
      assertStringIncludes(answered!, '"error":"BodyTimeout"');
      assertEquals(waited >= 30_000, true, `answered after ${waited} ms`);
    } finally {
      connection.close();
    }
  }, { clock, web: { maxLine: 65_536 } as Partial<WebOptions> });
});

Deno.test("a request's path is routed as the URL parser reads it: dot segments and escapes resolved, the query left out", async () => {
  await withWeb(async (fronts) => {
    const port = fronts.httpPort;
    const get = (target: string) =>
      rawStatus(
        port,
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
      );
    assertStringIncludes(await get("/healthz?verbose=1"), " 200 ");
    assertStringIncludes(await get("/v1/../healthz"), " 200 ");
    assertStringIncludes(await get("/v1/%2e%2e/healthz"), " 200 ");
    assertStringIncludes(await get("/%68ealthz"), " 404 ");
    assertStringIncludes(await get("/v1/./ws/../openapi.json"), " 200 ");
  });
});
