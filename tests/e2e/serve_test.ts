import { assertEquals } from "../assert.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import type { JsonClient } from "../support/json_client.ts";
import { type Front, FRONTS, serveFronts } from "../support/serve_fronts.ts";
import { signInAlice, signInBob } from "../support/processes.ts";

const schema = loadSchema();
const quiet = () => {};
type Emulator = Awaited<ReturnType<typeof startEmulator>>;

/**
 * Runs `run` against serve's `front`: the TCP port, or the web front's WebSocket (the same
 * protocol, so the same test holds over both).
 */
async function withServe(
  front: Front,
  run: (connect: () => Promise<JsonClient>, emulator: Emulator) => Promise<void>,
  emulatorOptions: Parameters<typeof startEmulator>[0] = {},
  serveOptions: { maxLine?: number; clock?: FakeClock } = {},
) {
  const clock = serveOptions.clock;
  const emulator = await startEmulator({
    port: 0,
    log: quiet,
    ...(clock ? { clock } : {}),
    ...emulatorOptions,
  });
  const server = serveFronts({
    ...(clock ? { clock } : {}),
    schema,
    server: serverFlag(JSON.stringify(emulator.serverLine()))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds: 5 },
    transport: { kind: "intermediate" },
  }, { maxLine: serveOptions.maxLine ?? 16 * 1024 * 1024 });
  try {
    await run(() => server.connect(front), emulator);
  } finally {
    await server.close();
    await emulator.close();
  }
}

for (const front of FRONTS) {
  Deno.test(`[${front}] the original README's examples work through serve, with responses of the documented shapes`, async () => {
    await withServe(front, async (connect) => {
      const client = await connect();
      try {
        // The ping with id 100.
        const pong = await client.request({ id: 100, message: { _cons: "ping", ping_id: 100 } });
        assertEquals(pong.id, 100);
        assertEquals((pong.message as Record<string, unknown>)._cons, "pong");
        assertEquals((pong.message as Record<string, unknown>).ping_id, 100);
        // invokeWithLayer with _wrapped initConnection (the original example's layer 66).
        const wrapped = await client.request({
          id: 104,
          message: {
            _cons: "invokeWithLayer",
            layer: 66,
            _wrapped: {
              _cons: "initConnection",
              api_id: 33333,
              device_model: "test",
              system_version: "1",
              app_version: "1",
              system_lang_code: "en",
              lang_pack: "",
              lang_code: "en",
              query: { _cons: "help.getConfig" },
            },
          },
        });
        assertEquals((wrapped.message as Record<string, unknown>)._cons, "config");
        // Reading server and session; id defaults to 1.
        const read = await client.request({ server: {}, session: {} });
        assertEquals(read.id, 1);
        assertEquals((read.server as Record<string, unknown>).host, "127.0.0.1");
        assertEquals(typeof (read.session as Record<string, unknown>).auth_key, "string");
        // messages.getDialogs with inputPeerEmpty, exactly as the original README sends it: layer
        // 66 had no `hash`; a missing cache hash is sent as 0 ("nothing cached").
        await signInAlice(client);
        const dialogs = await client.request({
          message: {
            _cons: "messages.getDialogs",
            offset_date: 0,
            offset_id: 0,
            offset_peer: { _cons: "inputPeerEmpty" },
            limit: 0,
          },
        });
        assertEquals(dialogs.id, 1, JSON.stringify(dialogs));
        assertEquals(dialogs.error, undefined, JSON.stringify(dialogs));
        assertEquals((dialogs.message as Record<string, unknown>)._cons, "messages.dialogs");
        // Any other missing field is still an error naming it.
        const missing = await client.request({
          id: 12,
          message: { _cons: "messages.getDialogs", offset_date: 0, offset_id: 0, limit: 0 },
        });
        assertEquals([missing.error, missing.msg], [
          "MissingField",
          "messages.getDialogs: missing required field offset_peer",
        ]);
      } finally {
        client.close();
      }
    });
  });
}

