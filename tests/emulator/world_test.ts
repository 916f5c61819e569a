import { assertEquals, assertStringIncludes } from "../assert.ts";
import { TlCodec, type TlObject } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { emulatedSender } from "../support/emulated_sender.ts";
import { rawCaller, signIn } from "../support/raw_calls.ts";
import { untilFound } from "../support/until.ts";

const codec = new TlCodec(loadSchema());
const quiet = () => {};
type Emulator = Awaited<ReturnType<typeof startEmulator>>;

/** A raw MTProto client: calls return the decoded answer, rpc_error included. */
function client(emulator: Emulator, dcId = 2, onUpdate?: (update: TlObject) => void) {
  const sender = emulatedSender(emulator, dcId, {
    onUpdate: (body) => onUpdate?.(codec.decode(body)),
  });
  const call = rawCaller(sender, codec);
  return { sender, call };
}

async function withEmulator(
  options: Parameters<typeof startEmulator>[0],
  run: (emulator: Emulator) => Promise<void>,
) {
  const emulator = await startEmulator({ port: 0, log: quiet, ...options });
  try {
    await run(emulator);
  } finally {
    await emulator.close();
  }
}

Deno.test("before sign-in, account calls answer 401 AUTH_KEY_UNREGISTERED; unknown methods say so", async () => {
  await withEmulator({}, async (emulator) => {
    const { sender, call } = client(emulator);
    try {
      const early = await call({
        _cons: "messages.getDialogs",
        offset_date: 0,
        offset_id: 0,
        offset_peer: { _cons: "inputPeerEmpty" },
        limit: 10,
        hash: 0,
      });
      assertEquals(early, {
        _cons: "rpc_error",
        error_code: 401,
        error_message: "AUTH_KEY_UNREGISTERED",
      });
      const unknown = await call({ _cons: "help.getInviteText" });
      assertEquals(unknown.error_message, "METHOD_NOT_IMPLEMENTED_IN_EMULATOR");
      const nearest = await call({ _cons: "help.getNearestDc" });
      assertEquals(nearest.this_dc, 2);
    } finally {
      sender.close();
    }
  });
});

Deno.test("phone, code, then a real SRP check for the 2FA user; a wrong code or password is refused", async () => {
  await withEmulator({}, async (emulator) => {
    const { sender, call } = client(emulator);
    try {
      const sent = await call({
        _cons: "auth.sendCode",
        phone_number: "+15550000002",
        api_id: 1,
        api_hash: "h",
        settings: { _cons: "codeSettings" },
      });
      const wrong = await call({
        _cons: "auth.signIn",
        phone_number: "+15550000002",
        phone_code_hash: sent.phone_code_hash,
        phone_code: "00000",
      });
      assertEquals(wrong.error_message, "PHONE_CODE_INVALID");
      const needsPassword = await call({
        _cons: "auth.signIn",
        phone_number: "+15550000002",
        phone_code_hash: sent.phone_code_hash,
        phone_code: "12345",
      });
      assertEquals(needsPassword.error_message, "SESSION_PASSWORD_NEEDED");
      const bad = await signIn(call, "+15550000002", "hunter3");
      assertEquals(bad.error_message, "PASSWORD_HASH_INVALID");
      const good = await signIn(call, "+15550000002", "hunter2");
      assertEquals((good.user as TlObject).first_name, "Bob");
      const self = await call({ _cons: "users.getUsers", id: [{ _cons: "inputUserSelf" }] });
      assertEquals((self.items as TlObject[])[0].id, 1000002n);
    } finally {
      sender.close();
    }
  });
});

Deno.test("an unknown phone signs up; a phone homed on another DC gets PHONE_MIGRATE", async () => {
  await withEmulator({ world: { homeDc: 1 } }, async (emulator) => {
    const { sender, call } = client(emulator, 2);
    try {
      const moved = await call({
        _cons: "auth.sendCode",
        phone_number: "+15550000001",
        api_id: 1,
        api_hash: "h",
        settings: { _cons: "codeSettings" },
      });
      assertEquals(moved, {
        _cons: "rpc_error",
        error_code: 303,
        error_message: "PHONE_MIGRATE_1",
      });
    } finally {
      sender.close();
    }
  });
  await withEmulator({}, async (emulator) => {
    const { sender, call } = client(emulator);
    try {
      const sent = await call({
        _cons: "auth.sendCode",
        phone_number: "+15559999999",
        api_id: 1,
        api_hash: "h",
        settings: { _cons: "codeSettings" },
      });
      const required = await call({
        _cons: "auth.signIn",
        phone_number: "+15559999999",
        phone_code_hash: sent.phone_code_hash,
        phone_code: "12345",
      });
      assertEquals(required._cons, "auth.authorizationSignUpRequired");
      const created = await call({
        _cons: "auth.signUp",
        phone_number: "+15559999999",
        phone_code_hash: sent.phone_code_hash,
        first_name: "Carol",
        last_name: "New",
      });
      assertEquals((created.user as TlObject).first_name, "Carol");
    } finally {
      sender.close();
    }
  });
});

