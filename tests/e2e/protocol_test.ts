import { assertEquals } from "../assert.ts";
import { TlCodec } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { emulatedSender } from "../support/emulated_sender.ts";
import type { TransportOptions } from "../../lib/transport/transport.ts";
import { EVERY_TRANSPORT } from "../support/transports.ts";

const schema = loadSchema();
const codec = new TlCodec(schema);
const quiet = () => {};

async function withEmulator(
  options: Parameters<typeof startEmulator>[0],
  run: (emulator: Awaited<ReturnType<typeof startEmulator>>) => Promise<void>,
) {
  const emulator = await startEmulator({ port: 0, dcs: 2, log: quiet, ...options });
  try {
    await run(emulator);
  } finally {
    await emulator.close();
  }
}

function senderFor(
  emulator: Awaited<ReturnType<typeof startEmulator>>,
  transport: TransportOptions = { kind: "abridged" },
) {
  return emulatedSender(emulator, 2, { transport });
}

const getConfig = codec.encode({ _cons: "help.getConfig" });

function thisDc(answer: Uint8Array): number {
  const config = codec.decode(answer);
  if (config._cons !== "config") {
    throw new Error(`expected config, got ${JSON.stringify(config._cons)}`);
  }
  return config.this_dc as number;
}

Deno.test("an auth key is created and help.getConfig answered on every transport, over 127.0.0.1", async () => {
  await withEmulator({}, async (emulator) => {
    for (const transport of EVERY_TRANSPORT) {
      const sender = senderFor(emulator, transport);
      try {
        assertEquals(thisDc(await sender.invoke(getConfig)), 2, JSON.stringify(transport));
        assertEquals(sender.authKey?.length, 256);
      } finally {
        sender.close();
      }
    }
  });
});

Deno.test("1000 sequential and 1000 concurrent calls each get exactly one answer", async () => {
  await withEmulator({}, async (emulator) => {
    const sender = senderFor(emulator);
    try {
      for (let i = 0; i < 1000; i++) assertEquals(thisDc(await sender.invoke(getConfig)), 2);
      const answers = await Promise.all(
        Array.from({ length: 1000 }, () => sender.invoke(getConfig)),
      );
      assertEquals(answers.length, 1000);
      assertEquals(answers.every((answer) => thisDc(answer) === 2), true);
      assertEquals(sender.session?.pendingCount, 0);
    } finally {
      sender.close();
    }
  });
});
