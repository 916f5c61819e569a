/**
 * `updates.*`: the viewer's update state and what changed since a pts.
 *
 * @module
 */

import { messageObject } from "../render.ts";
import type { Handler, Tools } from "./tools.ts";

/** The handlers of this namespace, by method name. */
export function updateMethods(tools: Tools): Record<string, Handler> {
  const { world, now, viewer, related, updatesState, boxEventUpdate } = tools;
  return {
    "updates.getState": (_call, context) => updatesState(viewer(context), context),

    "updates.getDifference": (call, context) => {
      const me = viewer(context);
      const since = call.pts as number;
      const fresh = world.messages.filter((message) =>
        message.peer.type !== "channel" && (message.pts.get(me.id) ?? 0) > since
      );
      const events = world.boxEvents.filter((event) => event.userId === me.id && event.pts > since);
      if (fresh.length === 0 && events.length === 0) {
        return { _cons: "updates.differenceEmpty", date: now(context), seq: 0 };
      }
      return {
        _cons: "updates.difference",
        new_messages: fresh.map((message) => messageObject(message, me.id)),
        new_encrypted_messages: [],
        other_updates: events.map(boxEventUpdate),
        ...related(fresh, me, events.map((event) => event.peer)),
        state: updatesState(me, context),
      };
    },
  };
}
