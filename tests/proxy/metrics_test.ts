// serve's metrics as an operator scrapes them: calls, an rpc_error, a FLOOD_WAIT, updates, a file
// download and uploads driven through an in-process serve against the emulator; then
// `metrics.render()` is parsed by an independent Prometheus text parser and every number must be
// what the test did.

// deno-lint-ignore no-import-prefix
import parsePrometheus from "npm:parse-prometheus-text-format@1.1.1";
import { assertEquals } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { Metrics } from "../../lib/proxy/metrics.ts";
import type { ProxyDefaults } from "../../lib/proxy/proxy_connection.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import { JsonClient } from "../support/json_client.ts";
import { until } from "../support/until.ts";
import { signInBob } from "../support/processes.ts";
import { serveFronts } from "../support/serve_fronts.ts";
import { openWebSocket } from "../support/ws_json_client.ts";

const schema = loadSchema();
type Line = Record<string, unknown>;
type Family = {
  name: string;
  type: string;
  metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string> }[];
};

/** The parsed metrics: a sample's value by name and labels (0 when absent), and the families. */
function scrape(metrics: Metrics) {
  const families = parsePrometheus(metrics.render()) as Family[];
  const value = (name: string, labels: Record<string, string> = {}): number => {
    const family = families.find((candidate) => candidate.name === name);
    const sample = family?.metrics.find((metric) =>
      Object.entries(labels).every(([key, text]) => metric.labels?.[key] === text)
    );
    return Number(sample?.value ?? 0);
  };
  return { families, value };
}

async function withServe(
  run: (port: number, metrics: Metrics) => Promise<void>,
  world: Parameters<typeof startEmulator>[0] = {},
) {
  const emulator = await startEmulator({ port: 0, log: () => {}, ...world });
  const metrics = new Metrics(schema);
  const defaults: ProxyDefaults = {
    schema,
    server: serverFlag(JSON.stringify(emulator.serverLine()))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds: 10 },
    transport: { kind: "intermediate" },
    metrics,
  };
  const server = serve(defaults, { host: "127.0.0.1", port: 0, maxLine: 16 << 20 });
  try {
    await run(server.port, metrics);
  } finally {
    await server.close();
    await emulator.close();
  }
}

let nextId = 100;
async function call(client: JsonClient, message: Line): Promise<Line> {
  return (await client.request({ id: ++nextId, message }, 30_000)).message as Line;
}

async function signIn(client: JsonClient, phone: string) {
  const sent = await call(client, {
    _cons: "auth.sendCode",
    phone_number: phone,
    api_id: 12345,
    api_hash: "hash",
    settings: { _cons: "codeSettings" },
  });
  const signed = await call(client, {
    _cons: "auth.signIn",
    phone_number: phone,
    phone_code_hash: sent.phone_code_hash,
    phone_code: "12345",
  });
  assertEquals(signed._cons, "auth.authorization", JSON.stringify(signed));
}

