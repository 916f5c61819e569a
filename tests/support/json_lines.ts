/**
 * What tests and benches read in the lines `serve` writes: events by type, the text of a new
 * message, the cursor of the last one.
 *
 * @module
 */

import type { TlObject } from "../../lib/tl/codec.ts";
import type { JsonClient } from "./json_client.ts";

/** A JSON line. */
export type Line = Record<string, unknown>;

/** `synced`, the event that ends a connection's catching up. */
export const isSynced = (line: Line) => line.id === 0 && (line.event as Line)?.type === "synced";

/** `account_moved`: another instance drives the account now. */
export const isMoved = (line: Line) =>
  line.id === 0 && (line.event as Line)?.type === "account_moved";

/** The text of a managed update line carrying a new message. */
export const textOf = (line: Line) =>
  (((line.message as TlObject | undefined)?.updates as TlObject[])?.[0]?.message as TlObject)
    ?.message as string | undefined;

/** The texts of the messages a client got, in order. */
export const textsOf = (client: JsonClient) =>
  client.updates.map(textOf).filter((text) => text !== undefined);

/** The cursor of the last message line a client got. */
export const lastMessageCursor = (client: JsonClient) =>
  client.updates.filter((line) => textOf(line) !== undefined).at(-1)!.cursor as string;

/** `prefix from` … `prefix to-1`. */
export const range = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${prefix} ${from + i}`);
