import { assertEquals } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { type UpdateOutput, UpdateState } from "../../lib/updates/update_state.ts";
import { decodeCursor } from "../../lib/updates/cursor.ts";

const bob = { _cons: "user", id: 1000002, access_hash: 5 };
const channel = { _cons: "channel", id: 3000001, access_hash: 77, title: "C" };

/** A state machine on a clock the test moves, already synced at pts 10. */
function synced(pts = 10) {
  let now = 0;
  const machine = new UpdateState({ clock: () => now });
  machine.selfId = 1000001;
  machine.start();
  const [getState] = machine.nextRequests();
  assertEquals(getState._cons, "updates.getState");
  const out = machine.answer(getState, {
    _cons: "updates.state",
    pts,
    qts: 0,
    date: 100,
    seq: 0,
    unread_count: 0,
  });
  assertEquals(out.map((o) => o.kind === "event" && o.event.type), ["synced"]);
  return { machine, advance: (ms: number) => (now += ms) };
}

const newMessage = (id: number, pts: number): TlObject => ({
  _cons: "updateNewMessage",
  message: {
    _cons: "message",
    id,
    peer_id: { _cons: "peerUser", user_id: bob.id },
    message: `m${id}`,
  },
  pts,
  pts_count: 1,
});
const push = (...updates: TlObject[]): TlObject => ({
  _cons: "updates",
  updates,
  users: [bob],
  chats: [channel],
  date: 200,
  seq: 0,
});

/** The message ids delivered, and the event types, in order. */
const summary = (out: UpdateOutput[]) =>
  out.map((o) =>
    o.kind === "event"
      ? o.event.type
      : ((o.value.updates as TlObject[])[0].message as TlObject)?.id ??
        (o.value.updates as TlObject[])[0]._cons
  );
const ptsOf = (out: UpdateOutput[]) =>
  out.flatMap((o) => (o.kind === "updates" ? [decodeCursor(o.cursor).state.pts] : []));

Deno.test("updates in order are delivered one line each, with the cursor after each; repeats are dropped", () => {
  const { machine } = synced();
  const out = machine.push(push(newMessage(1, 11), newMessage(2, 12)));
  assertEquals(summary(out), [1, 2]);
  assertEquals(ptsOf(out), [11, 12]);
  assertEquals(machine.push(push(newMessage(2, 12))), []);
  assertEquals(machine.nextRequests(), []);
});

Deno.test("an update past a hole waits; the missing one arriving in time fills it without a call", () => {
  const { machine, advance } = synced();
  const early = machine.push(push(newMessage(3, 13)));
  assertEquals(early.map((o) => o.kind === "event" && o.event), [
    { type: "gap", box: "common", local: 10, remote: 12 },
  ]);
  advance(200);
  assertEquals(summary(machine.push(push(newMessage(1, 11), newMessage(2, 12)))), [1, 2, 3]);
  advance(1000);
  machine.tick();
  assertEquals(machine.nextRequests(), []);
});

Deno.test("a hole that stays open is filled by getDifference, each update delivered once", () => {
  const { machine, advance } = synced();
  machine.push(push(newMessage(3, 13)));
  advance(499);
  machine.tick();
  assertEquals(machine.nextRequests(), []);
  advance(1);
  machine.tick();
  const [request] = machine.nextRequests();
  assertEquals(request, { _cons: "updates.getDifference", pts: 10, date: 100, qts: 0 });
  // Meanwhile a live update comes: it waits for the difference.
  assertEquals(machine.push(push(newMessage(4, 14))), []);
  const out = machine.answer(request, {
    _cons: "updates.difference",
    new_messages: [1, 2, 3].map((id) => newMessage(id, 0).message),
    new_encrypted_messages: [],
    other_updates: [],
    users: [bob],
    chats: [],
    state: { _cons: "updates.state", pts: 13, qts: 0, date: 300, seq: 0, unread_count: 0 },
  });
  assertEquals(summary(out), [1, 2, 3, "recovered", 4]);
  assertEquals(ptsOf(out).at(-1), 14);
});

Deno.test("a cursor from the middle of a difference resumes after the items delivered", () => {
  const { machine, advance } = synced();
  machine.push(push(newMessage(3, 13)));
  advance(600);
  machine.tick();
  const [request] = machine.nextRequests();
  const difference = {
    _cons: "updates.difference",
    new_messages: [1, 2, 3].map((id) => newMessage(id, 0).message),
    new_encrypted_messages: [],
    other_updates: [],
    users: [],
    chats: [],
    state: { _cons: "updates.state", pts: 13, qts: 0, date: 300, seq: 0, unread_count: 0 },
  };
  const out = machine.answer(request, difference);
  const afterFirst = (out[0] as { cursor: string }).cursor;
  // Another connection resumes from the first line's cursor: the same difference is fetched,
  // and only what followed that line is delivered.
  const resumed = new UpdateState({ clock: () => 0 });
  resumed.start(afterFirst);
  const [again] = resumed.nextRequests();
  assertEquals(again, { _cons: "updates.getDifference", pts: 10, date: 100, qts: 0 });
  assertEquals(summary(resumed.answer(again, difference)), [2, 3, "recovered", "synced"]);
});