Deno.test("metrics count calls, rpc errors, FLOOD_WAIT, updates and file bytes as they happened", async () => {
  const fileSize = 300_000 + 17;
  await withServe(async (port, metrics) => {
    const alice = await JsonClient.connect(port);
    const bob = await JsonClient.connect(port);
    try {
      await until(() => scrape(metrics).value("mtproto2json_connections", { front: "tcp" }) === 2);
      // Access hashes need all their digits (options alone are no request to count).
      for (const client of [alice, bob]) {
        await client.request({ id: ++nextId, options: { longs_as_strings: true } });
      }
      await signIn(alice, "+15550000001");
      await signInBob(bob); // with his 2FA password: SESSION_PASSWORD_NEEDED first
      const users = await call(alice, {
        _cons: "users.getUsers",
        id: [{ _cons: "inputUserSelf" }],
      }) as unknown as Line[];
      assertEquals(users[0].id, "1000001");
      const missing = await call(alice, {
        _cons: "contacts.resolveUsername",
        username: "nobody_by_this_name",
      });
      assertEquals([missing.error_code, missing.error_message], [400, "USERNAME_NOT_OCCUPIED"]);
      const flood = await call(alice, { _cons: "help.getNearestDc" });
      assertEquals([flood.error_code, flood.error_message], [420, "FLOOD_WAIT_30"]);
      // An unknown method is refused by the proxy, and counted as "other".
      const unknown = await alice.request({ id: ++nextId, message: { _cons: "no.suchMethod" } });
      assertEquals(unknown.error, "UnknownConstructor");
      // Bob writes to Alice: it reaches her as a managed update.
      const resolved = await call(bob, { _cons: "contacts.resolveUsername", username: "alice" });
      const hash = (resolved.users as Line[]).find((user) => user.id === "1000001")!.access_hash;
      const sentByBob = await call(bob, {
        _cons: "messages.sendMessage",
        peer: { _cons: "inputPeerUser", user_id: 1000001, access_hash: hash },
        message: "counted",
        random_id: 77,
      });
      assertEquals(sentByBob._cons, "updateShortSentMessage");
      await alice.next((line) => line.id === 0 && JSON.stringify(line).includes("counted"));
      // A download of one of the world's files, as chunk lines; uploads from bytes and a stream.
      const bobs = await call(alice, {
        _cons: "contacts.resolveUsername",
        username: "bob_example",
      });
      const bobHash = (bobs.users as Line[]).find((user) => user.id === "1000002")!.access_hash;
      const history = await call(alice, {
        _cons: "messages.getHistory",
        peer: { _cons: "inputPeerUser", user_id: 1000002, access_hash: bobHash },
        offset_id: 0,
        offset_date: 0,
        add_offset: 0,
        limit: 50,
        max_id: 0,
        min_id: 0,
        hash: 0,
      });
      const media = (history.messages as Line[]).find((m) => m.message === "file 8001")!.media;
      const downloadId = ++nextId;
      await alice.send({ id: downloadId, download: { media } });
      const downloaded = await alice.next((line) => line.id === downloadId && !!line.download);
      assertEquals((downloaded.download as Line).size, fileSize);
      const uploaded = await alice.request({
        id: ++nextId,
        upload: { bytes: new Uint8Array(1000).fill(1).toBase64(), name: "a.bin" },
      });
      assertEquals((uploaded.upload as Line)._cons, "inputFile");
      const streamId = ++nextId;
      const streamed = alice.request({ id: streamId, upload: { stream: true, name: "b.bin" } });
      await alice.send({ id: streamId, chunk: { bytes: new Uint8Array(700).toBase64() } });
      await alice.send({ id: streamId, chunk: { bytes: new Uint8Array(11).toBase64() } });
      await alice.send({ id: streamId, chunk: { end: true } });
      // Of a size not known in advance, so announced as big.
      assertEquals(((await streamed).upload as Line)._cons, "inputFileBig");

      // Every update line either client received is one counted as delivered (Bob's own
      // outgoing message may reach him too), once both have settled.
      const delivered = () =>
        [...alice.updates, ...bob.updates].filter((line) => line.message !== undefined).length;
      await until(() =>
        scrape(metrics).value("mtproto2json_updates_delivered_total", { mode: "managed" }) ===
          delivered()
      );
      const { value, families } = scrape(metrics);
      const requests = (method: string, outcome: string) =>
        value("mtproto2json_requests_total", { method, outcome });
      assertEquals(requests("auth.sendCode", "ok"), 2);
      assertEquals(requests("auth.signIn", "ok"), 1);
      assertEquals(requests("auth.signIn", "rpc_error"), 1);
      assertEquals(requests("account.getPassword", "ok"), 1);
      assertEquals(requests("auth.checkPassword", "ok"), 1);
      assertEquals(requests("users.getUsers", "ok"), 1);
      assertEquals(requests("contacts.resolveUsername", "rpc_error"), 1);
      assertEquals(requests("contacts.resolveUsername", "ok"), 2);
      assertEquals(requests("help.getNearestDc", "rpc_error"), 1);
      assertEquals(requests("other", "error"), 1);
      assertEquals(requests("messages.sendMessage", "ok"), 1);
      assertEquals(requests("messages.getHistory", "ok"), 1);
      assertEquals(requests("download", "ok"), 1);
      assertEquals(requests("upload", "ok"), 2);
      assertEquals(
        value("mtproto2json_rpc_errors_total", { code: "400", error: "USERNAME_NOT_OCCUPIED" }),
        1,
      );
      assertEquals(
        value("mtproto2json_rpc_errors_total", { code: "420", error: "FLOOD_WAIT_X" }),
        1,
      );
      assertEquals(value("mtproto2json_flood_wait_seconds_total"), 30);
      // The latency histogram holds every call (not the file requests).
      const histogram = families.find((family) =>
        family.name === "mtproto2json_call_duration_seconds"
      )!;
      assertEquals(histogram.type, "HISTOGRAM");
      assertEquals(Number((histogram.metrics[0] as unknown as { count: string }).count), 14);
      assertEquals(value("mtproto2json_updates_delivered_total", { mode: "managed" }) >= 1, true);
      assertEquals(value("mtproto2json_update_gaps_total"), 0);
      assertEquals(value("mtproto2json_updates_too_long_total"), 0);
      assertEquals(value("mtproto2json_file_bytes_total", { direction: "download" }), fileSize);
      assertEquals(value("mtproto2json_file_bytes_total", { direction: "upload" }), 1000 + 711);
      assertEquals(value("mtproto2json_connections_total", { front: "tcp" }), 2);
      assertEquals(value("mtproto2json_held_accounts", { state: "ok" }), 0);
      // No label holds a phone, a user id, a name or a message. The values are left out: a
      // latency sum such as 0.0231000001 s held "1000001" now and then.
      const text = metrics.render().split("\n")
        .map((line) => line.startsWith("#") ? line : line.slice(0, line.lastIndexOf(" ")))
        .join("\n");
      for (const secret of ["1555", "1000001", "alice", "counted", "nobody_by_this_name"]) {
        assertEquals(text.includes(secret), false, secret);
      }
    } finally {
      alice.close();
      bob.close();
    }
    await until(() => scrape(metrics).value("mtproto2json_connections", { front: "tcp" }) === 0);
  }, {
    world: {
      files: [{ id: "8001", size: fileSize }],
      floodWait: { method: "help.getNearestDc", seconds: 30, times: 1 },
    },
  });
});

