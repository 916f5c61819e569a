/**
 * The client's salt schedule: the future salts the server announced, which salt messages carry
 * now, when to ask for more (ahead of expiry, one get_future_salts at a time), and how long to
 * wait after the server refused (60 s, doubling to an hour).
 * https://core.telegram.org/mtproto/service_messages#request-for-several-future-salts
 *
 * @module
 */

/** A salt with its validity, in server seconds. */
export interface FutureSalt {
  validSince: number;
  validUntil: number;
  salt: bigint;
}

/** After a refused get_future_salts, wait this long (doubling to an hour) before asking again. */
export const SALTS_RETRY_SECONDS = 60;
const SALTS_RETRY_MAX_SECONDS = 3600;

/**
 * The future salts of one session and when to ask for more.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SaltSchedule } from "./salt_schedule.ts";
 * const schedule = new SaltSchedule();
 * assert.equal(schedule.shouldAsk(0), true); // nothing known yet
 * schedule.asked(-1);
 * schedule.replace([
 *   { validSince: 0, validUntil: 100, salt: 1n },
 *   { validSince: 100, validUntil: 200, salt: 2n },
 * ]);
 * schedule.answered(true, 0);
 * assert.equal(schedule.current(50, 9n), 1n);
 * assert.equal(schedule.current(150, 1n), 2n);
 * assert.equal(schedule.shouldAsk(150), true); // one salt left: ask ahead
 * ```
 */
export class SaltSchedule {
  // Packed, not an object and a bigint per salt: a session keeps up to 32 of them, and a thousand
  // idle connections through serve held 2.6 KB of salts each.
  /** valid_since and valid_until of each known salt (TL ints), in pairs, by valid_since. */
  #times = NO_TIMES;
  /** The salts, as signed 64-bit values (how the wire carries them). */
  #salts = NO_SALTS;
  /** The first salt not known to have expired. */
  #first = 0;
  /** `#salts[#first]` as a bigint, made once rather than at each read. */
  #firstSalt: bigint | undefined = undefined;
  /** The local id of the get_future_salts in flight, if any. */
  #request?: number;
  #retryAt = 0;
  #retrySeconds = SALTS_RETRY_SECONDS;

  /**
   * True when a get_future_salts should go out now: at most one known salt is left, none is in
   * flight, and the wait after a refusal is over.
   */
  shouldAsk(now: number): boolean {
    return this.#request === undefined && this.#salts.length - this.#first <= 1 &&
      now >= this.#retryAt;
  }

  /** Notes that a get_future_salts was queued as the request `requestId`. */
  asked(requestId: number): void {
    this.#request = requestId;
  }

  /** True when `requestId` is the get_future_salts in flight. */
  isRequest(requestId: number): boolean {
    return requestId === this.#request;
  }

  /** Notes the answer to get_future_salts: `ok` for future_salts, else a refusal (wait longer). */
  answered(ok: boolean, now: number): void {
    this.#request = undefined;
    if (ok) {
      this.#retrySeconds = SALTS_RETRY_SECONDS;
      return;
    }
    this.#retryAt = now + this.#retrySeconds;
    this.#retrySeconds = Math.min(SALTS_RETRY_MAX_SECONDS, this.#retrySeconds * 2);
  }

  /** Takes the salts of a future_salts, replacing those known. */
  replace(salts: FutureSalt[]): void {
    const sorted = [...salts].sort((a, b) => a.validSince - b.validSince);
    this.#times = new Int32Array(2 * sorted.length);
    this.#salts = new BigInt64Array(sorted.length);
    sorted.forEach(({ validSince, validUntil, salt }, i) => {
      this.#times[2 * i] = validSince;
      this.#times[2 * i + 1] = validUntil;
      this.#salts[i] = salt;
    });
    this.#first = 0;
    this.#firstSalt = undefined;
  }

  /** Forgets the known salts (bad_server_salt said they are wrong). */
  clear(): void {
    this.#times = NO_TIMES;
    this.#salts = NO_SALTS;
    this.#first = 0;
    this.#firstSalt = undefined;
  }

  /** The salt to send with at `now`: the first still valid once its time came, else `salt`. */
  current(now: number, salt: bigint): bigint {
    const times = this.#times, count = this.#salts.length;
    while (this.#first < count && times[2 * this.#first + 1] < now) {
      this.#first++;
      this.#firstSalt = undefined;
    }
    if (this.#first === count || times[2 * this.#first] > now) return salt;
    return this.#firstSalt ??= this.#salts[this.#first];
  }
}

const NO_TIMES = new Int32Array(0);
const NO_SALTS = new BigInt64Array(0);
