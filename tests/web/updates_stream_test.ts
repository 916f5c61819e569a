// GET /v1/updates (issue #20): managed updates as Server-Sent Events, resumed by Last-Event-ID
// exactly once, and as long polls, against the emulator in process.
import { assertEquals } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { type Emulator, startEmulator } from "../../lib/emulator/emulator.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { type ServedFronts, serveFronts } from "../support/serve_fronts.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signIn } from "../support/raw_calls.ts";
import { until } from "../support/until.ts";

type Line = Record<string, unknown>;

interface World {
  emulator: Emulator;
  fronts: ServedFronts;
  base: string;
  /** Bob writes to Alice. */
  send(text: string): Promise<unknown>;
}

async function withWorld(run: (world: World) => Promise<void>) {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const fronts = serveFronts({
    schema: loadSchema(),
    server: serverFlag(JSON.stringify(emulator.serverLine(1)))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds: 5 },
    transport: { kind: "intermediate" },
    log: () => {},
  });
  const sender = emulatedSender(emulator, 1);
  try {
    const bob = rawCaller(sender, codec);
    await signIn(bob, "+15550000002", "hunter2");
    const alice = emulator.world.users.get(1000001)!;
    const peer = { _cons: "inputPeerUser", user_id: alice.id, access_hash: alice.accessHash };
    let random = 1n;
    const send = (text: string) =>
      bob({ _cons: "messages.sendMessage", peer, message: text, random_id: random++ });
    await run({ emulator, fronts, base: `http://127.0.0.1:${fronts.httpPort}`, send });
  } finally {
    sender.close();
    await fronts.close();
    await emulator.close();
  }
}

async function post(base: string, path: string, body: unknown, bearer?: string): Promise<Line> {
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
    body: JSON.stringify(body),
  });
  const value = await response.json();
  if (response.status !== 200) {
    throw new Error(`${path}: ${response.status} ${JSON.stringify(value)}`);
  }
  return value;
}

/** A handle signed in as Alice through one-shot calls. */
async function aliceHandle(base: string): Promise<string> {
  const handle = (await post(base, "/v1/sessions", {})).account as string;
  const sent = await post(base, "/v1/auth.sendCode", {
    phone_number: "+15550000001",
    api_id: 12345,
    api_hash: "hash",
    settings: { _cons: "codeSettings" },
  }, handle);
  await post(base, "/v1/auth.signIn", {
    phone_number: "+15550000001",
    phone_code_hash: sent.phone_code_hash,
    phone_code: "12345",
  }, handle);
  return handle;
}

const textOf = (line: Line) =>
  (((line.message as TlObject | undefined)?.updates as TlObject[])?.[0]?.message as TlObject)
    ?.message as string | undefined;

/** One Server-Sent Event as a browser's EventSource sees it. */
interface SseEvent {
  type: string;
  id?: string;
  data: Line;
}

/**
 * Reads an event stream as EventSource does (events split by blank lines; `id:`, `event:`,
 * `data:` fields; comments ignored), handing each event on until the stream ends.
 */
async function readEvents(response: Response, onEvent: (event: SseEvent) => void) {
  let buffer = "";
  try {
    for await (const text of response.body!.pipeThrough(new TextDecoderStream())) {
      buffer += text;
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields: Record<string, string> = {};
        for (const row of block.split("\n")) {
          if (row.startsWith(":")) continue;
          const colon = row.indexOf(":");
          fields[row.slice(0, colon)] = row.slice(colon + 1).replace(/^ /, "");
        }
        if (fields.data === undefined) continue;
        onEvent({
          type: fields.event ?? "message",
          ...(fields.id !== undefined ? { id: fields.id } : {}),
          data: JSON.parse(fields.data),
        });
      }
    }
  } catch {
    // the connection dropped: the stream ends as EventSource's would
  }
}

/** A TCP relay in front of `port` whose connections can all be cut at once (a proxy restart). */
function relay(port: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  (async () => {
    for await (const client of listener) {
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port });
      open.add(client).add(upstream);
      client.readable.pipeTo(upstream.writable).catch(() => {});
      upstream.readable.pipeTo(client.writable).catch(() => {});
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    cut() {
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // closed already
        }
      }
      open.clear();
    },
    close() {
      this.cut();
      listener.close();
    },
  };
}

