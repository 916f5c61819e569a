/**
 * The account side of one JSON connection: which client its calls go to (its own, or the held
 * account's it attached to under `serve --state`), and how updates reach it (managed, following
 * the account's sign-in, session loads and log-out; or raw, as pushed).
 *
 * @module
 */

import type { Client, ClientBehaviour, ClientEvent } from "../client/client.ts";
import { type SessionState, sessionToJson } from "../client/session_json.ts";
import { ManagedUpdates } from "../client/managed_updates.ts";
import type { TlObject } from "../tl/codec.ts";
import type { HeldAccount, HeldAccounts } from "./held_accounts.ts";
import { unaskedLine, type UnaskedOutput } from "./update_lines.ts";
import type { Metrics } from "./metrics.ts";
import { BadRequestError } from "./request_options.ts";

/** How updates reach the client: managed (gap-free, in order, with a cursor) or raw (as pushed). */
export type UpdatesMode = "managed" | "raw";

/** A line to write: a JSON object, or its JSON text already made. */
type Line = Record<string, unknown> | string;

/** One connection's account and updates. */
export class ConnectionAccount {
  /** The connection's own client (the one it keeps when not attached to a held account). */
  readonly own: Client;
  #mode: UpdatesMode;
  readonly #managed: ManagedUpdates;
  readonly #held?: HeldAccounts;
  #attached?: HeldAccount;
  readonly #send: (line: Line) => void;
  /**
   * Every unasked line of this connection goes out here — its own client's updates and events, a
   * held account's lines live, from the journal or from a difference — spelled with this
   * connection's options.
   */
  readonly #write = (output: UnaskedOutput) => {
    this.#metrics?.delivered(output);
    this.#send(
      unaskedLine(output, {
        schema: this.own.schema,
        longsAsStrings: this.own.behaviour.longsAsStrings,
      }),
    );
  };
  readonly #metrics?: Metrics;

  /** `build` makes the own client, given the handlers for its updates; `send` writes a line. */
  constructor(
    build: (handlers: {
      onUpdate: (update: TlObject, dc: number) => void;
      onMissed: () => void;
      onEvent: (event: ClientEvent) => void;
    }) => Client,
    send: (line: Line) => void,
    mode: UpdatesMode,
    held?: HeldAccounts,
    metrics?: Metrics,
  ) {
    this.#metrics = metrics;
    this.#mode = mode;
    this.#held = held;
    this.#send = send;
    this.own = build({
      onUpdate: (update, dc) => {
        if (this.#mode === "managed") this.#managed.push(update);
        else if (dc === this.own.session.dc) this.#write({ kind: "raw", value: update });
      },
      onMissed: () => {
        metrics?.reconnected();
        this.#managed.missed();
      },
      onEvent: (event) => this.#write({ kind: "event", event }),
    });
    this.#managed = new ManagedUpdates(this.own, this.#write);
  }

  /** The client calls go to. */
  get client(): Client {
    return this.#attached?.client ?? this.own;
  }

  /**
   * The client a call or a file request may go to now. A held account on a store several
   * instances share takes calls once its lease is this instance's (they wait until then), and
   * none once this instance gave it up (its lease lost or handed over): `AccountMoved`, so that
   * two instances never drive one key.
   */
  async callClient(): Promise<Client> {
    const attached = this.#attached;
    if (!attached) return this.own;
    if (!(await attached.drivable())) {
      throw new BadRequestError(
        "AccountMoved",
        "another instance holds this account now (its lease moved there): load the session " +
          "again, on any instance, to follow it",
      );
    }
    return attached.client;
  }

  /**
   * The behaviour for one call: the connection's own options (a held account's client is shared,
   * so options set on this connection never reach it), with the request's `overrides` on top.
   */
  callBehaviour(overrides: Partial<ClientBehaviour>): Partial<ClientBehaviour> {
    return this.#attached ? { ...this.own.behaviour, ...overrides } : overrides;
  }

  /** How updates reach this connection. */
  get mode(): UpdatesMode {
    return this.#mode;
  }

  /** Switches how updates reach this connection; managed ones start at once if signed in. */
  setMode(mode: UpdatesMode): void {
    if (mode === this.#mode) return;
    this.#mode = mode;
    if (mode === "raw") this.#managed.stop();
    else if (this.own.session.userId !== undefined && !this.#attached) this.#managed.start();
  }

  /**
   * Loads a session (already checked): a signed-in one is held and attached to under
   * `serve --state`, else it goes to the own client and starts its managed updates (from
   * `cursor`). Returns the session object to answer with.
   */
  load(
    session: SessionState,
    cursor: string | undefined,
    withKey: boolean,
  ): Record<string, unknown> {
    if (this.#held && this.#mode === "managed" && session.userId !== undefined && session.authKey) {
      this.#attach(
        this.#held.hold(sessionToJson(session, this.own.server), this.own.server.proxy),
        cursor,
      );
      return this.#attached!.session();
    }
    this.#detach();
    this.own.setSession(session);
    if (this.#mode === "managed" && withKey) {
      if (session.userId !== undefined) this.#managed.start(cursor);
      else this.#managed.stop();
    }
    return this.session();
  }

  /** The session object as it stands, with the updates cursor once managed. */
  session(): Record<string, unknown> {
    if (this.#attached) return this.#attached.session();
    const cursor = this.#managed.cursor();
    return {
      ...sessionToJson(this.own.currentSession(), this.own.server),
      ...(cursor !== undefined ? { updates_cursor: cursor } : {}),
    };
  }

  /**
   * What a call's result means for updates: it may move the state; a sign-in starts managed
   * updates (holding the account under `--state`); a log-out stops them (and forgets it).
   */
  afterCall(call: TlObject, result: unknown): void {
    if (this.#mode !== "managed") return;
    if (call._cons === "auth.logOut") {
      this.#managed.stop();
      if (this.#attached) {
        void this.#held!.forget(this.#attached);
        this.#attached = undefined;
        this.own.setSession({ dc: this.own.server.dc });
      }
    } else if (this.#attached) this.#attached.callResult(call, result);
    else if (this.#managed.started) this.#managed.callResult(call, result);
    else if ((result as TlObject | undefined)?._cons === "auth.authorization") {
      if (!this.#held) return this.#managed.start();
      // Signed in here: from now on the account is held, by a client of its own.
      const session = sessionToJson(this.own.currentSession(), this.own.server);
      this.own.closeConnections();
      this.#attach(this.#held.hold(session, this.own.server.proxy));
    }
  }

  /** The connection is gone: its updates stop, a held account is only detached from. */
  close(): void {
    this.#managed.stop();
    this.#detach();
    this.own.closeConnections();
  }

  #attach(account: HeldAccount, cursor?: string): void {
    this.#managed.stop();
    this.#detach();
    this.#attached = account;
    account.attach(this.#write, cursor);
  }

  #detach(): void {
    this.#attached?.detach(this.#write);
    this.#attached = undefined;
  }
}
