/**
 * The calls a full client makes at start-up to draw its chat list and settings screens, answered
 * as Telegram answers an account with nothing special: no pinned dialogs, folders, promotions,
 * reactions or effects; default colors, notification and content settings; the world's other
 * people as contacts. Valid objects of each method's declared type, never an error.
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import type { TlObject } from "../../tl/codec.ts";
import type { CallContext } from "../server_connection.ts";
import type { WorldUser } from "../world.ts";
import { userObject } from "../render.ts";
import type { Handler, Tools } from "./tools.ts";

/** An id derived from a name, the same every start (a 53-bit string hash). */
function stableId(name: string): bigint {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)!) % 2 ** 53;
  return BigInt(hash);
}

/** Seconds until a "nothing to show" answer is asked again, as Telegram sets `expires`. */
const RECHECK_SECONDS = 3600;

/** The handlers, by method name. */
export function startupMethods(tools: Tools): Record<string, Handler> {
  const { world, viewer, now, updatesState } = tools;
  const others = (me: WorldUser) => [...world.users.values()].filter((user) => user.id !== me.id);
  const emptyPeerDialogs = (_call: TlObject, context: CallContext) => ({
    _cons: "messages.peerDialogs",
    dialogs: [],
    messages: [],
    chats: [],
    users: [],
    state: updatesState(viewer(context), context),
  });
  return {
    "messages.getPinnedDialogs": emptyPeerDialogs,
    "help.getAppConfig": () => ({
      _cons: "help.appConfig",
      hash: 1, // one fixed config: its hash never changes
      config: { _cons: "jsonObject", value: [] },
    }),
    "help.getPromoData": (_call, context) => ({
      _cons: "help.promoDataEmpty",
      expires: now(context) + RECHECK_SECONDS,
    }),
    "help.getTermsOfServiceUpdate": (_call, context) => ({
      _cons: "help.termsOfServiceUpdateEmpty",
      expires: now(context) + RECHECK_SECONDS,
    }),
    "help.getPeerColors": () => ({ _cons: "help.peerColors", hash: 1, colors: [] }),
    "help.getPeerProfileColors": () => ({ _cons: "help.peerColors", hash: 1, colors: [] }),
    "account.getNotifySettings": () => ({
      _cons: "peerNotifySettings",
      show_previews: { _cons: "boolTrue" },
      silent: { _cons: "boolFalse" },
      mute_until: 0,
    }),
    "account.getContentSettings": () => ({ _cons: "account.contentSettings" }),
    "account.getReactionsNotifySettings": () => ({
      _cons: "reactionsNotifySettings",
      sound: { _cons: "notificationSoundDefault" },
      show_previews: { _cons: "boolTrue" },
    }),
    "messages.getAvailableReactions": () => ({
      _cons: "messages.availableReactions",
      hash: 1,
      reactions: [],
    }),
    "messages.getAvailableEffects": () => ({
      _cons: "messages.availableEffects",
      hash: 1,
      effects: [],
      documents: [],
    }),
    "messages.getPeerSettings": () => ({
      _cons: "messages.peerSettings",
      settings: { _cons: "peerSettings" },
      chats: [],
      users: [],
    }),
    // The world has no stickers: Telegram's built-in sets exist, empty; any other is unknown.
    "messages.getStickerSet": (call) => {
      const input = call.stickerset as TlObject;
      if (input._cons === "inputStickerSetEmpty" || input._cons === "inputStickerSetID") {
        throw new RpcError(400, "STICKERSET_INVALID");
      }
      const name = input._cons === "inputStickerSetShortName"
        ? String(input.short_name)
        : input._cons.replace("inputStickerSet", "");
      return {
        _cons: "messages.stickerSet",
        set: {
          _cons: "stickerSet",
          official: true,
          id: stableId(name),
          access_hash: 0n,
          title: name,
          short_name: name,
          count: 0,
          hash: 0,
        },
        packs: [],
        keywords: [],
        documents: [],
      };
    },
    "messages.getAttachMenuBots": () => ({ _cons: "attachMenuBots", hash: 1, bots: [], users: [] }),
    "contacts.getTopPeers": () => ({
      _cons: "contacts.topPeers",
      categories: [],
      chats: [],
      users: [],
    }),
    "contacts.getBirthdays": () => ({
      _cons: "contacts.contactBirthdays",
      contacts: [],
      users: [],
    }),
    "contacts.getContacts": (_call, context) => {
      const me = viewer(context);
      return {
        _cons: "contacts.contacts",
        contacts: others(me).map((user) => ({
          _cons: "contact",
          user_id: user.id,
          mutual: { _cons: "boolTrue" },
        })),
        saved_count: 0,
        users: others(me).map((user) => userObject(user, me.id)),
      };
    },
    "photos.getUserPhotos": (_call, context) => ({
      _cons: "photos.photos",
      photos: [],
      users: [userObject(viewer(context), viewer(context).id)],
    }),
  };
}
