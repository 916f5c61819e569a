/**
 * `updates.*`: the viewer's update state and what changed since a pts, from the world's journal
 * of every box: the common box by `updates.getDifference` (in slices past a limit, "too long"
 * when too far behind, with `updateChannelTooLong` for channels that changed since the date
 * given), each channel by `updates.getChannelDifference`.
 *
 * @module
 */

import { messageObject } from "../render.ts";
import type { WorldBoxEvent, WorldMessage, WorldPeer, WorldUser } from "../world.ts";
import type { CallContext } from "../server_connection.ts";
import type { Handler, Tools } from "./tools.ts";

/** The handlers of this namespace, by method name. */
export function updateMethods(tools: Tools): Record<string, Handler> {
  const {
    world,
    now,
    viewer,
    related,
    updatesState,
    eventUpdate,
    eventPeers,
    inputChannel,
    dialogObject,
  } = tools;
  const limitOf = () => world.options.differenceLimit ?? 100;
  const tooLongAfter = () => world.options.differenceTooLongAfter ?? 10_000;

  /** The messages and peers a list of events refers to, for users and chats. */
  const references = (events: WorldBoxEvent[], me: WorldUser) => {
    const messages = events.flatMap((event) => (event.message ? [event.message] : []));
    const peers = events.flatMap(eventPeers);
    return related(messages, me, peers);
  };

  /** Channels of the viewer changed after `date`: where each stood then (the pts to start at). */
  const channelsChangedSince = (me: WorldUser, date: number) => {
    const hints: { _cons: string; channel_id: number; pts: number }[] = [];
    for (const chat of world.chats.values()) {
      if (chat.kind !== "channel" || !chat.members.includes(me.id)) continue;
      const events = world.boxEvents.filter((event) => event.channelId === chat.id);
      const later = events.filter((event) => event.date > date);
      if (later.length === 0) continue;
      hints.push({
        _cons: "updateChannelTooLong",
        channel_id: chat.id,
        pts: later[0].pts - later[0].ptsCount,
      });
    }
    return hints;
  };

  const state = (me: WorldUser, context: CallContext, last?: WorldBoxEvent) =>
    last
      ? {
        _cons: "updates.state",
        pts: last.pts,
        qts: 0,
        date: last.date,
        seq: me.seq ?? 0,
        unread_count: 0,
      }
      : updatesState(me, context);

  return {
    "updates.getState": (_call, context) => updatesState(viewer(context), context),

    "updates.getDifference": (call, context) => {
      const me = viewer(context);
      const since = call.pts as number;
      if (me.pts - since > tooLongAfter()) {
        return { _cons: "updates.differenceTooLong", pts: me.pts };
      }
      const all = world.boxEvents.filter((event) => event.userId === me.id && event.pts > since);
      const channels = channelsChangedSince(me, call.date as number);
      if (all.length === 0 && channels.length === 0) {
        return { _cons: "updates.differenceEmpty", date: now(context), seq: me.seq ?? 0 };
      }
      const events = all.slice(0, limitOf());
      const slice = all.length > events.length;
      return {
        _cons: slice ? "updates.differenceSlice" : "updates.difference",
        new_messages: events.filter((event) => event.kind === "new").map((event) =>
          messageObject(event.message!, me.id)
        ),
        new_encrypted_messages: [],
        other_updates: [
          ...events.filter((event) => event.kind !== "new").map((event) =>
            eventUpdate(event, me.id)
          ),
          ...(slice ? [] : channels),
        ],
        ...references(events, me),
        [slice ? "intermediate_state" : "state"]: state(
          me,
          context,
          slice ? events.at(-1) : undefined,
        ),
      };
    },

    "updates.getChannelDifference": (call, context) => {
      const me = viewer(context);
      const channel = inputChannel(call.channel, me);
      const since = call.pts as number;
      if (channel.pts - since > tooLongAfter()) {
        const peer: WorldPeer = { type: "channel", id: channel.id };
        const latest: WorldMessage[] = world.history(me.id, peer).slice(0, 10);
        return {
          _cons: "updates.channelDifferenceTooLong",
          final: true,
          dialog: dialogObject({ peer, top: latest[0] }, me.id),
          messages: latest.map((message) => messageObject(message, me.id)),
          ...related(latest, me, [peer]),
        };
      }
      const all = world.boxEvents.filter((event) =>
        event.channelId === channel.id && event.pts > since
      );
      if (all.length === 0) {
        return { _cons: "updates.channelDifferenceEmpty", final: true, pts: channel.pts };
      }
      const events = all.slice(0, Math.min(limitOf(), Math.max(1, call.limit as number)));
      return {
        _cons: "updates.channelDifference",
        ...(events.length === all.length ? { final: true } : {}),
        pts: events.at(-1)!.pts,
        new_messages: events.filter((event) => event.kind === "new").map((event) =>
          messageObject(event.message!, me.id)
        ),
        other_updates: events.filter((event) => event.kind !== "new").map((event) =>
          eventUpdate(event, me.id)
        ),
        ...references(events, me),
      };
    },
  };
}
