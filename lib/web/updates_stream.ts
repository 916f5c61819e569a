/**
 * `GET /v1/updates`: an account's managed updates over HTTP. As Server-Sent Events (`Accept:
 * text/event-stream`, what a browser's `EventSource` sends), each update line is an event whose
 * `id:` is its cursor, so that a dropped stream resumes by `Last-Event-ID` exactly once with no
 * code at all; `synced`, `gap`, `too_long`, ... are named events. Otherwise it is a long poll:
 * `?cursor=C&timeout=S` answers the lines after C (or, when there are none yet, the first ones to
 * come within S seconds) and the cursor to ask with next.
 *
 * Each request runs a line-protocol session of its own that loads the handle's account at the
 * cursor — what a TCP client that reconnects with its cursor does — so the guarantee is the line
 * protocol's: served from the journal under `serve --state`, else by getDifference from the cursor.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { HttpError } from "./http_answers.ts";
import { type LineSession, openAccountSession } from "./line_session.ts";
import type { RouteContext, WebRoute } from "./routes.ts";
import type { WrittenLine } from "./web_account.ts";

/** A long poll waits this long by default for lines to come (seconds)… */
export const DEFAULT_POLL_SECONDS = 25;
/** …and at most this long, whatever it asks. */
export const MAX_POLL_SECONDS = 120;
/** An event stream gets a comment line after this much silence, so proxies keep it open. */
export const SSE_KEEPALIVE_MS = 15_000;
/** Events an event stream holds for a reader that is behind, before it stops taking more. */
const SSE_QUEUED_EVENTS = 256;

/** The cursor a line carries: its own, or its event's (`synced`). */
export function cursorOf(line: Record<string, unknown>): string | undefined {
  const event = line.event as Record<string, unknown> | undefined;
  const cursor = line.cursor ?? event?.cursor;
  return typeof cursor === "string" ? cursor : undefined;
}

/**
 * One line as a Server-Sent Event: an update is a `message` event, an event line is named by its
 * type; the line's cursor is the event's `id`, and the data is the line exactly as the line
 * protocol writes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseEvent } from "./updates_stream.ts";
 * const text = '{"id":0,"event":{"type":"synced","cursor":"c1","recovered":0}}';
 * assert.equal(
 *   sseEvent(text, JSON.parse(text)),
 *   `event: synced\nid: c1\ndata: ${text}\n\n`,
 * );
 * ```
 */
export function sseEvent(text: string, line: Record<string, unknown>): string {
  const type = (line.event as Record<string, unknown> | undefined)?.type;
  const cursor = cursorOf(line);
  return `${typeof type === "string" ? `event: ${type}\n` : ""}${
    cursor !== undefined ? `id: ${cursor}\n` : ""
  }data: ${text}\n\n`;
}

/** The end of an update line as the line protocol writes it: `,"cursor":"C"}`. */
const UPDATE_CURSOR = /,"cursor":("[^"\\]*")\}$/;

/**
 * {@link sseEvent} of a line as written: an update line (`{"id":0,"message":…,"cursor":"C"}`,
 * most of a stream) is made into its event from its text, without parsing what it carries.
 */
function sseEventOf(line: WrittenLine): string {
  const text = line.text;
  if (text.startsWith('{"id":0,"message":')) {
    const cursor = UPDATE_CURSOR.exec(text);
    if (cursor) return `id: ${JSON.parse(cursor[1])}\ndata: ${text}\n\n`;
  }
  return sseEvent(text, line.value);
}

/**
 * Opens an updates session for the handle's account at `cursor` (none: from now, as a fresh
 * subscription); see {@link openAccountSession}.
 */
function openAt(
  context: RouteContext,
  cursor: string | undefined,
  onLine: (line: WrittenLine) => Promise<void> | void,
): Promise<LineSession> {
  return openAccountSession(context, onLine, cursor === undefined ? {} : { cursor });
}

