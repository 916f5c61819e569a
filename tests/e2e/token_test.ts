import { assertEquals } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import { JsonClient } from "../support/json_client.ts";

const schema = loadSchema();
const TOKEN = "T0ken-the-right-one";
/** Short delays so that the test takes about two seconds: 50 ms doubling up to 400 ms. */
const BASE_MS = 50;
const CAP_MS = 400;

Deno.test("serve --token: wrong tokens on parallel connections are slowed down, counted and logged once; a request on the token line is answered", async () => {
  const emulator = await startEmulator({ port: 0, log: () => {} });
  const logged: string[] = [];
  const server = serve({
    schema,
    server: serverFlag(JSON.stringify(emulator.serverLine()))!,
    app: appIdentity("12345", "hash", "test"),
    transport: { kind: "intermediate" },
    log: (line) => logged.push(line),
    verbose: (line) => logged.push(line),
  }, {
    host: "127.0.0.1",
    port: 0,
    maxLine: 1024 * 1024,
    token: TOKEN,
    tokenThrottle: { baseMs: BASE_MS, capMs: CAP_MS },
  });
  const clients: JsonClient[] = [];
  const connect = async () => {
    const client = await JsonClient.connect(server.port);
    clients.push(client);
    return client;
  };
  try {
    // An operator's connection, authorized before the attack.
    const operator = await connect();
    await operator.send({ token: TOKEN });
    assertEquals((await operator.request({ id: 2, server: {} })).error, undefined);

    // Six guesses at once, each on its own connection.
    const guesses = 6;
    const start = performance.now();
    const refused = await Promise.all(
      Array.from({ length: guesses }, async (_, i) => {
        const guesser = await connect();
        await guesser.send({ token: `guess-${i}`, id: 1, health: {} });
        const line = await guesser.next(() => true);
        return { line, ms: performance.now() - start };
      }),
    );
    for (const { line } of refused) assertEquals([line.id, line.error], [-1, "Unauthorized"]);
    // The k-th failure in a row waits min(cap, base·2^(k-1)) before its refusal.
    const steps = Array.from({ length: guesses }, (_, k) => Math.min(CAP_MS, BASE_MS * 2 ** k));
    const elapsed = refused.map(({ ms }) => ms).sort((a, b) => a - b);
    for (let k = 0; k < guesses; k++) {
      assertEquals(elapsed[k] >= steps[k] - 1, true, `refusals at ${elapsed} ms, steps ${steps}`);
    }

    const health = await operator.request({ id: 3, health: {} });
    assertEquals((health.health as Record<string, unknown>).token_failures, {
      total: guesses,
      addresses_throttled: 1,
    });
    // One line for the address, however many guesses; no token, right or wrong, in any line.
    assertEquals(logged.filter((line) => line.includes("wrong token from 127.0.0.1")).length, 1);
    assertEquals(logged.some((line) => line.includes("guess-") || line.includes(TOKEN)), false);

    // The right token with a request on the same line: answered, once the address's penalties
    // (which queue: 50 + 100 + 200 + 400 + 400 + 400 ms) are over.
    const penalty = steps.reduce((a, b) => a + b);
    const client = await connect();
    await client.send({ token: TOKEN, id: 7, health: {} });
    const answer = await client.next(() => true);
    assertEquals(answer.id, 7);
    assertEquals(answer.error, undefined);
    assertEquals("token" in answer, false);
    assertEquals(
      ((answer.health as Record<string, unknown>).token_failures as { total: number }).total,
      guesses,
    );
    assertEquals(performance.now() - start >= penalty - 1, true, `answered before ${penalty} ms`);

    // A 64-bit integer on the token line arrives exact (and is shown as a string, as asked).
    const pinger = await connect();
    await pinger.sendText(
      `{"token": "${TOKEN}", "id": 8, "options": {"longs_as_strings": true}, ` +
        `"message": {"_cons": "ping", "ping_id": 9223372036854775807}}\n`,
    );
    const pong = await pinger.next(() => true);
    assertEquals(pong.id, 8);
    assertEquals((pong.message as Record<string, unknown>).ping_id, "9223372036854775807");
    assertEquals(logged.some((line) => line.includes(TOKEN)), false);
  } finally {
    for (const client of clients) client.close();
    await server.close();
    await emulator.close();
  }
});
