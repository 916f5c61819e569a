/**
 * `users.*` and `contacts.resolveUsername`: the world's people as the viewer sees them.
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import { chatObject, userObject } from "../render.ts";
import type { Handler, Tools } from "./tools.ts";

/** The handlers of this namespace, by method name. */
export function userMethods(tools: Tools): Record<string, Handler> {
  const { world, viewer, inputUser } = tools;
  return {
    "users.getUsers": (call, context) => {
      const me = viewer(context);
      return (call.id as unknown[]).flatMap((input) => {
        const user = inputUser(input, me);
        return user ? [userObject(user, me.id)] : [];
      });
    },

    "users.getFullUser": (call, context) => {
      const me = viewer(context);
      const user = inputUser(call.id, me);
      if (!user) throw new RpcError(400, "USER_ID_INVALID");
      return {
        _cons: "users.userFull",
        full_user: {
          _cons: "userFull",
          id: user.id,
          about: `${user.firstName} lives in the mtproto2json emulator.`,
          settings: { _cons: "peerSettings" },
          notify_settings: { _cons: "peerNotifySettings" },
          // Groups and channels both are in, as the profile's "groups in common".
          common_chats_count: user.id === me.id
            ? 0
            : [...world.chats.values()].filter((chat) =>
              chat.members.includes(me.id) && chat.members.includes(user.id)
            ).length,
        },
        chats: [],
        users: [userObject(user, me.id)],
      };
    },

    "contacts.resolveUsername": (call, context) => {
      const me = viewer(context);
      const name = String(call.username).replace(/^@/, "").toLowerCase();
      const user = [...world.users.values()].find((candidate) => candidate.username === name);
      if (user) {
        return {
          _cons: "contacts.resolvedPeer",
          peer: { _cons: "peerUser", user_id: user.id },
          chats: [],
          users: [userObject(user, me.id)],
        };
      }
      const chat = [...world.chats.values()].find((candidate) => candidate.username === name);
      if (chat) {
        return {
          _cons: "contacts.resolvedPeer",
          peer: { _cons: "peerChannel", channel_id: chat.id },
          chats: [chatObject(chat)],
          users: [],
        };
      }
      throw new RpcError(400, "USERNAME_NOT_OCCUPIED");
    },
  };
}
