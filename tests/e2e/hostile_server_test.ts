/**
 * Every misbehaviour of the fake DCs (tests/support/hostile_world.ts, run as a process of its
 * own), through one `serve`, with a healthy connection pinging meanwhile: each request gets
 * exactly one answer within its timeout plus a second, none goes to the wrong request, and the
 * neighbour keeps being answered.
 */

import { assertEquals } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import { readLines } from "../../lib/io/lines.ts";
import { JsonClient } from "../support/json_client.ts";

const schema = loadSchema();
const quiet = () => {};
const TIMEOUT_S = 2;
const REQUESTS = 5;
const GOOD = new Set(["nearestDc", "rpc_error", "rpc_timeout"]);
const world = new URL("../support/hostile_world.ts", import.meta.url).pathname;

interface Row {
  behaviour: string;
  sent: number;
  answered: number;
  lost: number;
  wrong: number;
  maxMs: number;
  outcomes: string;
  /** The outcome of one more request after the burst: does the connection recover? */
  then: string;
}

/** Sends REQUESTS calls at once and sorts what comes back. */
async function burst(client: JsonClient, behaviour: string, firstId: number): Promise<Row> {
  const started = performance.now();
  const ids = Array.from({ length: REQUESTS }, (_, index) => firstId + index);
  const outcomes = new Map<string, number>();
  let answered = 0, wrong = 0, maxMs = 0;
  await Promise.all(ids.map(async (id) => {
    await client.send({ id, message: { _cons: "help.getNearestDc" } });
    try {
      const line = await client.next((candidate) => candidate.id === id, TIMEOUT_S * 1000 + 1500);
      maxMs = Math.max(maxMs, performance.now() - started);
      answered++;
      const message = line.message as Record<string, unknown> | undefined;
      const outcome = message ? String(message._cons) : String(line.error);
      if (message && !GOOD.has(outcome)) wrong++;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    } catch {
      // lost: counted below
    }
  }));
  // A second answer to any id would be a wrong answer too: it would come before the answer to
  // one more request sent after them all (lines already received and not taken included).
  const afterId = firstId + 100;
  const next = () => client.next((line) => line.id === afterId || ids.includes(line.id as number));
  const first = next();
  await client.send({ id: afterId, message: { _cons: "help.getNearestDc" } });
  let after = await first;
  for (; after.id !== afterId; after = await next()) wrong++;
  const afterMessage = after.message as Record<string, unknown> | undefined;
  return {
    behaviour,
    sent: REQUESTS,
    answered,
    lost: REQUESTS - answered,
    wrong,
    maxMs: Math.round(maxMs),
    outcomes: [...outcomes].map(([name, count]) => `${name}×${count}`).join(" "),
    then: afterMessage ? String(afterMessage._cons) : String(after.error),
  };
}

function printTable(rows: Row[], pings: number, p99: number) {
  const line = (cells: string[]) => console.log(cells.join(" | "));
  line(["behaviour".padEnd(23), "sent", "answered", "lost", "wrong", "max ms", "outcomes → then"]);
  for (const row of rows) {
    line([
      row.behaviour.padEnd(23),
      String(row.sent).padStart(4),
      String(row.answered).padStart(8),
      String(row.lost).padStart(4),
      String(row.wrong).padStart(5),
      String(row.maxMs).padStart(6),
      `${row.outcomes} → ${row.then}`,
    ]);
  }
  console.log(`neighbour: ${pings} pings meanwhile, p99 ${p99.toFixed(1)} ms`);
}