Deno.test("a mid-difference cursor still resumes exactly once the difference has grown", () => {
  // A difference lists new messages first, then other updates: when more happens, each list
  // grows at its end, so a count over both lists together would point at other items.
  const { machine, advance } = synced();
  machine.push(push(newMessage(9, 19)));
  advance(600);
  machine.tick();
  const [request] = machine.nextRequests();
  const edit = (id: number, pts: number) => ({
    _cons: "updateEditMessage",
    message: { _cons: "message", id, peer_id: { _cons: "peerUser", user_id: bob.id } },
    pts,
    pts_count: 1,
  });
  const difference = (ids: number[], edits: [number, number][], pts: number) => ({
    _cons: "updates.difference",
    new_messages: ids.map((id) => newMessage(id, 0).message),
    new_encrypted_messages: [],
    other_updates: edits.map(([id, at]) => edit(id, at)),
    users: [],
    chats: [],
    state: { _cons: "updates.state", pts, qts: 0, date: 300, seq: 0, unread_count: 0 },
  });
  const delivered = (out: UpdateOutput[]) =>
    out.flatMap((o) => (o.kind === "updates" ? [(o.value.updates as TlObject[])[0]] : []))
      .map((update) =>
        `${update._cons === "updateEditMessage" ? "edit" : "new"} ${
          (update.message as TlObject).id
        }`
      );
  // A, B new; edits of A and B: the cursor after the first edit has A, B and that edit.
  const first = machine.answer(request, difference([1, 2], [[1, 13], [2, 14]], 14));
  assertEquals(delivered(first), ["new 1", "new 2", "edit 1", "edit 2"]);
  const afterEdit = (first[2] as { cursor: string }).cursor;
  // Meanwhile a new message C and an edit of C: the same difference from the start has grown.
  const resumed = new UpdateState({ clock: () => 0 });
  resumed.start(afterEdit);
  const [again] = resumed.nextRequests();
  const grown = resumed.answer(again, difference([1, 2, 3], [[1, 13], [2, 14], [3, 16]], 16));
  assertEquals(delivered(grown), ["new 3", "edit 2", "edit 3"]);
});

Deno.test("channels: a per-channel pts, a hole filled by getChannelDifference with the learnt hash", () => {
  const { machine, advance } = synced();
  const inChannel = (id: number, pts: number) => ({
    _cons: "updateNewChannelMessage",
    message: { _cons: "message", id, peer_id: { _cons: "peerChannel", channel_id: channel.id } },
    pts,
    pts_count: 1,
  });
  assertEquals(summary(machine.push(push(inChannel(1, 50)))), [1]);
  assertEquals(summary(machine.push(push(inChannel(3, 52)))), ["gap"]);
  advance(600);
  machine.tick();
  const [request] = machine.nextRequests();
  assertEquals(request.pts, 50);
  assertEquals(request.channel, {
    _cons: "inputChannel",
    channel_id: channel.id,
    access_hash: "77",
  });
  const out = machine.answer(request, {
    _cons: "updates.channelDifference",
    final: true,
    pts: 52,
    new_messages: [inChannel(2, 0).message, inChannel(3, 0).message],
    other_updates: [],
    users: [],
    chats: [],
  });
  assertEquals(summary(out), [2, 3, "recovered"]);
  assertEquals(decodeCursor(machine.cursor()).state.channels, { "3000001": 52 });
});