for (const front of FRONTS) {
  Deno.test(`[${front}] a session read back and pasted into a fresh connection resumes without a new login`, async () => {
    await withServe(front, async (connect) => {
      const first = await connect();
      const session = await (async () => {
        try {
          await signInAlice(first);
          return (await first.request({ id: 5, session: {} })).session as Record<string, unknown>;
        } finally {
          first.close();
        }
      })();
      assertEquals(session.user_id, 1000001);
      const second = await connect();
      try {
        const loaded = await second.request({ id: 1, session });
        assertEquals((loaded.session as Record<string, unknown>).auth_key, session.auth_key);
        const me = await second.request({
          id: 2,
          message: { _cons: "users.getUsers", id: [{ _cons: "inputUserSelf" }] },
        });
        assertEquals((me.message as Record<string, unknown>[])[0].first_name, "Alice");
        // The original's {"auth_key", "session_id"} form loads too.
        const original = await connect();
        try {
          const legacy = await original.request({
            server: session.server,
            session: { auth_key: session.auth_key, session_id: 53201012847611012222 },
          });
          assertEquals(typeof (legacy.session as Record<string, unknown>).session_id, "number");
          const again = await original.request({
            id: 3,
            message: { _cons: "users.getUsers", id: [{ _cons: "inputUserSelf" }] },
          });
          assertEquals((again.message as Record<string, unknown>[])[0].id, 1000001);
        } finally {
          original.close();
        }
      } finally {
        second.close();
      }
    });
  });
}

for (const front of FRONTS) {
  Deno.test(`[${front}] a phone homed on another DC signs in there with no client action, and the session points there`, async () => {
    await withServe(front, async (connect, emulator) => {
      const client = await connect();
      try {
        await signInAlice(client);
        const session = (await client.request({ id: 7, session: {} })).session as Record<
          string,
          unknown
        >;
        assertEquals(session.dc, 3);
        assertEquals((session.server as Record<string, unknown>).port, emulator.dcs[2].port);
      } finally {
        client.close();
      }
    }, { world: { homeDc: 3 } });
  });
}

for (const front of FRONTS) {
  Deno.test(`[${front}] rpc errors, flood waits and files on another DC come back as documented`, async () => {
    const clock = new FakeClock();
    await withServe(
      front,
      async (connect) => {
        const client = await connect();
        try {
          const early = await client.request({ id: 1, message: { _cons: "updates.getState" } });
          assertEquals(early.message, {
            _cons: "rpc_error",
            error_code: 401,
            error_message: "AUTH_KEY_UNREGISTERED",
          });
          await signInAlice(client);
          // The 1-second flood wait passes on the fake clock: not before it has moved 1000 ms.
          const started = clock.now();
          let waited: Record<string, unknown> | undefined;
          const asked = client.request({ id: 2, message: { _cons: "help.getNearestDc" } }, 60_000)
            .then((line) => waited = line);
          while (!waited) await clock.advance(100);
          await asked;
          assertEquals((waited.message as Record<string, unknown>)._cons, "nearestDc");
          assertEquals(
            clock.now() - started >= 1000,
            true,
            "the 1-second flood wait was waited out",
          );
          const file = await client.request({
            id: 3,
            message: {
              _cons: "upload.getFile",
              location: {
                _cons: "inputDocumentFileLocation",
                id: 9000001,
                access_hash: "9100000000000000001",
                file_reference: "",
                thumb_size: "",
              },
              offset: 0,
              limit: 4096,
            },
          });
          assertEquals(
            (file.message as Record<string, unknown> | undefined)?._cons,
            "upload.file",
            JSON.stringify(file),
          );
          assertEquals(
            Uint8Array.fromBase64((file.message as Record<string, unknown>).bytes as string).length,
            4096,
          );
        } finally {
          client.close();
        }
      },
      { world: { floodWait: { method: "help.getNearestDc", seconds: 1, times: 1 }, filesDc: 3 } },
      {
        clock,
      },
    );
  });
}

