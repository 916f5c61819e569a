/**
 * What the update state machine hands its owner: `updates` lines, each with the cursor after it,
 * and events about the state (a gap, what a difference recovered, too much to fetch, caught up).
 *
 * @module
 */

import type { TlObject } from "../tl/codec.ts";
import type { BoxName } from "./boxes.ts";

/** What the state machine reports besides update lines. */
export type UpdateEvent =
  | { type: "gap"; box: BoxName; local: number; remote: number }
  | { type: "recovered"; box: BoxName; count: number }
  | { type: "too_long"; box: BoxName }
  | { type: "synced"; cursor: string; recovered: number };

/** One output, in delivery order. */
export type UpdateOutput =
  | { kind: "updates"; value: TlObject; cursor: string }
  | { kind: "event"; event: UpdateEvent };