Deno.test("a cursor from inside a channel's difference still skips its items when the common difference is answered first", () => {
  // serve was killed while delivering a channel's difference; the restarted account resumes from
  // the last stored cursor, asking for the common box and the channel at once.
  const { machine, advance } = synced();
  const inChannel = (id: number, pts: number) => ({
    _cons: "updateNewChannelMessage",
    message: { _cons: "message", id, peer_id: { _cons: "peerChannel", channel_id: channel.id } },
    pts,
    pts_count: 1,
  });
  machine.push(push(inChannel(1, 50)));
  machine.push(push(inChannel(4, 53)));
  advance(600);
  machine.tick();
  const [request] = machine.nextRequests();
  const channelDifference = {
    _cons: "updates.channelDifference",
    final: true,
    pts: 53,
    new_messages: [2, 3, 4].map((id) => inChannel(id, 0).message),
    other_updates: [],
    users: [],
    chats: [],
  };
  const out = machine.answer(request, channelDifference);
  assertEquals(summary(out), [2, 3, 4, "recovered"]);
  const afterTwo = (out[0] as { cursor: string }).cursor;
  const resumed = new UpdateState({ clock: () => 0 });
  resumed.selfId = 1000001;
  resumed.start(afterTwo);
  const requests = resumed.nextRequests();
  const common = requests.find((r) => r._cons === "updates.getDifference")!;
  const ofChannel = requests.find((r) => r._cons === "updates.getChannelDifference")!;
  // Bob wrote in private meanwhile: the common difference has an item, and is answered first.
  const commonOut = resumed.answer(common, {
    _cons: "updates.difference",
    new_messages: [newMessage(11, 0).message],
    new_encrypted_messages: [],
    other_updates: [],
    users: [bob],
    chats: [],
    state: { _cons: "updates.state", pts: 11, qts: 0, date: 300, seq: 0, unread_count: 0 },
  });
  assertEquals(summary(commonOut), [11, "recovered"]);
  // The line's cursor still says the channel's 2 was delivered: a resume from it skips it too.
  const again = new UpdateState({ clock: () => 0 });
  again.start((commonOut[0] as { cursor: string }).cursor);
  const againChannel = again.nextRequests().find((r) =>
    r._cons === "updates.getChannelDifference"
  )!;
  assertEquals(summary(again.answer(againChannel, channelDifference)), [3, 4, "recovered"]);
  // And the resumed machine's channel difference delivers only what followed 2.
  assertEquals(summary(resumed.answer(ofChannel, channelDifference)), [
    3,
    4,
    "recovered",
    "synced",
  ]);
});

Deno.test("updatesTooLong asks for a difference, differenceTooLong is a too_long event, then it goes on", () => {
  const { machine } = synced();
  assertEquals(
    machine.push({ _cons: "updatesTooLong" }).map((o) => o.kind === "event" && o.event),
    [
      { type: "too_long", box: "common" },
    ],
  );
  const [request] = machine.nextRequests();
  assertEquals(request._cons, "updates.getDifference");
  const out = machine.answer(request, { _cons: "updates.differenceTooLong", pts: 500 });
  assertEquals(out.map((o) => o.kind === "event" && o.event), [{
    type: "too_long",
    box: "common",
  }]);
  const [next] = machine.nextRequests();
  assertEquals(next.pts, 500);
  machine.answer(next, { _cons: "updates.differenceEmpty", date: 400, seq: 0 });
  assertEquals(summary(machine.push(push(newMessage(9, 501)))), [9]);
});

Deno.test("short messages are expanded when their users are known, else fetched with a difference", () => {
  const { machine } = synced();
  const short = (id: number, pts: number, userId: number) => ({
    _cons: "updateShortMessage",
    id,
    user_id: userId,
    message: "hi",
    pts,
    pts_count: 1,
    date: 250,
  });
  assertEquals(machine.push(short(1, 11, 42)), []); // user 42 never seen
  assertEquals(machine.nextRequests()[0]._cons, "updates.getDifference");

  const fresh = synced().machine;
  fresh.learn({ users: [bob] });
  const [line] = fresh.push(short(1, 11, bob.id));
  const update = ((line as { value: TlObject }).value.updates as TlObject[])[0];
  assertEquals(update._cons, "updateNewMessage");
  assertEquals((update.message as TlObject).from_id, { _cons: "peerUser", user_id: bob.id });
});

Deno.test("a sent message's short answer is delivered as the full message from the call", () => {
  const { machine } = synced();
  const call = {
    _cons: "messages.sendMessage",
    peer: { _cons: "inputPeerUser", user_id: bob.id, access_hash: 5 },
    message: "hello",
  };
  const out = machine.callResult(call, {
    _cons: "updateShortSentMessage",
    out: true,
    id: 7,
    pts: 11,
    pts_count: 1,
    date: 260,
  });
  const message = ((out[0] as { value: TlObject }).value.updates as TlObject[])[0]
    .message as TlObject;
  assertEquals([message.id, message.message, message.out], [7, "hello", true]);
  assertEquals(ptsOf(out), [11]);
});

Deno.test("a long silence asks for a difference, which keeps Telegram pushing", () => {
  const { machine, advance } = synced();
  advance(15 * 60_000 - 1);
  machine.tick();
  assertEquals(machine.nextRequests(), []);
  advance(1);
  machine.tick();
  assertEquals(machine.nextRequests()[0]._cons, "updates.getDifference");
});

Deno.test("a reconnect or a new server session asks for what was pushed meanwhile, known channels included", () => {
  const { machine } = synced();
  machine.push(push({
    _cons: "updateNewChannelMessage",
    message: { _cons: "message", id: 1, peer_id: { _cons: "peerChannel", channel_id: channel.id } },
    pts: 50,
    pts_count: 1,
  }));
  assertEquals(machine.nextRequests(), []);
  machine.reset();
  const requests = machine.nextRequests().map((request) => [request._cons, request.pts]);
  assertEquals(requests, [["updates.getDifference", 10], ["updates.getChannelDifference", 50]]);
});
