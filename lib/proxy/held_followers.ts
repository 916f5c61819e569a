/**
 * The connections of a held account whose cursor is no position in its journal (another
 * journal's, trimmed away, a store that cannot say): each follows an update state machine of its
 * own from its cursor over the account's shared client — a difference first, then live updates —
 * so its stream is exact by construction, until a line it delivered has the very state of the
 * account's journal position; then it joins the account's lines.
 *
 * @module
 */

import type { Client } from "../client/client.ts";
import { type ManagedOutput, ManagedUpdates } from "../client/managed_updates.ts";
import type { TlObject } from "../tl/codec.ts";
import { samePosition } from "../updates/cursor.ts";
import type { LineSink } from "./held_defaults.ts";

/** What the followers need of their account. */
export interface FollowedAccount {
  client: Client;
  /** The account's stored cursor, once it has one. */
  durable(): string | undefined;
  /** Whether a follower may join now (not while the account catches up or cannot write). */
  canJoin(): boolean;
  /** Puts a connection on the account's lines. */
  join(sink: LineSink): void;
  debug(line: string): void;
}

interface Follower {
  updates: ManagedUpdates;
  cursor?: string;
  synced?: boolean;
}

/** The following connections of one held account. */
export class HeldFollowers {
  readonly #followers = new Map<LineSink, Follower>();

  constructor(private readonly account: FollowedAccount) {}

  /** The following connections. */
  sinks(): Iterable<LineSink> {
    return this.#followers.keys();
  }

  /** Starts a connection on its own state from `cursor`: its difference, then live lines. */
  follow(sink: LineSink, cursor: string): void {
    let recovered = 0;
    let synced = false;
    const updates = new ManagedUpdates(
      this.account.client,
      (output) => {
        const own = this.#followers.get(sink);
        if (own?.updates !== updates) return updates.stop();
        if (output.kind === "event" && output.event.type === "synced") {
          if (synced) return;
          synced = true;
          own.synced = true;
          own.cursor = output.event.cursor;
          sink({
            kind: "event",
            event: { type: "synced", cursor: output.event.cursor, recovered },
          });
        } else if (output.kind === "updates") {
          if (!synced) recovered++;
          own.cursor = output.cursor;
          sink(output);
        } else return sink(output);
        const durable = this.account.durable();
        if (synced && durable !== undefined && samePosition(own.cursor!, durable)) {
          this.#join(sink);
        }
      },
      this.account.client.clock,
      (line) => this.account.debug(`a follower's updates: ${line}`),
    );
    this.#followers.set(sink, { updates });
    updates.start(cursor);
  }

  /**
   * A line the account delivered: a follower that already delivered this very state joins —
   * once its own catching up is over and it was told `synced` (joined before, it never would be).
   */
  delivered(output: ManagedOutput): void {
    if (output.kind !== "updates") return;
    for (const [sink, { cursor, synced }] of this.#followers) {
      if (synced && cursor !== undefined && samePosition(cursor, output.cursor)) this.#join(sink);
    }
  }

  /** An update the account's client received: each follower's state machine gets it too. */
  push(update: TlObject): void {
    for (const { updates } of this.#followers.values()) updates.push(update);
  }

  /** The client may have missed updates (it reconnected). */
  missed(): void {
    for (const { updates } of this.#followers.values()) updates.missed();
  }

  /** The result of a call made on the shared client (it may move each state). */
  callResult(call: TlObject, result: unknown): void {
    for (const { updates } of this.#followers.values()) updates.callResult(call, result);
  }

  /** A connection left. */
  remove(sink: LineSink): void {
    this.#followers.get(sink)?.updates.stop();
    this.#followers.delete(sink);
  }

  /** The account stopped: every follower stops. */
  stopAll(): void {
    for (const { updates } of this.#followers.values()) updates.stop();
  }

  /** The account stopped for good: every follower stops and is forgotten. */
  clear(): void {
    this.stopAll();
    this.#followers.clear();
  }

  #join(sink: LineSink): void {
    if (!this.account.canJoin()) return;
    this.account.debug("a following connection joins the account's lines");
    this.remove(sink);
    this.account.join(sink);
  }
}
