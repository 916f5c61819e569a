/**
 * The resume cursor of managed updates: the update state after the last line delivered, as an
 * opaque string the client stores and gives back. While a difference is being delivered, the
 * cursor is the state the difference started from plus how many of its items were delivered, so
 * that a resume from the middle of a difference skips exactly those.
 *
 * @module
 */

import { Mtproto2jsonError } from "../errors.ts";

/** The account's update state. */
export interface UpdateStateValues {
  pts: number;
  qts: number;
  date: number;
  seq: number;
  /** A pts per channel. */
  channels: Record<string, number>;
}

/** A cursor's content. */
export interface CursorValue {
  state: UpdateStateValues;
  /**
   * Boxes whose difference, starting from `state`, was delivered in part: how many of its new
   * messages and how many of its other updates. Several at once when a resumed cursor was inside
   * one box's difference and another box's difference is delivered before it. The two lists are
   * counted apart because each only grows at its end when more happens, while their
   * concatenation does not. `other` is absent only in cursors of an older version, whose `new`
   * counted both lists as one.
   */
  inside?: Record<string, { new: number; other?: number }>;
  /** The account (user id) whose state this is: a cursor resumes only that account. */
  account?: number;
  /** Position in a held session's journal (serve --state), when it came from one. */
  journal?: number;
  /**
   * Which journal `journal` counts in: a held account's journal gets a new epoch whenever it
   * starts without a stored state (a new store, an emptied one), so that a position from another
   * journal is never read as one of this journal's.
   */
  epoch?: string;
  /** Access hashes of the channels in `state`, to ask for their differences after a resume. */
  hashes?: Record<string, string>;
}

const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;

/** A cursor that is not one this proxy wrote. */
export class BadCursorError extends Mtproto2jsonError {
  override name = "BadCursor";
}

/**
 * Writes a cursor: base64url of a compact JSON form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeCursor, encodeCursor } from "./cursor.ts";
 * const value = { state: { pts: 5, qts: 0, date: 1, seq: 0, channels: { "7": 3 } } };
 * assert.deepEqual(decodeCursor(encodeCursor(value)), value);
 * ```
 */
