import { assertEquals } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signInWithCode } from "../support/raw_calls.ts";

/** Each start-up call a full client makes, with the arguments it sends, and what comes back. */
const CALLS: [TlObject, string][] = [
  [{ _cons: "messages.getPinnedDialogs", folder_id: 0 }, "messages.peerDialogs"],
  [{ _cons: "help.getAppConfig", hash: 0 }, "help.appConfig"],
  [{ _cons: "help.getPromoData" }, "help.promoDataEmpty"],
  [{ _cons: "help.getTermsOfServiceUpdate" }, "help.termsOfServiceUpdateEmpty"],
  [{ _cons: "help.getPeerColors", hash: 0 }, "help.peerColors"],
  [{ _cons: "help.getPeerProfileColors", hash: 0 }, "help.peerColors"],
  [
    { _cons: "account.getNotifySettings", peer: { _cons: "inputNotifyUsers" } },
    "peerNotifySettings",
  ],
  [{ _cons: "account.getContentSettings" }, "account.contentSettings"],
  [{ _cons: "account.getReactionsNotifySettings" }, "reactionsNotifySettings"],
  [{ _cons: "messages.getDialogFilters" }, "messages.dialogFilters"],
  [{ _cons: "messages.getAvailableReactions", hash: 0 }, "messages.availableReactions"],
  [{ _cons: "messages.getAvailableEffects", hash: 0 }, "messages.availableEffects"],
  [
    { _cons: "messages.getPeerSettings", peer: { _cons: "inputPeerSelf" } },
    "messages.peerSettings",
  ],
  [{ _cons: "messages.getAttachMenuBots", hash: 0 }, "attachMenuBots"],
  [
    {
      _cons: "messages.getStickerSet",
      stickerset: { _cons: "inputStickerSetAnimatedEmoji" },
      hash: 0,
    },
    "messages.stickerSet",
  ],
  [
    { _cons: "contacts.getTopPeers", correspondents: true, offset: 0, limit: 20, hash: 0 },
    "contacts.topPeers",
  ],
  [{ _cons: "contacts.getBirthdays" }, "contacts.contactBirthdays"],
  [{ _cons: "contacts.getContacts", hash: 0 }, "contacts.contacts"],
  [
    {
      _cons: "photos.getUserPhotos",
      user_id: { _cons: "inputUserSelf" },
      offset: 0,
      max_id: 0,
      limit: 10,
    },
    "photos.photos",
  ],
];

/** Calls an app makes before sign-in (localization), answered then as on Telegram. */
const BEFORE_SIGN_IN: [TlObject, string][] = [
  [{ _cons: "help.getCountriesList", lang_code: "en", hash: 0 }, "help.countriesList"],
  [{ _cons: "langpack.getLangPack", lang_pack: "android", lang_code: "en" }, "langPackDifference"],
  [{ _cons: "langpack.getStrings", lang_pack: "android", lang_code: "en", keys: ["k"] }, "vector"],
  [
    { _cons: "langpack.getDifference", lang_pack: "android", lang_code: "en", from_version: 0 },
    "langPackDifference",
  ],
  [{ _cons: "langpack.getLanguages", lang_pack: "android" }, "vector"],
  [{ _cons: "langpack.getLanguage", lang_pack: "android", lang_code: "en" }, "langPackLanguage"],
];

/** Calls an app makes every day once signed in (see also the dedicated tests of each). */
const EVERY_DAY: [TlObject, string][] = [
  [
    {
      _cons: "messages.getDialogs",
      folder_id: 1,
      offset_date: 0,
      offset_id: 0,
      offset_peer: { _cons: "inputPeerEmpty" },
      limit: 20,
      hash: 0,
    },
    "messages.dialogs",
  ],
  [
    {
      _cons: "folders.editPeerFolders",
      folder_peers: [{
        _cons: "inputFolderPeer",
        peer: {
          _cons: "inputPeerChannel",
          channel_id: 3000002,
          access_hash: 7000000000000000002n,
        },
        folder_id: 1,
      }],
    },
    "updates",
  ],
  [{ _cons: "account.getAuthorizations" }, "account.authorizations"],
  [{ _cons: "auth.resetAuthorizations" }, "boolTrue"],
  [{ _cons: "account.updateStatus", offline: { _cons: "boolFalse" } }, "boolTrue"],
  [
    {
      _cons: "account.registerDevice",
      token_type: 2,
      token: "t",
      app_sandbox: { _cons: "boolFalse" },
      secret: new Uint8Array(0),
      other_uids: [],
    },
    "boolTrue",
  ],
  [{ _cons: "account.unregisterDevice", token_type: 2, token: "t", other_uids: [] }, "boolTrue"],
  [
    {
      _cons: "messages.setTyping",
      peer: { _cons: "inputPeerSelf" },
      action: { _cons: "sendMessageTypingAction" },
    },
    "boolTrue",
  ],
  [{ _cons: "contacts.getStatuses" }, "vector"],
];

