/**
 * Throttles guesses at `serve`'s token, per client address. The token is all that protects a
 * non-loopback bind, so a wrong one must be slow to try, counted and logged:
 *
 * - The n-th consecutive failure from an address has its refusal sent after
 *   min(cap, base·2^(n-1)) (250 ms, 500 ms, 1 s, … up to 10 s by default).
 * - Every failure also pushes the address's penalty on by that same step, counted from the end of
 *   the penalty already running: a connection from an address in its penalty is not read until the
 *   penalty is over, and one that would wait longer than `maxWaitMs` is refused unread. Since each
 *   line read costs the address at least its step, parallel connections buy no more guesses:
 *   past the first few, an address gets about one guess per cap.
 * - A right token clears nothing: an attacker behind the same address (a NAT) would otherwise get a
 *   fresh start whenever a legitimate client connects. An address's record is forgotten once its
 *   penalty is over and it has had no failure for `forgetAfterMs` (15 min).
 * - At most `maxAddresses` addresses are remembered, the one that failed least recently dropped
 *   first, so many addresses cannot grow memory without limit. IPv6 clients count by their /64,
 *   which one machine usually holds whole.
 * - Each address is logged at most once per `logIntervalMs`, naming how many attempts it made;
 *   past `maxLogLines` addresses in one interval, the rest are summed up in one line.
 *
 * @module
 */

import { type Clock, systemClock, type TimerId } from "../io/clock.ts";

/** How wrong tokens are throttled; every field has a default. */
export interface TokenGuardOptions {
  /** The first failure's delay; each further consecutive one doubles it (default 250 ms). */
  baseMs?: number;
  /** The longest delay of one failure (default 10 s). */
  capMs?: number;
  /** A connection whose address would keep it waiting longer is refused unread (default 30 s). */
  maxWaitMs?: number;
  /** An address with no failure for this long, and no penalty left, is forgotten (default 15 min). */
  forgetAfterMs?: number;
  /** Addresses remembered at most (default 10 000). */
  maxAddresses?: number;
  /** Each address is logged at most once per this interval (default 60 s). */
  logIntervalMs?: number;
  /** Addresses named in the log per interval; the rest share one line (default 20). */
  maxLogLines?: number;
  /** The clock and timers (tests pass fake ones). */
  clock?: Clock;
  /** Where the reports go; the token itself is never in them. */
  log?: (line: string) => void;
}

/** What a new connection from an address may do before its first line is read. */
export type Admission =
  | { kind: "read"; waitMs: number }
  | { kind: "turned_away"; retryInMs: number };

/** What `health` reports. */
export interface TokenFailureStats {
  /** Failed token attempts since the server started. */
  total: number;
  /** Addresses whose connections are being delayed now. */
  addresses_throttled: number;
}

interface Entry {
  /** Consecutive failures. */
  failures: number;
  /** Until when its connections are not read. */
  until: number;
  lastFailure: number;
  /** When it was last named in the log. */
  loggedAt?: number;
  /** Failures not yet reported. */
  unlogged: number;
}

/**
 * Counts, delays and reports failed token attempts per client address. One is shared by all the
 * connections of a server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TokenGuard } from "./token_guard.ts";
 * const guard = new TokenGuard({ baseMs: 100, capMs: 1000, log: () => {} });
 * assert.equal(guard.failed("203.0.113.7"), 100);
 * assert.equal(guard.failed("203.0.113.7"), 200);
 * assert.equal(guard.admit("203.0.113.7").kind, "read"); // once its 300 ms of penalty are over
 * assert.deepEqual(guard.stats(), { total: 2, addresses_throttled: 1 });
 * guard.close();
 * ```
 */
export class TokenGuard {
  readonly #baseMs: number;
  readonly #capMs: number;
  readonly #maxWaitMs: number;
  readonly #forgetAfterMs: number;
  readonly #maxAddresses: number;
  readonly #logIntervalMs: number;
  readonly #maxLogLines: number;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  /** By address key, least recently failed first. */
  readonly #entries = new Map<string, Entry>();
  #total = 0;
  /** Address lines still allowed in the current interval. */
  #logBudget: number;
  /** Failures of addresses dropped from the map before they were reported. */
  #droppedUnlogged = { attempts: 0, addresses: 0 };
  /** The periodic report and clean-up; runs only while some address is remembered. */
  #sweep: TimerId | undefined;
  readonly #sleeping = new Map<TimerId, () => void>();

  constructor(options: TokenGuardOptions = {}) {
    this.#baseMs = options.baseMs ?? 250;
    this.#capMs = options.capMs ?? 10_000;
    this.#maxWaitMs = options.maxWaitMs ?? 30_000;
    this.#forgetAfterMs = options.forgetAfterMs ?? 15 * 60_000;
    this.#maxAddresses = options.maxAddresses ?? 10_000;
    this.#logIntervalMs = options.logIntervalMs ?? 60_000;
    this.#maxLogLines = options.maxLogLines ?? 20;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? ((line) => console.error(line));
    this.#logBudget = this.#maxLogLines;
  }