for (const front of FRONTS) {
  Deno.test(`[${front}] a message to another account arrives on that account's connection as an update with id 0`, async () => {
    await withServe(front, async (connect) => {
      const alice = await connect();
      const bob = await connect();
      try {
        await signInAlice(alice);
        await signInBob(bob);
        // A JavaScript client's JSON.parse would round 64-bit integers: ask for them as strings.
        const options = await alice.request({ id: 3, options: { longs_as_strings: true } });
        assertEquals((options.options as Record<string, unknown>).longs_as_strings, true);
        const resolved = await alice.request({
          id: 10,
          message: { _cons: "contacts.resolveUsername", username: "bob_example" },
        });
        const user =
          ((resolved.message as Record<string, unknown>).users as Record<string, unknown>[])[0];
        const accessHash = user.access_hash;
        assertEquals(accessHash, "5446744073709551616");
        const sent = await alice.request({
          id: 11,
          message: {
            _cons: "messages.sendMessage",
            peer: { _cons: "inputPeerUser", user_id: user.id, access_hash: accessHash },
            message: "hi Bob",
            random_id: 7,
          },
        });
        assertEquals(
          (sent.message as Record<string, unknown>)._cons,
          "updateShortSentMessage",
          JSON.stringify(sent),
        );
        // Managed (the default): the full message, with the users it names and a cursor.
        const update = await bob.next((line) => line.id === 0 && line.message !== undefined);
        const updates = update.message as Record<string, unknown>;
        const [first] = updates.updates as Record<string, unknown>[];
        assertEquals(first._cons, "updateNewMessage");
        assertEquals((first.message as Record<string, unknown>).message, "hi Bob");
        assertEquals(
          (updates.users as Record<string, unknown>[]).some((u) => u.first_name === "Alice"),
          true,
        );
        assertEquals(typeof update.cursor, "string");
        // Raw: what Telegram pushed, as it pushed it.
        await bob.request({ id: 20, options: { updates: "raw" } });
        await alice.request({
          id: 12,
          message: {
            _cons: "messages.sendMessage",
            peer: { _cons: "inputPeerUser", user_id: user.id, access_hash: accessHash },
            message: "hi again",
            random_id: 8,
          },
        });
        const raw = await bob.next((line) =>
          line.id === 0 && (line.message as Record<string, unknown>)?._cons === "updateShortMessage"
        );
        assertEquals((raw.message as Record<string, unknown>).message, "hi again");
        assertEquals(raw.cursor, undefined);
      } finally {
        alice.close();
        bob.close();
      }
    });
  });
}

for (const front of FRONTS) {
  Deno.test(`[${front}] bad input gets the documented errors, the connection stays usable, and a busy client notices nothing`, async () => {
    await withServe(
      front,
      async (connect) => {
        const busy = await connect();
        const bad = await connect();
        try {
          const burst = Promise.all(
            Array.from(
              { length: 300 },
              (_, i) => busy.request({ id: i + 1, message: { _cons: "ping", ping_id: i } }),
            ),
          );
          await bad.sendText("{not json\n");
          assertEquals(
            (await bad.next((line) => line.id === -2)).error,
            "BadJson",
          );
          const unknown = await bad.request({ id: 5, message: { _cons: "messages.getDialogz" } });
          assertEquals([unknown.error, unknown.msg], [
            "UnknownConstructor",
            "unknown constructor messages.getDialogz",
          ]);
          const wrongType = await bad.request({
            id: 6,
            message: { _cons: "help.getNearestDc", extra: 1 },
          });
          assertEquals(wrongType.error, "UnknownField");
          const wrongField = await bad.request({
            id: 7,
            message: {
              _cons: "messages.getHistory",
              peer: { _cons: "inputPeerSelf" },
              offset_id: "x",
              offset_date: 0,
              add_offset: 0,
              limit: 1,
              max_id: 0,
              min_id: 0,
              hash: 0,
            },
          });
          assertEquals([wrongField.error, wrongField.msg], [
            "WrongType",
            'messages.getHistory.offset_id: expected int, got string "x"',
          ]);
          const notObject = await bad.request({ id: 8, message: [1, 2] });
          assertEquals(notObject.error, "WrongType");
          await bad.sendText("x".repeat(20 * 1024 * 1024) + "\n");
          const tooLong = await bad.next((line) => line.id === -1, 30000);
          assertEquals(tooLong.error, "LineTooLong");
          await bad.sendText(
            String.fromCharCode(
              ...Array.from({ length: 200 }, (_, i) => (i * 37) % 256).filter((c) => c !== 10),
            ) + "\n",
          );
          assertEquals((await bad.next((line) => line.id === -2)).error, "BadJson");
          await bad.sendText("[1,2,3]\n");
          assertEquals((await bad.next((line) => line.id === -2)).error, "NotAnObject");
          const stillFine = await bad.request({ id: 9, message: { _cons: "ping", ping_id: 9 } });
          assertEquals((stillFine.message as Record<string, unknown>).ping_id, 9);
          const answers = await burst;
          assertEquals(
            answers.map((answer) => (answer.message as Record<string, unknown>).ping_id),
            Array.from({ length: 300 }, (_, i) => i),
          );
        } finally {
          busy.close();
          bad.close();
        }
      },
      {},
      { maxLine: 16 * 1024 * 1024 },
    );
  });
}