Deno.test("the calls a full client makes at start-up answer valid objects of their types", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const sender = emulatedSender(emulator, 1);
  const call = rawCaller(sender, codec);
  try {
    for (const [request, expected] of BEFORE_SIGN_IN) {
      const answer = await call(request);
      assertEquals(answer._cons, expected, `${request._cons}: ${JSON.stringify(answer._cons)}`);
    }
    assertEquals((await signInWithCode(call, "+15550000001"))._cons, "auth.authorization");
    for (const [request, expected] of [...CALLS, ...EVERY_DAY]) {
      // rawCaller decodes by the method's declared result type: another type would throw.
      const answer = await call(request);
      assertEquals(answer._cons, expected, `${request._cons}: ${JSON.stringify(answer._cons)}`);
    }
    const contacts = await call({ _cons: "contacts.getContacts", hash: 0 });
    assertEquals(
      (contacts.users as TlObject[]).map((user) => user.first_name),
      ["Bob"],
      "Alice's contacts are the world's other people",
    );
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("getPeerDialogs gives the asked peers' dialogs; getMessages finds messages by id", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const sender = emulatedSender(emulator, 1);
  const call = rawCaller(sender, codec);
  try {
    await signInWithCode(call, "+15550000001");
    const bob = emulator.world.users.get(1000002)!;
    const bobPeer = { _cons: "inputPeerUser", user_id: bob.id, access_hash: bob.accessHash };
    const peerDialogs = await call({
      _cons: "messages.getPeerDialogs",
      peers: [{ _cons: "inputDialogPeer", peer: bobPeer }],
    });
    const dialogs = peerDialogs.dialogs as TlObject[];
    assertEquals(dialogs.map((dialog) => Number((dialog.peer as TlObject).user_id)), [bob.id]);
    const top = (peerDialogs.messages as TlObject[])[0];
    assertEquals(top.message, "Fine, testing mtproto2json.");
    const found = await call({
      _cons: "messages.getMessages",
      id: [{ _cons: "inputMessageID", id: top.id }, { _cons: "inputMessageID", id: 999_999 }],
    });
    assertEquals((found.messages as TlObject[]).map((message) => message._cons), [
      "message",
      "messageEmpty",
    ]);
    assertEquals((found.messages as TlObject[])[0].message, "Fine, testing mtproto2json.");
    assertEquals((found.users as TlObject[]).some((user) => Number(user.id) === bob.id), true);
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("full group and channel profiles, and channel messages by id", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const sender = emulatedSender(emulator, 1);
  const call = rawCaller(sender, codec);
  try {
    await signInWithCode(call, "+15550000001");
    const group = await call({ _cons: "messages.getFullChat", chat_id: 2000001 });
    const full = group.full_chat as TlObject;
    assertEquals(full._cons, "chatFull");
    assertEquals(
      ((full.participants as TlObject).participants as TlObject[]).map((p) => p._cons),
      ["chatParticipantCreator", "chatParticipant"],
    );
    const channel = emulator.world.chats.get(3000001)!;
    const input = {
      _cons: "inputChannel",
      channel_id: channel.id,
      access_hash: channel.accessHash,
    };
    const profile = await call({ _cons: "channels.getFullChannel", channel: input });
    assertEquals((profile.full_chat as TlObject)._cons, "channelFull");
    assertEquals((profile.full_chat as TlObject).participants_count, 2);
    const history = await call({
      _cons: "messages.getHistory",
      peer: { _cons: "inputPeerChannel", channel_id: channel.id, access_hash: channel.accessHash },
      offset_id: 0,
      offset_date: 0,
      add_offset: 0,
      limit: 10,
      max_id: 0,
      min_id: 0,
      hash: 0,
    });
    const first = (history.messages as TlObject[]).at(-1)!;
    const found = await call({
      _cons: "channels.getMessages",
      channel: input,
      id: [{ _cons: "inputMessageID", id: first.id }, { _cons: "inputMessageID", id: 4242 }],
    });
    assertEquals(found._cons, "messages.channelMessages");
    assertEquals((found.messages as TlObject[]).map((m) => m._cons), ["message", "messageEmpty"]);
    assertEquals((found.messages as TlObject[])[0].message, "First post of the channel.");
    // A channel the viewer gives a wrong access hash for is refused.
    const wrong = await call({
      _cons: "channels.getFullChannel",
      channel: { ...input, access_hash: 1n },
    });
    assertEquals(wrong.error_message, "CHANNEL_INVALID");
  } finally {
    sender.close();
    await emulator.close();
  }
});

Deno.test("users.getFullUser of someone seen only in a dialog: by access hash or by the message", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  // A stranger, in no group with Alice and not among her contacts' chats, writes to her.
  const carol = emulator.world.addUser("15550000100", "Carol", "Example", 1);
  const hello = emulator.world.addMessage(carol.id, { type: "user", id: 1000001 }, "Hello!", 1);
  const sender = emulatedSender(emulator, 1);
  const call = rawCaller(sender, codec);
  try {
    await signInWithCode(call, "+15550000001");
    const dialogs = await call({
      _cons: "messages.getDialogs",
      offset_date: 0,
      offset_id: 0,
      offset_peer: { _cons: "inputPeerEmpty" },
      limit: 20,
      hash: 0,
    });
    const seen = (dialogs.users as TlObject[]).find((user) => user.first_name === "Carol")!;
    const full = await call({
      _cons: "users.getFullUser",
      id: { _cons: "inputUser", user_id: seen.id, access_hash: seen.access_hash },
    });
    assertEquals(
      [(full.full_user as TlObject).id, (full.full_user as TlObject).common_chats_count],
      [
        BigInt(carol.id),
        0,
      ],
    );
    const carolPeer = { _cons: "inputPeerUser", user_id: seen.id, access_hash: seen.access_hash };
    const byMessage = await call({
      _cons: "users.getFullUser",
      id: { _cons: "inputUserFromMessage", peer: carolPeer, msg_id: hello.id, user_id: seen.id },
    });
    assertEquals((byMessage.full_user as TlObject).id, BigInt(carol.id));
    const notThere = await call({
      _cons: "users.getFullUser",
      id: { _cons: "inputUserFromMessage", peer: carolPeer, msg_id: 999, user_id: seen.id },
    });
    assertEquals(notThere.error_message, "USER_ID_INVALID");
  } finally {
    sender.close();
    await emulator.close();
  }
});