Deno.test("dialogs, history, resolveUsername, full user; sending a message updates the peer's other session", async () => {
  await withEmulator({}, async (emulator) => {
    const alice = client(emulator);
    const updates: TlObject[] = [];
    const bob = client(emulator, 2, (update) => updates.push(update));
    // Bob again, on a connection whose every call says invokeWithoutUpdates (as clients' download
    // connections do): Telegram pushes no updates there.
    const quietUpdates: TlObject[] = [];
    const quietBob = client(emulator, 2, (update) => quietUpdates.push(update));
    const quietCall = (request: TlObject) =>
      quietBob.call({ _cons: "invokeWithoutUpdates", query: request });
    try {
      await signIn(alice.call, "+15550000001");
      await signIn(bob.call, "+15550000002", "hunter2");
      await signIn(quietCall, "+15550000002", "hunter2");
      const dialogs = await alice.call({
        _cons: "messages.getDialogs",
        offset_date: 0,
        offset_id: 0,
        offset_peer: { _cons: "inputPeerEmpty" },
        limit: 10,
        hash: 0,
      });
      assertEquals(dialogs._cons, "messages.dialogs");
      assertEquals((dialogs.dialogs as TlObject[]).length, 3);
      // Page by page, as clients iterate: each page starts after the last one's final dialog.
      const peerKey = (peer: TlObject) =>
        `${peer._cons}:${peer.user_id ?? peer.chat_id ?? peer.channel_id}`;
      const seen: string[] = [];
      let offset: Record<string, unknown> = {
        offset_date: 0,
        offset_id: 0,
        offset_peer: { _cons: "inputPeerEmpty" },
      };
      for (let page = 0; page < 5; page++) {
        const slice = await alice.call({
          _cons: "messages.getDialogs",
          ...offset,
          limit: 2,
          hash: 0,
        });
        const pageDialogs = slice.dialogs as TlObject[];
        if (pageDialogs.length === 0) break;
        assertEquals(slice._cons, "messages.dialogsSlice");
        assertEquals(slice.count, 3);
        seen.push(...pageDialogs.map((dialog) => peerKey(dialog.peer as TlObject)));
        const lastPeer = pageDialogs.at(-1)!.peer as TlObject;
        const top = (slice.messages as TlObject[]).find((message) =>
          message.id === pageDialogs.at(-1)!.top_message &&
          peerKey(message.peer_id as TlObject) === peerKey(lastPeer)
        )!;
        const user = (slice.users as TlObject[]).find((user) => user.id === lastPeer.user_id);
        const chat = (slice.chats as TlObject[]).find((chat) =>
          chat.id === (lastPeer.chat_id ?? lastPeer.channel_id)
        );
        offset = {
          offset_date: top.date,
          offset_id: top.id,
          offset_peer: user
            ? { _cons: "inputPeerUser", user_id: user.id, access_hash: user.access_hash }
            : chat?._cons === "channel"
            ? { _cons: "inputPeerChannel", channel_id: chat.id, access_hash: chat.access_hash }
            : { _cons: "inputPeerChat", chat_id: chat!.id },
        };
      }
      assertEquals(
        seen,
        (dialogs.dialogs as TlObject[]).map((dialog) => peerKey(dialog.peer as TlObject)),
      );
      const resolved = await alice.call({
        _cons: "contacts.resolveUsername",
        username: "bob_example",
      });
      const bobUser = (resolved.users as TlObject[])[0];
      const peer = {
        _cons: "inputPeerUser",
        user_id: bobUser.id,
        access_hash: bobUser.access_hash,
      };
      const history = await alice.call({
        _cons: "messages.getHistory",
        peer,
        offset_id: 0,
        offset_date: 0,
        add_offset: 0,
        limit: 10,
        max_id: 0,
        min_id: 0,
        hash: 0,
      });
      assertEquals((history.messages as TlObject[]).map((message) => message.message), [
        "Fine, testing mtproto2json.",
        "Hi Alice, how are you?",
        "Hi Bob!",
      ]);
      const full = await alice.call({
        _cons: "users.getFullUser",
        id: { _cons: "inputUser", user_id: bobUser.id, access_hash: bobUser.access_hash },
      });
      assertStringIncludes(String((full.full_user as TlObject).about), "emulator");
      const before = await bob.call({ _cons: "updates.getState" });
      const sent = await alice.call({
        _cons: "messages.sendMessage",
        peer,
        message: "hello from the test",
        random_id: 42n,
      });
      assertEquals(sent._cons, "updateShortSentMessage");
      const pushed = await untilFound(() => updates[0], 15_000, "the message pushed to Bob");
      assertEquals(pushed._cons, "updateShortMessage");
      assertEquals(pushed.message, "hello from the test");
      // A push is written before the answer to any later call on the same connection: once the
      // quiet connection has an answer to a call made now, a push meant for it would be in.
      await quietCall({ _cons: "updates.getState" });
      assertEquals(quietUpdates, [], "a session that asked for no updates gets none");
      const difference = await bob.call({
        _cons: "updates.getDifference",
        pts: before.pts,
        date: before.date,
        qts: 0,
      });
      assertEquals((difference.new_messages as TlObject[]).map((message) => message.message), [
        "hello from the test",
      ]);
      const wrongHash = await alice.call({
        _cons: "messages.sendMessage",
        peer: { ...peer, access_hash: 1n },
        message: "x",
        random_id: 1n,
      });
      assertEquals(wrongHash.error_message, "PEER_ID_INVALID");
    } finally {
      alice.sender.close();
      bob.sender.close();
      quietBob.sender.close();
    }
  });
});

