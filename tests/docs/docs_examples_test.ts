import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import type { WorldOptions } from "../../lib/emulator/world.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { appIdentity, serverFlag } from "../../lib/cli/proxy_command.ts";
import { JsonClient } from "../e2e/json_client.ts";
import { signInAlice } from "../support/processes.ts";
import { mismatch, type Transcript, transcriptsOf } from "./transcripts.ts";

const docs = new URL("../../docs/", import.meta.url).pathname;
const schema = loadSchema();

/** Runs one transcript against a fresh emulator and serve; throws where it goes astray. */
async function replay(transcript: Transcript): Promise<void> {
  const world: WorldOptions = {};
  for (const word of transcript.setup) {
    const flood = /^flood-wait=([\w.]+):(\d+)$/.exec(word);
    if (flood) world.floodWait = { method: flood[1], seconds: Number(flood[2]), times: 1 };
  }
  const emulator = await startEmulator({ port: 0, log: () => {}, world });
  const proxy = serve({
    schema,
    server: serverFlag(JSON.stringify(emulator.serverLine()))!,
    app: appIdentity("12345", "hash", "docs"),
    behaviour: { timeoutSeconds: 5 },
    transport: { kind: "intermediate" },
  }, { host: "127.0.0.1", port: 0, maxLine: 1 << 24 });
  const client = await JsonClient.connect(proxy.port);
  const where = (line: number) => `${transcript.file}:${line}`;
  try {
    if (transcript.setup.includes("alice")) {
      await signInAlice(client);
      await client.next((line) => (line.event as { type?: string })?.type === "synced");
      client.updates.length = 0;
    }
    let lastId: unknown;
    for (const step of transcript.steps) {
      if (step.send !== undefined) {
        lastId = step.id;
        await client.sendText(step.send + "\n");
        continue;
      }
      const expected = step.expect as Record<string, unknown>;
      const id = expected.id ?? lastId;
      let actual: Record<string, unknown>;
      try {
        actual = id === 0
          ? await client.next(
            (line) => line.id === 0 && mismatch(expected, line) === undefined,
            5000,
          )
          : await client.next((line) => line.id === id, 10_000);
      } catch {
        const seen = client.updates.map((line) => JSON.stringify(line)).join("\n  ");
        throw new Error(
          `${where(step.line)}: no line like ${JSON.stringify(expected)}; id 0 lines:\n  ${seen}`,
        );
      }
      const found = mismatch(expected, actual);
      if (found) throw new Error(`${where(step.line)}: ${found}\n  got ${JSON.stringify(actual)}`);
    }
  } finally {
    client.close();
    await proxy.close();
    await emulator.close();
  }
}

for await (const entry of Deno.readDir(docs)) {
  if (!entry.name.endsWith(".md")) continue;
  const text = await Deno.readTextFile(`${docs}${entry.name}`);
  for (const transcript of transcriptsOf(`docs/${entry.name}`, text)) {
    Deno.test(`docs/${entry.name}:${transcript.line} runs as shown`, () => replay(transcript));
  }
}