Deno.test("a hostile or failing server: one answer per request in time, none wrong, neighbours unaffected", async () => {
  const fakes = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", world],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const fakeLines = readLines(fakes.stdout)[Symbol.asyncIterator]();
  const fakeInput = fakes.stdin.getWriter();
  const first = await fakeLines.next();
  const { rsa, targets } = JSON.parse((first.value as { text: string }).text) as {
    rsa: string;
    targets: Record<string, number>;
  };
  const healthy = await startEmulator({ port: 0, dcs: 1, log: quiet });
  const server = serve({
    schema,
    server: serverFlag(JSON.stringify(healthy.serverLine()))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds: TIMEOUT_S },
    transport: { kind: "intermediate" },
    log: quiet,
  }, { host: "127.0.0.1", port: 0, maxLine: 1 << 20 });

  // The neighbour pings through serve every 20 ms for as long as the bursts run, from a
  // connection that is already up (its own key exchange is not what is measured). The pause is
  // the neighbour's pace, not a wait for anything: without it, it would be a load of its own on
  // two cores rather than a neighbour.
  const neighbour = await JsonClient.connect(server.port);
  await neighbour.request({ id: 1, message: { _cons: "ping", ping_id: 1 } });
  const latencies: number[] = [];
  let neighbourErrors = 0;
  let running = true;
  const pinging = (async () => {
    for (let id = 2; running; id++) {
      const started = performance.now();
      const line = await neighbour.request({ id, message: { _cons: "ping", ping_id: id } });
      latencies.push(performance.now() - started);
      if ((line.message as Record<string, unknown>)?._cons !== "pong") neighbourErrors++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();

  const clients: JsonClient[] = [];
  try {
    const rows = await Promise.all(
      Object.entries(targets).map(async ([behaviour, port], index) => {
        const client = await JsonClient.connect(server.port);
        clients.push(client);
        const setup = await client.request({
          id: 1,
          server: { host: "127.0.0.1", port, dc: 1, rsa, transport: "intermediate" },
          options: { timeout: TIMEOUT_S, connect_timeout: 1 },
        });
        assertEquals(setup.error, undefined, JSON.stringify(setup));
        if (behaviour.includes("-404")) {
          // A key that works, then a DC that has forgotten it. Making the key is set-up, not
          // what is measured: it gets more than the connection's deadlines, since 14 key
          // exchanges at once on two busy cores can take longer than a second.
          const warm = await client.request({
            id: 2,
            message: { _cons: "help.getNearestDc" },
            options: { timeout: 15, connect_timeout: 15 },
          });
          const warmed = (warm.message as Record<string, unknown> | undefined)?._cons;
          assertEquals(warmed, "nearestDc", JSON.stringify(warm));
          await fakeInput.write(new TextEncoder().encode(`forget ${behaviour}\n`));
          const answer = (await fakeLines.next()).value as { text: string };
          assertEquals(answer.text, `forgot ${behaviour}`);
        }
        return await burst(client, behaviour, 1000 * (index + 1));
      }),
    );
    running = false;
    await pinging;
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
    printTable(rows, latencies.length, p99);
    for (const row of rows) {
      assertEquals(row.lost, 0, `${row.behaviour}: lost`);
      assertEquals(row.wrong, 0, `${row.behaviour}: wrong`);
      assertEquals(row.maxMs <= (TIMEOUT_S + 1) * 1000, true, `${row.behaviour}: ${row.maxMs} ms`);
    }
    // Where the server is healthy again, so is the connection: no error for ever.
    for (const healed of ["replayed messages", "drops every 3rd message", "key forgotten (-404)"]) {
      assertEquals(rows.find((row) => row.behaviour === healed)?.then, "nearestDc", healed);
    }
    assertEquals(neighbourErrors, 0);
    // The figure to hold is p99 under 100 ms on an idle machine (printed above; `deno task bench`
    // measures it too). Tests run in parallel on two noisy cores, so the assertion only rules out
    // what this test exists for: a neighbour frozen behind a hostile server.
    assertEquals(p99 < 1000, true, `neighbour p99 ${p99} ms`);
  } finally {
    running = false;
    await pinging.catch(() => {});
    for (const client of clients) client.close();
    neighbour.close();
    await server.close();
    await healthy.close();
    await fakeInput.close().catch(() => {});
    fakes.kill("SIGTERM");
    await fakes.status;
  }
});