Deno.test("authorization exported on one DC imports on another; files on another DC answer FILE_MIGRATE", async () => {
  await withEmulator({ world: { filesDc: 3 } }, async (emulator) => {
    const home = client(emulator, 2);
    const other = client(emulator, 3);
    try {
      await signIn(home.call, "+15550000001");
      const exported = await home.call({ _cons: "auth.exportAuthorization", dc_id: 3 });
      const location = {
        _cons: "inputDocumentFileLocation",
        id: 9000001n,
        access_hash: 9100000000000000001n,
        file_reference: new Uint8Array(0),
        thumb_size: "",
      };
      const migrate = await home.call({
        _cons: "upload.getFile",
        location,
        offset: 0,
        limit: 4096,
      });
      assertEquals(migrate.error_message, "FILE_MIGRATE_3");
      const imported = await other.call({
        _cons: "auth.importAuthorization",
        id: exported.id,
        bytes: exported.bytes,
      });
      assertEquals((imported.user as TlObject).first_name, "Alice");
      const part = await other.call({
        _cons: "upload.getFile",
        location,
        offset: 4096,
        limit: 4096,
      });
      assertEquals((part.bytes as Uint8Array).length, 4096);
      assertEquals((part.bytes as Uint8Array)[0], (4096 * 7) & 0xff);
      const again = await other.call({
        _cons: "auth.importAuthorization",
        id: exported.id,
        bytes: exported.bytes,
      });
      assertEquals(again.error_message, "AUTH_BYTES_INVALID");
    } finally {
      home.sender.close();
      other.sender.close();
    }
  });
});

Deno.test("a chosen method answers FLOOD_WAIT_X as many times as configured", async () => {
  await withEmulator(
    { world: { floodWait: { method: "help.getConfig", seconds: 3, times: 2 } } },
    async (emulator) => {
      const { sender, call } = client(emulator);
      try {
        assertEquals((await call({ _cons: "help.getConfig" })).error_message, "FLOOD_WAIT_3");
        assertEquals((await call({ _cons: "help.getConfig" })).error_code, 420);
        assertEquals((await call({ _cons: "help.getConfig" }))._cons, "config");
      } finally {
        sender.close();
      }
    },
  );
});

Deno.test("the world's usernames are as Telegram allows them: 5 to 32 characters", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: quiet });
  try {
    const names = [
      ...[...emulator.world.users.values()].map((user) => user.username),
      ...[...emulator.world.chats.values()].map((chat) => chat.username),
    ].filter((name): name is string => name !== undefined);
    assertEquals(names.length >= 3, true);
    for (const name of names) {
      assertEquals(/^[a-zA-Z][a-zA-Z0-9_]{4,31}$/.test(name), true, name);
    }
  } finally {
    await emulator.close();
  }
});