Deno.test("an event stream delivers each message as an event whose id is its cursor; cut mid-stream, it resumes by Last-Event-ID with exactly what it missed, in order", async () => {
  await withWorld(async ({ base, fronts, send }) => {
    const handle = await aliceHandle(base);
    const cut = relay(fronts.httpPort);
    const events: SseEvent[] = [];
    const stop = new AbortController();
    const open = (lastEventId?: string) =>
      fetch(`http://127.0.0.1:${cut.port}/v1/updates`, {
        signal: stop.signal,
        headers: {
          accept: "text/event-stream",
          authorization: `Bearer ${handle}`,
          ...(lastEventId ? { "last-event-id": lastEventId } : {}),
        },
      });
    try {
      const first = await open();
      assertEquals(first.status, 200);
      assertEquals(first.headers.get("content-type"), "text/event-stream");
      const reading = readEvents(first, (event) => events.push(event));
      await until(() => events.some((event) => event.type === "synced"));
      for (let i = 0; i < 3; i++) await send(`live ${i}`);
      await until(() => events.filter((event) => event.type === "message").length === 3);
      // Every update is an unnamed event carrying its cursor as id and its line as data.
      for (const event of events.filter((event) => event.type === "message")) {
        assertEquals(event.id, event.data.cursor);
      }
      // As EventSource keeps it: the id of the last event that had one.
      const lastEventId = events.findLast((event) => event.id !== undefined)!.id!;
      cut.cut();
      await reading;
      for (let i = 0; i < 4; i++) await send(`while cut ${i}`);

      const resumed: SseEvent[] = [];
      const second = await open(lastEventId);
      const reading2 = readEvents(second, (event) => resumed.push(event));
      await until(() => resumed.some((event) => event.type === "synced"));
      await send("after");
      await until(() => resumed.some((event) => textOf(event.data) === "after"));
      assertEquals(
        resumed.filter((event) => event.type === "message").map((event) => textOf(event.data)),
        ["while cut 0", "while cut 1", "while cut 2", "while cut 3", "after"],
      );
      assertEquals(resumed.find((event) => event.type === "synced")!.data.event, {
        type: "synced",
        cursor: resumed.find((event) => event.type === "synced")!.id,
        recovered: 4,
      });
      stop.abort();
      await reading2;
    } finally {
      cut.close();
    }
  });
});

Deno.test("long polling: what followed the cursor at once with the next cursor; nothing new waits for the first line to come; a timeout answers an empty batch", async () => {
  await withWorld(async ({ base, send }) => {
    const handle = await aliceHandle(base);
    const poll = async (query: string) => {
      const response = await fetch(`${base}/v1/updates${query}`, {
        headers: { authorization: `Bearer ${handle}` },
      });
      assertEquals(response.status, 200);
      return await response.json() as { updates: Line[]; cursor?: string };
    };
    // No cursor: subscribes from now; nothing came within the timeout.
    const start = await poll("?timeout=0");
    assertEquals(start.updates.map((line) => (line.event as Line)?.type), ["synced"]);
    await send("one");
    await send("two");
    const batch = await poll(`?cursor=${encodeURIComponent(start.cursor!)}&timeout=5`);
    assertEquals(batch.updates.map(textOf).filter(Boolean), ["one", "two"]);
    // The batch ends with synced, whose cursor is the one to ask with next.
    assertEquals(batch.cursor, (batch.updates.at(-1)!.event as Line).cursor);
    // Nothing new yet: the poll waits, and answers once Bob writes.
    const waiting = poll(`?cursor=${encodeURIComponent(batch.cursor!)}&timeout=20`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await send("three");
    const next = await waiting;
    assertEquals(next.updates.map(textOf).filter(Boolean), ["three"]);
    const empty = await poll(`?cursor=${encodeURIComponent(next.cursor!)}&timeout=0`);
    assertEquals(empty.updates.map(textOf).filter(Boolean), []);
    assertEquals(empty.cursor, (empty.updates.at(-1)!.event as Line).cursor);
  });
});

Deno.test("updates refuse an account that is not signed in (409) and a cursor that is not one (400), in JSON", async () => {
  await withWorld(async ({ base }) => {
    const fresh = (await post(base, "/v1/sessions", {})).account as string;
    const notSignedIn = await fetch(`${base}/v1/updates?timeout=0`, {
      headers: { authorization: `Bearer ${fresh}` },
    });
    assertEquals([notSignedIn.status, (await notSignedIn.json()).error], [409, "NotSignedIn"]);
    const handle = await aliceHandle(base);
    const bad = await fetch(`${base}/v1/updates?cursor=garbage&timeout=0`, {
      headers: { authorization: `Bearer ${handle}` },
    });
    assertEquals(bad.status, 400);
    assertEquals(typeof (await bad.json()).msg, "string");
    const anonymous = await fetch(`${base}/v1/updates`, {
      headers: { accept: "text/event-stream" },
    });
    assertEquals(anonymous.status, 401);
    await anonymous.body?.cancel();
  });
});