export function encodeCursor(value: CursorValue): string {
  const { state } = value;
  const compact = {
    v: 1,
    p: state.pts,
    q: state.qts,
    d: state.date,
    s: state.seq,
    c: state.channels,
    ...(value.inside && Object.keys(value.inside).length
      ? {
        i: Object.fromEntries(
          Object.entries(value.inside).map(([box, done]) => [box, [done.new, done.other ?? 0]]),
        ),
      }
      : {}),
    ...(value.account !== undefined ? { u: value.account } : {}),
    ...(value.journal !== undefined ? { j: value.journal } : {}),
    ...(value.epoch !== undefined ? { e: value.epoch } : {}),
    ...(value.hashes && Object.keys(value.hashes).length ? { h: value.hashes } : {}),
  };
  return btoa(JSON.stringify(compact)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Reads a cursor written by {@link encodeCursor}; throws BadCursorError for anything else. */
export function decodeCursor(text: unknown): CursorValue {
  if (typeof text !== "string" || text.length > 1_000_000) {
    throw new BadCursorError("updates_cursor must be the string a cursor line carried");
  }
  let compact: Record<string, unknown>;
  try {
    compact = JSON.parse(atob(text.replaceAll("-", "+").replaceAll("_", "/")));
  } catch {
    throw new BadCursorError("updates_cursor is not a cursor this proxy wrote");
  }
  // TL's int fields are 32-bit (pts, qts, seq) and dates unsigned 32-bit: anything past those
  // was not written by this proxy, and resuming from it would skip what Telegram still has.
  const upTo = (limit: number) => (value: unknown) =>
    Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= limit;
  const int32 = upTo(INT32_MAX);
  const count = upTo(Number.MAX_SAFE_INTEGER);
  const channels = compact.c as Record<string, number>;
  const channelId = (id: string) => /^\d{1,16}$/.test(id) && Number.isSafeInteger(Number(id));
  if (
    compact.v !== 1 || !int32(compact.p) || !int32(compact.q) || !upTo(UINT32_MAX)(compact.d) ||
    !int32(compact.s) || typeof channels !== "object" || channels === null ||
    Array.isArray(channels) ||
    !Object.entries(channels).every(([id, pts]) => channelId(id) && int32(pts)) ||
    (compact.k !== undefined && (!int32(compact.k) || typeof compact.b !== "string")) ||
    (compact.o !== undefined && (!int32(compact.o) || compact.k === undefined)) ||
    (compact.i !== undefined && (typeof compact.i !== "object" || compact.i === null ||
      Array.isArray(compact.i) ||
      !Object.entries(compact.i).every(([box, done]) =>
        /^(common|secret|channel:\d{1,16})$/.test(box) && Array.isArray(done) &&
        done.length === 2 && int32(done[0]) && int32(done[1])
      ))) ||
    (compact.u !== undefined && !count(compact.u)) ||
    (compact.j !== undefined && !count(compact.j)) ||
    (compact.e !== undefined &&
      (typeof compact.e !== "string" || !/^[0-9a-f]{1,64}$/.test(compact.e))) ||
    (compact.h !== undefined && (typeof compact.h !== "object" || compact.h === null ||
      !Object.entries(compact.h).every(([id, hash]) =>
        channelId(id) && typeof hash === "string" && /^-?\d{1,20}$/.test(hash)
      )))
  ) {
    throw new BadCursorError("updates_cursor is not a cursor this proxy wrote");
  }
  return {
    state: {
      pts: compact.p as number,
      qts: compact.q as number,
      date: compact.d as number,
      seq: compact.s as number,
      channels: { ...channels },
    },
    ...(compact.i !== undefined || compact.k !== undefined ? { inside: insideOf(compact) } : {}),
    ...(compact.u !== undefined ? { account: compact.u as number } : {}),
    ...(compact.j !== undefined ? { journal: compact.j as number } : {}),
    ...(compact.e !== undefined ? { epoch: compact.e as string } : {}),
    ...(compact.h !== undefined ? { hashes: { ...(compact.h as Record<string, string>) } } : {}),
  };
}

/** The partly delivered differences of a compact cursor, in either of its two spellings. */
function insideOf(compact: Record<string, unknown>): CursorValue["inside"] {
  if (compact.i !== undefined) {
    return Object.fromEntries(
      Object.entries(compact.i as Record<string, [number, number]>).map((
        [box, [done, other]],
      ) => [box, { new: done, other }]),
    );
  }
  // One box, as cursors of an older version spelled it (`o` absent in older ones still).
  return {
    [compact.b as string]: {
      new: compact.k as number,
      ...(compact.o !== undefined ? { other: compact.o as number } : {}),
    },
  };
}

/**
 * Refuses a cursor taken on another account: resuming Bob's position on Alice's session would
 * skip or repeat her updates silently. Cursors written before cursors named their account pass.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkCursorAccount, encodeCursor } from "./cursor.ts";
 * const state = { pts: 1, qts: 0, date: 1, seq: 0, channels: {} };
 * const bobs = encodeCursor({ state, account: 2 });
 * assert.throws(() => checkCursorAccount(bobs, 1), { name: "BadCursor" });
 * checkCursorAccount(bobs, 2);
 * ```
 */
export function checkCursorAccount(cursor: unknown, userId: number | undefined): CursorValue {
  const value = decodeCursor(cursor);
  if (value.account !== undefined && userId !== undefined && value.account !== userId) {
    throw new BadCursorError(
      `updates_cursor belongs to another account (user ${value.account}), not to this ` +
        `session's user ${userId}`,
    );
  }
  return value;
}

/**
 * The cursor as a position in a held account's journal: `seq` in the journal of `epoch`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { atJournalPosition, decodeCursor, encodeCursor } from "./cursor.ts";
 * const state = { pts: 1, qts: 0, date: 1, seq: 0, channels: {} };
 * const at = decodeCursor(atJournalPosition(encodeCursor({ state }), "ab", 7));
 * assert.deepEqual([at.epoch, at.journal], ["ab", 7]);
 * ```
 */
export function atJournalPosition(cursor: string, epoch: string, seq: number): string {
  return encodeCursor({ ...decodeCursor(cursor), journal: seq, epoch });
}

/**
 * True when two cursors stand for the same position in Telegram's update state (journal
 * positions aside): the same pts, qts and channel pts, and neither inside a difference.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeCursor, samePosition } from "./cursor.ts";
 * const state = { pts: 5, qts: 0, date: 1, seq: 0, channels: { "7": 3 } };
 * const a = encodeCursor({ state, journal: 4, epoch: "ab" });
 * assert.equal(samePosition(a, encodeCursor({ state: { ...state, date: 9 } })), true);
 * assert.equal(samePosition(a, encodeCursor({ state, inside: { common: { new: 2, other: 0 } } })), false);
 * ```
 */
export function samePosition(a: string, b: string): boolean {
  const x = decodeCursor(a);
  const y = decodeCursor(b);
  if (Object.keys(x.inside ?? {}).length || Object.keys(y.inside ?? {}).length) return false;
  if (x.state.pts !== y.state.pts || x.state.qts !== y.state.qts) return false;
  const channels = Object.keys(x.state.channels);
  return channels.length === Object.keys(y.state.channels).length &&
    channels.every((id) => x.state.channels[id] === y.state.channels[id]);
}
