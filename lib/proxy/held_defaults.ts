/**
 * What held accounts are made of and told: their client's defaults, their journal's bound and
 * store probes, the sink a connection receives their lines by, and the names they go by (the
 * auth key id, a journal's epoch).
 *
 * @module
 */

import type { ClientBehaviour } from "../client/client.ts";
import { type ServerTarget, sessionFromJson } from "../client/session_json.ts";
import { makeAuthKey } from "../mtproto/encrypted_message.ts";
import type { TlSchema } from "../tl/schema.ts";
import type { TransportOptions } from "../transport/transport.ts";
import type { AppIdentity } from "../client/init_connection.ts";
import type { Clock } from "../io/clock.ts";
import type { UnaskedOutput } from "./update_lines.ts";
import type { Metrics } from "./metrics.ts";
import type { Fence, StoredAccount } from "../store/account_store.ts";

/** What a held account's client is built from. */
export interface HeldDefaults {
  schema: TlSchema;
  server?: ServerTarget;
  app: AppIdentity;
  behaviour?: Partial<ClientBehaviour>;
  transport?: TransportOptions;
  clock?: Clock;
  log?: (line: string) => void;
  /** Debug lines (`--verbose`): how connections attach, follow and join the account. */
  verbose?: (line: string) => void;
  /** `serve`'s counters: a held account's reconnects count there. */
  metrics?: Metrics;
}

/** How held accounts keep their journals and report trouble. */
export interface HeldOptions {
  /** Update lines kept per account (default 10,000). */
  journalLimit?: number;
  /** Where store failures and recoveries are logged (always, whatever the log level). */
  log?: (line: string) => void;
  /** Clock for the store probes (the platform's by default). */
  clock?: Clock;
  /** The first wait before probing a failing store, doubled each time up to 5 s (default 1 s). */
  retryMs?: number;
}

/**
 * A held account's lease in a shared store: `ready` resolves once the lease is this instance's,
 * with the account's stored row (undefined when it has none), or false when it never will be (the
 * account was closed meanwhile); `fence` proves the lease with each write while it is held.
 */
export interface HeldLease {
  ready: () => Promise<StoredAccount | undefined | false>;
  fence: () => Fence | undefined;
}

/** A connection's way to receive an account's outputs (long fields in the default JSON form). */
export type LineSink = (output: UnaskedOutput) => void;

/** A fresh journal epoch: 64 random bits in hex. */
export function newEpoch(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)))
    .map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The auth key id (hex) of a session object, or undefined when it has no key. */
export function keyIdOf(session: Record<string, unknown>): string | undefined {
  const key = sessionFromJson(session, 2).authKey;
  return key ? makeAuthKey(key).id.toHex() : undefined;
}
