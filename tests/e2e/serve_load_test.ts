import { assertEquals, assertStringIncludes } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import { JsonClient } from "../support/json_client.ts";
import { nothingBefore } from "../support/quiet.ts";

const schema = loadSchema();
const quiet = () => {};

Deno.test("200 client connections with 50 requests in flight each are all answered exactly once", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: quiet });
  const server = serve({
    schema,
    server: serverFlag(JSON.stringify(emulator.serverLine()))!,
    app: appIdentity("12345", "hash", "test"),
    transport: { kind: "intermediate" },
    // 200 key exchanges at once on a 2-core machine busy with other tests can take longer than
    // the default 10 s: what this test is about is that every answer comes exactly once.
    behaviour: { timeoutSeconds: 60, connectTimeoutSeconds: 60 },
  }, { host: "127.0.0.1", port: 0, maxLine: 1 << 20 });
  try {
    const clients = await Promise.all(
      Array.from({ length: 200 }, () => JsonClient.connect(server.port)),
    );
    try {
      const results = await Promise.all(clients.map(async (client, c) => {
        const ids = Array.from({ length: 50 }, (_, i) => c * 1000 + i + 1);
        await Promise.all(
          ids.map((id) => client.send({ id, message: { _cons: "ping", ping_id: id } })),
        );
        const answers = await Promise.all(
          ids.map((id) => client.next((line) => line.id === id, 60000)),
        );
        return answers.every((answer, i) =>
          (answer.message as Record<string, unknown>).ping_id === ids[i]
        );
      }));
      assertEquals(results.every(Boolean), true);
      // Nothing answered twice: on every connection, a last ping's answer is the next line. The
      // DC answers in order, so a second answer to an earlier ping would come before it.
      await Promise.all(clients.map(async (client, c) => {
        const id = c * 1000 + 999;
        const last = await nothingBefore(client, {
          id,
          message: { _cons: "ping", ping_id: id },
        }, 60_000);
        assertEquals((last.message as Record<string, unknown>).ping_id, id);
      }));
    } finally {
      for (const client of clients) client.close();
    }
  } finally {
    await server.close();
    await emulator.close();
  }
});

Deno.test("with --token, a client must present it first; without, a public address is refused", async () => {
  const defaults = { schema, app: appIdentity(undefined, undefined, "test") };
  let refused = "";
  try {
    serve(defaults, { host: "0.0.0.0", port: 0, maxLine: 1024 });
  } catch (error) {
    refused = (error as Error).message;
  }
  assertStringIncludes(refused, "without --token");
  const server = serve(defaults, { host: "127.0.0.1", port: 0, maxLine: 1024, token: "s3cret" });
  try {
    const stranger = await JsonClient.connect(server.port);
    await stranger.send({ id: 1, message: { _cons: "ping", ping_id: 1 } });
    assertEquals((await stranger.next((line) => line.id === -1)).error, "Unauthorized");
    stranger.close();
    const friend = await JsonClient.connect(server.port);
    await friend.send({ token: "s3cret" });
    const read = await friend.request({ id: 2, server: {} });
    assertEquals((read.server as Record<string, unknown>).dc, 2);
    friend.close();
  } finally {
    await server.close();
  }
});
