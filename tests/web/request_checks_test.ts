import { assertEquals, assertStringIncludes } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { appIdentity } from "../../lib/cli/server_flags.ts";
import { serveHttp, type WebServer } from "../../lib/web/web_server.ts";
import { until, within } from "../support/until.ts";

const schema = loadSchema();

/** A web front with no upstream: these tests never reach Telegram. */
async function withFront(
  run: (web: WebServer, base: string) => Promise<void>,
  maxStreamsPerAddress: number,
) {
  const web = serveHttp(
    { schema, app: appIdentity("12345", "hash", "test"), log: () => {} },
    { host: "127.0.0.1", port: 0, maxLine: 65_536, maxStreamsPerAddress },
  );
  try {
    await run(web, `http://127.0.0.1:${web.port}`);
  } finally {
    await web.close();
  }
}

/** A raw request whose body never all arrives (ten bytes promised, four sent): it stays open. */
async function hangingBody(port: number): Promise<Deno.TcpConn> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  await connection.write(new TextEncoder().encode(
    `POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 10\r\n\r\n{"se`,
  ));
  return connection;
}

Deno.test("one address keeps at most --max-streams requests open: one more is refused 429, and each answered or abandoned request gives its place back", async () => {
  await withFront(async (web, base) => {
    // Answered requests give their places back: more of them than the limit, one after another.
    for (let i = 0; i < 5; i++) {
      const health = await fetch(`${base}/healthz`);
      assertEquals(health.status, 200, await health.text());
    }
    const held = [await hangingBody(web.port), await hangingBody(web.port)];
    let refused: Response | undefined;
    await until(
      async () => {
        refused = await fetch(`${base}/healthz`);
        await refused.body?.cancel();
        return refused.status === 429;
      },
      15_000,
      "the two hanging requests to hold both places",
    );
    assertEquals(refused!.headers.get("retry-after"), "1");
    const again = await fetch(`${base}/healthz`);
    assertEquals([again.status, (await again.json()).error], [429, "TooManyStreams"]);
    // A client that goes away mid-body gives its place back.
    held[0].close();
    await until(
      async () => {
        const health = await fetch(`${base}/healthz`);
        await health.body?.cancel();
        return health.status === 200;
      },
      15_000,
      "the abandoned request's place",
    );
    held[1].close();
  }, 2);
});

Deno.test("a path served with other methods is answered 405 with Allow, and an unknown one 404, each time it is asked", async () => {
  await withFront(async (_web, base) => {
    for (let i = 0; i < 3; i++) {
      const wrong = await within(fetch(`${base}/v1/sessions`), 15_000, "the 405");
      assertEquals([wrong.status, wrong.headers.get("allow")], [405, "POST, DELETE"]);
      assertStringIncludes(await wrong.text(), '"error":"MethodNotAllowed"');
      const missing = await fetch(`${base}/v2/nothing`);
      assertEquals(missing.status, 404);
      assertStringIncludes(await missing.text(), '"error":"NotFound"');
    }
    // The catch-all pattern matches by method name: GET on a method's path is 405 (POST only).
    const method = await fetch(`${base}/v1/help.getNearestDc`);
    assertEquals([method.status, method.headers.get("allow")], [405, "POST"]);
    await method.body?.cancel();
  }, 64);
});
