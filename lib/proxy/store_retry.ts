/**
 * Store writes that may fail, for one held account: a failed write is logged once with its
 * cause, the account's updates stop, and the store is probed again with backoff (the first wait
 * doubled each time, up to 5 s) until a probe goes through; then the account resumes. Nothing is
 * lost meanwhile: the account's stored state moves only with what was written, and it resumes by
 * fetching what came after that.
 *
 * @module
 */

import type { Clock, TimerId } from "../io/clock.ts";

/**
 * A probe is one small write, cheap even every few seconds; a longer wait would only delay the
 * account's updates after the disk is freed.
 */
const MAX_RETRY_MS = 5_000;

/** What a StoreRetry does around the account it serves. */
export interface StoreRetryHooks {
  /** Where failures and recoveries are told, each once. */
  log: (line: string) => void;
  clock: Clock;
  /** The first wait before a probe. */
  retryMs: number;
  /** The account's updates stop (a write failed). */
  stop: () => void;
  /** A write was refused for a lease another instance has now: no probes, the account goes. */
  lost?: (error: Error) => void;
  /** One write that tells whether the store works again; rejects while it does not. */
  probe: () => Promise<void>;
  /** The store works again: the account fetches what it missed. */
  resume: () => void;
}

/** The failing-or-not state of one account's store writes. */
export class StoreRetry {
  readonly #hooks: StoreRetryHooks;
  /** Why the store fails, while it does. */
  failure?: string;
  #timer?: TimerId;
  #nextMs: number;
  #closed = false;

  constructor(hooks: StoreRetryHooks) {
    this.#hooks = hooks;
    this.#nextMs = hooks.retryMs;
  }

  /**
   * Runs a store write; false (and the account stopped until the store works) when it failed.
   * After {@link close}, a failure is only reported by the result: nothing is probed any more.
   */
  async run(write: () => Promise<void>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (this.#closed) return false;
      if ((error as Error).name === "LeaseLost" && this.#hooks.lost) {
        this.close();
        this.#hooks.lost(error as Error);
      } else this.#fail(error as Error);
      return false;
    }
  }

  /** No more probes (the account is closed). */
  close(): void {
    this.#closed = true;
    this.#hooks.clock.clearTimeout(this.#timer);
  }

  #fail(error: Error): void {
    if (this.failure === undefined) {
      this.#hooks.log(
        `${error.message}. Its updates wait; they are fetched again once the store can be written.`,
      );
    } else if (error.message !== this.failure) this.#hooks.log(`still failing: ${error.message}`);
    this.failure = error.message;
    this.#hooks.stop();
    this.#hooks.clock.clearTimeout(this.#timer);
    this.#timer = this.#hooks.clock.setTimeout(() => void this.#probe(), this.#nextMs);
    this.#nextMs = Math.min(MAX_RETRY_MS, this.#nextMs * 2);
  }

  async #probe(): Promise<void> {
    if (!(await this.run(this.#hooks.probe)) || this.#closed) return;
    this.failure = undefined;
    this.#nextMs = this.#hooks.retryMs;
    this.#hooks.log("can be written again; fetching what it missed");
    this.#hooks.resume();
  }
}