Deno.test("bytes in and out are the bytes on the client's socket", async () => {
  await withServe(async (port, metrics) => {
    const socket = await Deno.connect({ hostname: "127.0.0.1", port });
    const request = new TextEncoder().encode(
      '{"id": 1, "health": {}}\n{"id": 2, "options": {"timeout": 3}}\nnot json\n',
    );
    await socket.write(request);
    await socket.closeWrite();
    let received = 0;
    for await (const chunk of socket.readable) received += chunk.length;
    await until(() => scrape(metrics).value("mtproto2json_connections", { front: "tcp" }) === 0);
    const { value } = scrape(metrics);
    assertEquals(value("mtproto2json_received_bytes_total", { front: "tcp" }), request.length);
    assertEquals(value("mtproto2json_sent_bytes_total", { front: "tcp" }), received);
    assertEquals(received > 0, true);
    // Neither a health request nor options is a call: nothing is counted as one.
    assertEquals(
      scrape(metrics).families.find((f) => f.name === "mtproto2json_requests_total")
        ?.metrics.length ?? 0,
      0,
    );
  });
});

Deno.test("docs/service.md lists every metric serve renders, with its type", async () => {
  const docs = await Deno.readTextFile(new URL("../../docs/service.md", import.meta.url));
  const section = docs.slice(
    docs.indexOf("## Metrics"),
    docs.indexOf("\n## ", docs.indexOf("## Metrics") + 1),
  );
  const listed = [...section.matchAll(/^\| `(mtproto2json_\w+)` +\| (\w+) /gm)]
    .map(([, name, type]) => `${name} ${type}`);
  const rendered = (parsePrometheus(new Metrics(schema).render()) as Family[])
    .map((family) => `${family.name} ${family.type.toLowerCase()}`);
  assertEquals(listed, rendered);
});