  /** How long a new connection from `address` waits before its first line is read, if at all. */
  admit(address: string): Admission {
    const entry = this.#entries.get(addressKey(address));
    const waitMs = entry ? Math.max(0, entry.until - this.#clock.now()) : 0;
    return waitMs > this.#maxWaitMs
      ? { kind: "turned_away", retryInMs: waitMs }
      : { kind: "read", waitMs };
  }

  /**
   * Records a wrong or missing token from `address`; returns how long to hold its refusal.
   */
  failed(address: string): number {
    const key = addressKey(address);
    const now = this.#clock.now();
    this.#total++;
    let entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key); // re-inserted last: the map stays ordered by last failure
    } else {
      entry = { failures: 0, until: now, lastFailure: now, unlogged: 0 };
      this.#makeRoom();
    }
    this.#entries.set(key, entry);
    entry.failures++;
    entry.lastFailure = now;
    entry.unlogged++;
    const delay = Math.min(this.#capMs, this.#baseMs * 2 ** Math.min(entry.failures - 1, 52));
    // Penalties add up, so that guesses on parallel connections queue behind each other.
    entry.until = Math.max(entry.until, now) + delay;
    if (entry.loggedAt === undefined || now - entry.loggedAt >= this.#logIntervalMs) {
      if (this.#logBudget > 0) this.#report(key, entry, now);
    }
    if (this.#sweep === undefined) {
      this.#sweep = this.#clock.setInterval(() => this.#sweepNow(), this.#logIntervalMs);
    }
    return delay;
  }

  /** Totals for the `health` report. */
  stats(): TokenFailureStats {
    const now = this.#clock.now();
    let throttled = 0;
    for (const entry of this.#entries.values()) if (entry.until > now) throttled++;
    return { total: this.#total, addresses_throttled: throttled };
  }

  /** Waits `ms` on the guard's timers; {@link close} ends every wait at once. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const id = this.#clock.setTimeout(() => {
        this.#sleeping.delete(id);
        resolve();
      }, ms);
      this.#sleeping.set(id, resolve);
    });
  }

  /** Stops the periodic report and ends every wait (the server is closing). */
  close(): void {
    if (this.#sweep !== undefined) this.#clock.clearInterval(this.#sweep);
    this.#sweep = undefined;
    for (const [id, resolve] of this.#sleeping) {
      this.#clock.clearTimeout(id);
      resolve();
    }
    this.#sleeping.clear();
  }

  /** Drops the least recently failed address when the map is full. */
  #makeRoom(): void {
    while (this.#entries.size >= this.#maxAddresses) {
      const [key, oldest] = this.#entries.entries().next().value!;
      this.#entries.delete(key);
      if (oldest.unlogged > 0) {
        this.#droppedUnlogged.attempts += oldest.unlogged;
        this.#droppedUnlogged.addresses++;
      }
    }
  }

  #report(key: string, entry: Entry, now: number): void {
    this.#logBudget--;
    const waitS = (Math.max(0, entry.until - now) / 1000).toFixed(1);
    this.#log(
      `wrong token from ${key}: ${entry.unlogged} attempt${entry.unlogged === 1 ? "" : "s"} ` +
        `since its last report, ${entry.failures} in a row; its connections now wait ${waitS} s ` +
        `(further attempts from it are summed up for ${Math.round(this.#logIntervalMs / 1000)} s)`,
    );
    entry.loggedAt = now;
    entry.unlogged = 0;
  }

  /** Reports what the interval left unreported, and forgets quiet addresses. */
  #sweepNow(): void {
    const now = this.#clock.now();
    this.#logBudget = this.#maxLogLines;
    const rest = { ...this.#droppedUnlogged };
    this.#droppedUnlogged = { attempts: 0, addresses: 0 };
    for (const [key, entry] of this.#entries) {
      const due = entry.unlogged > 0 &&
        (entry.loggedAt === undefined || now - entry.loggedAt >= this.#logIntervalMs);
      if (due && this.#logBudget > 0) {
        this.#report(key, entry, now);
      } else if (due) {
        rest.attempts += entry.unlogged;
        rest.addresses++;
        entry.loggedAt = now;
        entry.unlogged = 0;
      }
      if (entry.until <= now && now - entry.lastFailure >= this.#forgetAfterMs) {
        this.#entries.delete(key);
      }
    }
    if (rest.attempts > 0) {
      this.#log(
        `wrong token: ${rest.attempts} more attempt${rest.attempts === 1 ? "" : "s"} from ` +
          `${rest.addresses} other address${rest.addresses === 1 ? "" : "es"}`,
      );
    }
    if (this.#entries.size === 0 && this.#sweep !== undefined) {
      this.#clock.clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }
}

/**
 * The key an address is counted under: IPv4 as it is, IPv6 by its /64 (one machine usually holds
 * a whole /64), an IPv4-mapped IPv6 address as its IPv4 address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addressKey } from "./token_guard.ts";
 * assert.equal(addressKey("203.0.113.7"), "203.0.113.7");
 * assert.equal(addressKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
 * assert.equal(addressKey("::ffff:203.0.113.7"), "203.0.113.7");
 * ```
 */
export function addressKey(address: string): string {
  const bare = address.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "").toLowerCase();
  if (!bare.includes(":")) return bare;
  const groups = expandIpv6(bare);
  if (!groups) return bare;
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join(".");
  }
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function expandIpv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups: number[] = [];
    for (const piece of part.split(":")) {
      const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(piece);
      if (v4) {
        const [a, b, c, d] = v4.slice(1).map(Number);
        groups.push((a << 8) | b, (c << 8) | d);
      } else if (/^[0-9a-f]{1,4}$/.test(piece)) {
        groups.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return groups;
  };
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...new Array(missing).fill(0), ...tail];
}
