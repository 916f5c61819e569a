/**
 * Account handles: `POST /v1/sessions` turns a session line into an opaque handle, and one-shot
 * calls name their account by it. A handle is 32 random bytes (base64url); only its SHA-256 is
 * kept, so a memory dump or a log never yields one. Each handle owns a {@link WebAccount} kept
 * warm while used and parked after `idleMs` without calls or listeners (its latest session line
 * kept to reopen it); under `serve --state` its session attaches to the held account as any
 * connection's does, so the account stays connected while parked.
 *
 * @module
 */

import { sha256Into } from "../crypto/hash.ts";
import type { Clock, TimerId } from "../io/clock.ts";
import type { ProxyDefaults } from "../proxy/proxy_connection.ts";
import { HttpError } from "./http_answers.ts";
import { WebAccount, type WrittenLine } from "./web_account.ts";

/** How handles are kept. */
export interface HandleOptions {
  /** A handle's session is parked after this long without calls or listeners. */
  idleMs: number;
  /** Handles kept at most; one more is refused with 503 (default 10 000). */
  maxHandles?: number;
  maxLine: number;
  clock: Clock;
}

interface Entry {
  /** What opens the session again: the session line, with its options. */
  line?: Record<string, unknown>;
  live?: WebAccount;
  opening?: Promise<WebAccount>;
  parking?: Promise<void>;
  lastUsed: number;
}

const encoder = new TextEncoder();
/** Where a handle is encoded to be hashed: reused, and wiped once it is. */
const scratch = new Uint8Array(256);
const hashed = new Uint8Array(32);
/** Views of `scratch`'s first bytes by length (one for the length handles have). */
const views: Uint8Array[] = [];
const EMPTY = new Uint8Array(0);

/**
 * The SHA-256 of a handle, as a string of 32 code units: the only form a handle is kept in.
 * Synchronous, by the project's own SHA-256 (small inputs: about half of `node:crypto`'s
 * `hash`, which costs more in its setup than in hashing): every call presents its handle, and
 * WebCrypto's awaited digest cost more CPU than the rest of a one-shot call together (the bench's
 * profile). A handle is 32 random bytes, so a plain hash is as hard to invert as the handle is to
 * guess, and nothing else (no cache) keeps it.
 */
function digest(handle: string): string {
  const length = handle.length;
  // A handle is base64url: ASCII, copied a code unit a byte (cheaper than encodeInto, a call
  // into the runtime, for a string this short). Anything else (longer than any made here, or
  // not ASCII: it matches nothing anyway) is encoded as UTF-8 and hashed whole.
  let ascii = length <= scratch.length;
  for (let i = 0; ascii && i < length; i++) {
    const code = handle.charCodeAt(i);
    if (code < 0x80) scratch[i] = code;
    else ascii = false;
  }
  if (ascii) sha256Into(views[length] ??= scratch.subarray(0, length), EMPTY, hashed);
  else {
    const bytes = encoder.encode(handle);
    sha256Into(bytes, EMPTY, hashed);
    bytes.fill(0);
  }
  scratch.fill(0, 0, Math.min(length, scratch.length));
  return String.fromCharCode.apply(null, hashed as unknown as number[]);
}

/** The handles of one web front. */
export class AccountHandles {
  readonly #entries = new Map<string, Entry>();
  readonly #defaults: ProxyDefaults;
  readonly #options: HandleOptions;
  readonly #sweep: TimerId;

  constructor(defaults: ProxyDefaults, options: HandleOptions) {
    this.#defaults = defaults;
    this.#options = options;
    this.#sweep = options.clock.setInterval(
      () => this.#parkIdle(),
      Math.max(250, Math.min(options.idleMs / 4, 30_000)),
    );
  }

  /** How many handles are valid. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Opens a session with `line` (a request of the line protocol: `session`, `server`, `options`;
   * nothing for a fresh session to sign in on) and returns its new handle, or the error line the
   * session answered.
   */
  async create(
    line: Record<string, unknown>,
  ): Promise<{ handle: string } | { refused: WrittenLine }> {
    if (this.#entries.size >= (this.#options.maxHandles ?? 10_000)) {
      throw new HttpError(503, "TooManyAccounts", "this server keeps no more account handles");
    }
    const live = new WebAccount(this.#defaults, this.#options.maxLine);
    if (Object.keys(line).length > 0) {
      const answer = await live.request(line);
      if (answer.value.error !== undefined) {
        await live.close();
        return { refused: answer };
      }
    }
    const handle = crypto.getRandomValues(new Uint8Array(32)).toBase64({
      alphabet: "base64url",
      omitPadding: true,
    });
    this.#entries.set(digest(handle), {
      line,
      live,
      lastUsed: this.#options.clock.now(),
    });
    return { handle };
  }

  /**
   * The live session of a handle, or undefined for no such handle: at once when it is warm (every
   * call presents its handle, and a promise each would be most of the lookup), else a promise of
   * it reopened (it was parked).
   */
  account(handle: string): WebAccount | undefined | Promise<WebAccount> {
    const entry = this.#entries.get(digest(handle));
    if (!entry) return undefined;
    entry.lastUsed = this.#options.clock.now();
    if (!entry.parking && entry.live && !entry.live.closed) return entry.live;
    return this.#reopen(entry);
  }

  /** The session of a parked (or parking) handle, opened again with its latest session line. */
  async #reopen(entry: Entry): Promise<WebAccount> {
    await entry.parking;
    if (entry.live && !entry.live.closed) return entry.live;
    entry.opening ??= (async () => {
      const live = new WebAccount(this.#defaults, this.#options.maxLine);
      if (entry.line && Object.keys(entry.line).length > 0) await live.request(entry.line);
      entry.live = live;
      entry.opening = undefined;
      return live;
    })();
    const live = await entry.opening;
    entry.lastUsed = this.#options.clock.now();
    return live;
  }

  /** Forgets a handle and closes its session; false when there was none. */
  async revoke(handle: string): Promise<boolean> {
    const key = digest(handle);
    const entry = this.#entries.get(key);
    if (!entry) return false;
    this.#entries.delete(key);
    await entry.parking;
    await (await entry.opening)?.close();
    await entry.live?.close();
    return true;
  }

  /** Closes every session (at shutdown); the handles die with the process. */
  async close(): Promise<void> {
    this.#options.clock.clearInterval(this.#sweep);
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((entry) => entry.live?.close()));
  }

  /** Parks the sessions nobody used for the idle time: their latest session line is kept. */
  #parkIdle(): void {
    const now = this.#options.clock.now();
    for (const entry of this.#entries.values()) {
      const live = entry.live;
      if (
        !live || entry.parking || live.pending > 0 || live.listeners > 0 ||
        now - entry.lastUsed < this.#options.idleMs
      ) continue;
      entry.live = undefined;
      entry.parking = (async () => {
        const read = await live.request({ session: {} });
        const session = read.value.session as Record<string, unknown> | undefined;
        // A session without a key (never signed in, logged out) has nothing worth reopening.
        if (session?.auth_key !== undefined) {
          entry.line = {
            ...(entry.line?.options !== undefined ? { options: entry.line.options } : {}),
            session,
          };
        }
        await live.close();
        entry.parking = undefined;
      })();
    }
  }
}
