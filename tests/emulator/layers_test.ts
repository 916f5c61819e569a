import { assertEquals, assertStringIncludes } from "../assert.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { TlCodec, type TlObject } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { emulatedSender } from "../support/emulated_sender.ts";
import { laterLayerText } from "../support/later_layer.ts";
import { rawCaller, signInWithCode } from "../support/raw_calls.ts";

Deno.test("the emulator serves another layer's schema, fitting its world to it", async () => {
  const schema = loadSchema([{ name: "later.tl", text: await laterLayerText() }]);
  assertEquals(schema.layer, 999);
  const codec = new TlCodec(schema);
  const logs: string[] = [];
  const emulator = await startEmulator({ port: 0, schema, log: (line) => logs.push(line) });
  const sender = emulatedSender(emulator);
  const call = rawCaller(sender, codec);
  try {
    await signInWithCode(call, "+15550000001");
    const dialogs = await call({
      _cons: "invokeWithLayer",
      layer: 999,
      query: {
        _cons: "messages.getDialogs",
        offset_date: 0,
        offset_id: 0,
        offset_peer: { _cons: "inputPeerEmpty" },
        limit: 10,
        hash: 0,
      },
    });
    const first = (dialogs.dialogs as TlObject[])[0];
    assertEquals(first._cons, "dialog");
    assertEquals(first.stars_spent, 0n, "a field the world never heard of, filled in");
    assertEquals((dialogs.dialogs as TlObject[]).length, 3);
    assertEquals(logs.some((line) => line.includes("declares layer")), false);

    // A client declaring another layer than the one served is told about it in the log.
    await call({ _cons: "invokeWithLayer", layer: 223, query: { _cons: "help.getNearestDc" } });
    assertStringIncludes(
      logs.join("\n"),
      "the client declares layer 223, the emulator serves layer 999",
    );
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("getDialogFilters answers the type the served layer declares: a bare vector in older layers", async () => {
  const shipped = await Deno.readTextFile(new URL("../../scheme/api.tl", import.meta.url));
  // Before layer 177 the method returned Vector<DialogFilter> (its id then was f19ed96d).
  const older = shipped.replace(
    /^messages\.getDialogFilters#efd48c89 .*$/m,
    "messages.getDialogFilters#f19ed96d = Vector<DialogFilter>;",
  );
  for (const [text, expected] of [[shipped, "messages.dialogFilters"], [older, "vector"]]) {
    const codec = new TlCodec(loadSchema([{ name: "api.tl", text }]));
    const emulator = await startEmulator({
      port: 0,
      schema: codec.schema,
      log: () => {},
    });
    const sender = emulatedSender(emulator);
    const call = rawCaller(sender, codec);
    try {
      await signInWithCode(call, "+15550000001");
      assertEquals((await call({ _cons: "messages.getDialogFilters" }))._cons, expected);
    } finally {
      sender.close();
      await emulator.close();
    }
  }
});