Deno.test("the WebSocket and HTTP fronts count their connections and their bytes as TCP does", async () => {
  const emulator = await startEmulator({ port: 0, log: () => {} });
  const metrics = new Metrics(schema);
  const fronts = serveFronts({
    schema,
    server: serverFlag(JSON.stringify(emulator.serverLine()))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds: 10 },
    transport: { kind: "intermediate" },
    log: () => {},
    metrics,
  });
  const utf8 = (text: string) => new TextEncoder().encode(text).length;
  try {
    // WebSocket: a call and a frame that is no JSON (with a non-ASCII letter), then closed.
    const socket = await openWebSocket(`ws://127.0.0.1:${fronts.httpPort}/v1/ws`);
    const frames: string[] = [];
    socket.onmessage = (event) => frames.push(event.data);
    const sent = ['{"id": 1, "message": {"_cons": "help.getNearestDc"}}', "{café"];
    for (const frame of sent) socket.send(frame);
    await until(() => frames.length === 2, 15_000, "both answers");
    await until(() => scrape(metrics).value("mtproto2json_connections", { front: "ws" }) === 1);
    socket.close();
    await until(() => scrape(metrics).value("mtproto2json_connections", { front: "ws" }) === 0);
    let { value } = scrape(metrics);
    assertEquals(value("mtproto2json_connections_total", { front: "ws" }), 1);
    // Frame payloads, each way: what was sent, and the answers as they arrived.
    assertEquals(
      value("mtproto2json_received_bytes_total", { front: "ws" }),
      sent.reduce((sum, frame) => sum + utf8(frame), 0),
    );
    assertEquals(
      value("mtproto2json_sent_bytes_total", { front: "ws" }),
      frames.reduce((sum, frame) => sum + utf8(frame), 0),
    );
    assertEquals(value("mtproto2json_connections_total", { front: "tcp" }), 0);

    // HTTP: each request is a connection of its own, open until its answer is whole; the bytes
    // are its body's and its answer's.
    const base = `http://127.0.0.1:${fronts.httpPort}`;
    let answered = 0;
    const call = async (path: string, body?: string, handle?: string) => {
      const response = await fetch(`${base}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: handle ? { authorization: `Bearer ${handle}` } : {},
        ...(body === undefined ? {} : { body }),
      });
      const bytes = new Uint8Array(await response.arrayBuffer());
      answered += bytes.length;
      return JSON.parse(new TextDecoder().decode(bytes));
    };
    const handle = (await call("/v1/sessions", "{}")).account;
    const nearest = await call(
      "/v1/help.getNearestDc",
      ' { "_cons" : "help.getNearestDc" } ',
      handle,
    );
    assertEquals(nearest._cons, "nearestDc");
    await call("/healthz");
    await until(() => scrape(metrics).value("mtproto2json_connections", { front: "http" }) === 0);
    ({ value } = scrape(metrics));
    assertEquals(value("mtproto2json_connections_total", { front: "http" }), 3);
    assertEquals(value("mtproto2json_received_bytes_total", { front: "http" }), 2 + 35);
    assertEquals(value("mtproto2json_sent_bytes_total", { front: "http" }), answered);
    assertEquals(value("mtproto2json_connections_total", { front: "ws" }), 1);
  } finally {
    await fronts.close();
    await emulator.close();
  }
});
