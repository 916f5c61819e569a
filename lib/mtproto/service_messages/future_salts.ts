/**
 * `get_future_salts` is answered by `future_salts`: the salts valid from now on with their
 * periods. The server builds the answer (at most 64 salts, at least one); the client reads it
 * into its salt schedule.
 * https://core.telegram.org/mtproto/service_messages#request-for-several-future-salts
 *
 * @module
 */

import type { TlObject } from "../../tl/codec.ts";
import type { FutureSalt } from "../salt_schedule.ts";

/** Constructor id of `future_salts`. */
export const FUTURE_SALTS_ID = 0xae500895;

/**
 * How many salts a get_future_salts for `num` is answered with: 1 to 64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { futureSaltsCount } from "./future_salts.ts";
 * assert.deepEqual([futureSaltsCount(0), futureSaltsCount(32), futureSaltsCount(100)], [1, 32, 64]);
 * ```
 */
export function futureSaltsCount(num: number): number {
  return Math.min(64, Math.max(1, num));
}

/**
 * The answer to the get_future_salts sent as `requestMessageId`, at server time `now` (seconds).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { futureSalts, readFutureSalts } from "./future_salts.ts";
 * const salts = [{ validSince: 0, validUntil: 60, salt: 5n }];
 * assert.deepEqual(readFutureSalts(futureSalts(4n, 1.5, salts)), salts);
 * ```
 */
export function futureSalts(requestMessageId: bigint, now: number, salts: FutureSalt[]): TlObject {
  return {
    _cons: "future_salts",
    req_msg_id: requestMessageId,
    now: Math.floor(now),
    salts: salts.map((period) => ({
      _cons: "future_salt",
      valid_since: period.validSince,
      valid_until: period.validUntil,
      salt: period.salt,
    })),
  };
}

/** The salts of a decoded future_salts, oldest first. */
export function readFutureSalts(value: TlObject): FutureSalt[] {
  const salts = (value.salts as TlObject[]).map((salt) => ({
    validSince: salt.valid_since as number,
    validUntil: salt.valid_until as number,
    salt: salt.salt as bigint,
  }));
  return salts.sort((a, b) => a.validSince - b.validSince);
}
