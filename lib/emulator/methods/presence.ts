/**
 * Presence: `account.updateStatus` (online or offline, pushed to the user's contacts as
 * updateUserStatus), `contacts.getStatuses`, and `messages.setTyping` (pushed to the other side
 * as updateUserTyping or updateChatUserTyping). These updates are live only, as on Telegram: they
 * are pushed to connected sessions and never journaled, so getDifference never returns them.
 *
 * @module
 */

import type { TlObject } from "../../tl/codec.ts";
import type { WorldUser } from "../world.ts";
import { statusObject } from "../render.ts";
import type { Handler, Tools } from "./tools.ts";

/** How long "online" lasts after account.updateStatus, in seconds (Telegram uses about 5 min). */
const ONLINE_SECONDS = 300;

/** The handlers, by method name. */
export function presenceMethods(tools: Tools): Record<string, Handler> {
  const { world, now, viewer, resolvePeer, pushLive } = tools;
  // In the emulator everyone is everyone's contact (see contacts.getContacts).
  const contactsOf = (me: WorldUser) =>
    [...world.users.values()].filter((user) => user.id !== me.id);

  return {
    "account.updateStatus": (call, context) => {
      const me = viewer(context);
      const offline = (call.offline as TlObject)._cons === "boolTrue";
      const at = now(context);
      me.status = { online: !offline, until: offline ? at : at + ONLINE_SECONDS };
      for (const contact of contactsOf(me)) {
        pushLive(contact.id, {
          _cons: "updateUserStatus",
          user_id: me.id,
          status: statusObject(me),
        }, at);
      }
      return { _cons: "boolTrue" };
    },

    "contacts.getStatuses": (_call, context) =>
      contactsOf(viewer(context)).map((user) => ({
        _cons: "contactStatus",
        user_id: user.id,
        status: statusObject(user),
      })),

    "messages.setTyping": (call, context) => {
      const me = viewer(context);
      const peer = resolvePeer(call.peer, me);
      const action = call.action as TlObject;
      const at = now(context);
      const thread = call.top_msg_id !== undefined ? { top_msg_id: call.top_msg_id } : {};
      if (peer.type === "user" && peer.id !== me.id) {
        pushLive(peer.id, { _cons: "updateUserTyping", user_id: me.id, ...thread, action }, at);
      } else if (peer.type === "chat") {
        for (const member of world.chats.get(peer.id)!.members) {
          if (member === me.id) continue;
          pushLive(member, {
            _cons: "updateChatUserTyping",
            chat_id: peer.id,
            from_id: { _cons: "peerUser", user_id: me.id },
            action,
          }, at);
        }
      }
      // Saved Messages and the world's channels (broadcasts, where no one sees who types):
      // accepted, shown to nobody.
      return { _cons: "boolTrue" };
    },
  };
}
