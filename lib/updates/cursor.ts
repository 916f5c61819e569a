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
  /** Items of the difference for `skipBox` that starting from `state` were delivered already. */
  skip: number;
  skipBox?: string;
  /** Position in a held session's journal (serve --state), when it came from one. */
  journal?: number;
  /** Access hashes of the channels in `state`, to ask for their differences after a resume. */
  hashes?: Record<string, string>;
}

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
 * const value = { state: { pts: 5, qts: 0, date: 1, seq: 0, channels: { "7": 3 } }, skip: 0 };
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
    ...(value.skip ? { k: value.skip, b: value.skipBox } : {}),
    ...(value.journal !== undefined ? { j: value.journal } : {}),
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
  const int = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
  const channels = compact.c as Record<string, number>;
  if (
    compact.v !== 1 || !int(compact.p) || !int(compact.q) || !int(compact.d) || !int(compact.s) ||
    typeof channels !== "object" || channels === null ||
    !Object.entries(channels).every(([id, pts]) => /^\d+$/.test(id) && int(pts)) ||
    (compact.k !== undefined && (!int(compact.k) || typeof compact.b !== "string")) ||
    (compact.j !== undefined && !int(compact.j)) ||
    (compact.h !== undefined && (typeof compact.h !== "object" || compact.h === null ||
      !Object.entries(compact.h).every(([id, hash]) =>
        /^\d+$/.test(id) && typeof hash === "string" && /^-?\d{1,20}$/.test(hash)
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
    skip: (compact.k as number | undefined) ?? 0,
    ...(compact.k !== undefined ? { skipBox: compact.b as string } : {}),
    ...(compact.j !== undefined ? { journal: compact.j as number } : {}),
    ...(compact.h !== undefined ? { hashes: { ...(compact.h as Record<string, string>) } } : {}),
  };
}