/** `GET /v1/updates` as Server-Sent Events, from `Last-Event-ID` (or `?cursor=`) on. */
async function eventStream(context: RouteContext): Promise<Response> {
  const cursor = context.request.headers.get("last-event-id") ??
    context.url.searchParams.get("cursor") ?? undefined;
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  // The reader's pace: a line waits while the stream holds as many events as it may.
  let wanted: (() => void) | undefined;
  const room = () =>
    controller.desiredSize !== null && controller.desiredSize <= 0
      ? new Promise<void>((resolve) => wanted = resolve)
      : undefined;
  let ended = false;
  const body = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    pull: () => {
      wanted?.();
      wanted = undefined;
    },
    cancel: () => end(),
  }, new CountQueuingStrategy({ highWaterMark: SSE_QUEUED_EVENTS }));
  // Events of one turn go out as one chunk (one write), as lines written together do on TCP.
  let unsent = "";
  const flush = () => {
    if (!ended && unsent !== "") controller.enqueue(encoder.encode(unsent));
    unsent = "";
  };
  const send = (text: string) => {
    if (ended) return;
    if (unsent === "") setImmediate(flush);
    unsent += text;
  };
  const session = await openAt(context, cursor === "" ? undefined : cursor, async (line) => {
    send(sseEventOf(line));
    await room();
  });
  const release = context.keepOpen();
  const clock = context.front.clock;
  const keepAlive = clock.setInterval(() => send(": keep-alive\n\n"), SSE_KEEPALIVE_MS);
  const end = () => {
    if (ended) return;
    try {
      flush();
    } catch {
      // cancelled by the reader: nothing more goes out
    }
    ended = true;
    context.front.streams.delete(end);
    clock.clearInterval(keepAlive);
    wanted?.();
    release();
    session.close().catch(() => {});
    try {
      controller.close();
    } catch {
      // cancelled by the reader
    }
  };
  // The session ends by itself only when serve closes: the stream ends with it.
  session.done.then(end, end);
  context.front.streams.add(end);
  // A browser reconnects after this many milliseconds when the stream drops.
  send("retry: 1000\n\n");
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}

/**
 * `GET /v1/updates?cursor=C&timeout=S` as a long poll: what followed C (all of it, however long
 * its catch-up takes, up to {@link MAX_POLL_SECONDS}), or when that is nothing, the first live
 * lines within S seconds; and the cursor to ask with next.
 */
async function longPoll(context: RouteContext): Promise<Response> {
  const params = context.url.searchParams;
  const cursor = params.get("cursor") || undefined;
  const timeoutText = params.get("timeout");
  const seconds = timeoutText === null ? DEFAULT_POLL_SECONDS : Number(timeoutText);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new HttpError(400, "BadTimeout", "timeout must be seconds ≥ 0");
  }
  const clock = context.front.clock;
  const lines: WrittenLine[] = [];
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => finish = resolve);
  let waitForLive: ReturnType<typeof clock.setTimeout> | undefined;
  let synced = false;
  const session = await openAt(context, cursor, (line) => {
    lines.push(line);
    if (synced) {
      // A live line: answer it, with any that come in the same turn.
      queueMicrotask(finish);
    } else if ((line.value.event as Record<string, unknown> | undefined)?.type === "synced") {
      synced = true;
      // What followed the cursor is all here: answer it now, or wait for the first live line.
      if (lines.length > 1) finish();
      else waitForLive = clock.setTimeout(finish, Math.min(seconds, MAX_POLL_SECONDS) * 1000);
    }
  });
  const release = context.keepOpen();
  const catchUp = clock.setTimeout(finish, MAX_POLL_SECONDS * 1000);
  context.front.streams.add(finish);
  try {
    await Promise.race([finished, session.done]);
  } finally {
    context.front.streams.delete(finish);
    clock.clearTimeout(catchUp);
    if (waitForLive !== undefined) clock.clearTimeout(waitForLive);
    release();
    await session.close();
  }
  const next = lines.map((line) => cursorOf(line.value)).filter((c) => c !== undefined).at(-1) ??
    cursor;
  // The lines as the protocol wrote them: exact 64-bit integers stay exact.
  const text = `{"updates":[${lines.map((line) => line.text).join(",")}]${
    next !== undefined ? `,"cursor":${JSON.stringify(next)}` : ""
  }}`;
  return new Response(text, {
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

/** `GET /v1/updates`: an event stream for `Accept: text/event-stream`, else a long poll. */
export const UPDATES_ROUTE: WebRoute = {
  method: "GET",
  path: "/v1/updates",
  auth: "account",
  handle(context) {
    const accept = context.request.headers.get("accept") ?? "";
    return accept.includes("text/event-stream") ? eventStream(context) : longPoll(context);
  },
};
