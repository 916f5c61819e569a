/**
 * How the web front answers: JSON bodies, the proxy's own errors as HTTP statuses, and a line of
 * the protocol turned into the status a one-shot call returns.
 *
 * @module
 */

import { Mtproto2jsonError } from "../errors.ts";
import { rawJson } from "../tl/json.ts";

/** An error the web front answers with an HTTP status; its name reaches the client as `error`. */
export class HttpError extends Mtproto2jsonError {
  override name = "HttpError";
  /** Creates the error; `kind` is the short name in the body, `status` the HTTP status. */
  constructor(
    readonly status: number,
    readonly kind: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * The UTF-8 length of `text` in bytes, without encoding it (metrics count the bytes a front
 * moves; encoding each line again only to count it would cost more than the count is worth).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { utf8Length } from "./http_answers.ts";
 * assert.equal(utf8Length('{"a":"é€😀"}'), new TextEncoder().encode('{"a":"é€😀"}').length);
 * ```
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    // Two bytes below U+0800, else three; a surrogate pair (two units) is four.
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * A response whose body is text made here, with its length in bytes: the front's byte counts read
 * it (a Response does not say how long its body is until it is read). A subclass, since a
 * WeakMap from each response to its length cost more than making the response (its entries are
 * ephemerons the collector walks: about 0.5 µs a response under load).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TextResponse } from "./http_answers.ts";
 * const response = new TextResponse("é", { status: 200 });
 * assert.equal(response.bodyLength, 2);
 * assert.equal(await response.text(), "é");
 * ```
 */
export class TextResponse extends Response {
  /** The body's length in bytes (UTF-8). */
  readonly bodyLength: number;

  /** A response of `text` with `init`. */
  constructor(text: string, init: ResponseInit) {
    super(text, init);
    this.bodyLength = utf8Length(text);
  }
}

/** A JSON response (`text` is JSON already made: exact 64-bit integers stay as they are). */
export function jsonText(
  text: string,
  status = 200,
  headers: Record<string, string> = {},
): TextResponse {
  return new TextResponse(text, {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

/** The init of {@link callAnswer}: one object, read by each response and never changed. */
const CALL_ANSWER_INIT = { headers: { "content-type": "application/json" } };

/**
 * A one-shot call's 200 answer (`text` is JSON already made), with its content type as its only
 * header: Deno's server sends such a response by its fast path for static bodies, which cost
 * about 3.5 µs of CPU less per request than the same with a second header (a bare `Deno.serve`
 * under bench_web's HTTP load: 18.5 → 15 µs). It says nothing about caching: an answer to a
 * POST is stored by no cache unless it says how long it stays fresh, and GET answers keep
 * `cache-control: no-store` ({@link jsonText}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { callAnswer } from "./http_answers.ts";
 * const response = callAnswer('{"_cons":"nearestDc","this_dc":2}');
 * assert.equal(response.status, 200);
 * assert.equal(response.headers.get("content-type"), "application/json");
 * assert.equal((await response.json()).this_dc, 2);
 * ```
 */
export function callAnswer(text: string): TextResponse {
  return new TextResponse(text, CALL_ANSWER_INIT);
}

/** A JSON response of `value`. */
export function json(value: unknown, status = 200, headers: Record<string, string> = {}) {
  return jsonText(JSON.stringify(value), status, headers);
}

/** The response for an error: `{"error": Name, "msg": sentence}` with its status. */
export function errorResponse(error: HttpError): Response {
  return json({ error: error.kind, msg: error.message }, error.status, error.headers);
}

/** Statuses an rpc_error keeps as they are; any other code is answered 500. */
const KEPT_CODES = new Set([400, 401, 403, 404, 406]);

/**
 * The status and headers of a one-shot call's answer line: 200 with the result; an rpc_error
 * with its code (FLOOD_WAIT_X as 429 and `Retry-After: X`); rpc_timeout 504; the proxy's own
 * errors 400 (LineTooLong 413, InternalError 500).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statusOf } from "./http_answers.ts";
 * const flood = { _cons: "rpc_error", error_code: 420, error_message: "FLOOD_WAIT_7" };
 * assert.deepEqual(statusOf({ id: 1, message: flood }), { status: 429, headers: { "retry-after": "7" } });
 * assert.equal(statusOf({ id: 1, error: "BadJson", msg: "…" }).status, 400);
 * ```
 */
export function statusOf(
  line: Record<string, unknown>,
): { status: number; headers: Record<string, string> } {
  if (typeof line.error === "string") {
    const status = line.error === "LineTooLong" ? 413 : line.error === "InternalError" ? 500 : 400;
    return { status, headers: {} };
  }
  const message = line.message as Record<string, unknown> | undefined;
  if (message?._cons === "rpc_timeout") return { status: 504, headers: {} };
  if (message?._cons !== "rpc_error") return { status: 200, headers: {} };
  const text = String(message.error_message ?? "");
  const flood = /^FLOOD_(?:PREMIUM_)?WAIT_(\d+)$/.exec(text);
  if (flood) return { status: 429, headers: { "retry-after": flood[1] } };
  const code = Number(message.error_code);
  return { status: KEPT_CODES.has(code) ? code : 500, headers: {} };
}

const SIXTEEN_DIGITS = /\d{16}/;

/**
 * Parses JSON keeping every number literal a double cannot hold exactly as it was written, so
 * that re-serializing it gives back the same integers (a 64-bit id stays the client's or
 * Telegram's integer, neither rounded nor turned into a string).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseKeepingNumbers } from "./http_answers.ts";
 * const text = '{"id":3,"message":{"access_hash":-8446744073709551615}}';
 * const value = parseKeepingNumbers(text);
 * assert.equal(value.id, 3);
 * assert.equal(JSON.stringify(value), text);
 * // 16 digits, one past 2^53: kept too.
 * assert.equal(JSON.stringify(parseKeepingNumbers('[9007199254740993]')), "[9007199254740993]");
 * ```
 */
// deno-lint-ignore no-explicit-any
export function parseKeepingNumbers(text: string): any {
  // A double holds every integer of up to 15 digits exactly (and 16 up to 2^53): text without a
  // run of 16 digits needs no reviver, which costs more than the parse of a small body.
  if (!SIXTEEN_DIGITS.test(text)) return JSON.parse(text);
  return JSON.parse(
    text,
    (_key: string, item: unknown, context?: { source: string }) =>
      typeof item === "number" && context && !Number.isSafeInteger(item) &&
        /^-?\d+$/.test(context.source)
        ? rawJson(context.source)
        : item,
  );
}
