/**
 * Accounts held by `serve --state DIR`: each stays connected to Telegram after its JSON
 * connections close, keeps its managed update state, and journals every update line (bounded)
 * in the store, so that a connection that comes back with its cursor gets exactly what it
 * missed — from the journal, or, past its bound, from getDifference. Connections that load the
 * same account share its one client and each receive its updates. Held accounts survive a
 * restart: they are restored from the store and reconnect at start.
 *
 * @module
 */

import {
  Client,
  type ClientBehaviour,
  defaultServer,
  serverFromJson,
  type ServerTarget,
  sessionFromJson,
  sessionToJson,
} from "../client/client.ts";
import { type ManagedLine, ManagedUpdates } from "../client/managed_updates.ts";
import { makeAuthKey } from "../mtproto/encrypted_message.ts";
import type { TlObject } from "../tl/codec.ts";
import type { TlSchema } from "../tl/schema.ts";
import type { TransportOptions } from "../transport/transport.ts";
import type { AppIdentity } from "../client/client.ts";
import { channelOfBox, moveOf } from "../updates/boxes.ts";
import { decodeCursor, encodeCursor } from "../updates/cursor.ts";
import type { AccountStore } from "./account_store.ts";

/** What a held account's client is built from. */
export interface HeldDefaults {
  schema: TlSchema;
  server?: ServerTarget;
  app: AppIdentity;
  behaviour?: Partial<ClientBehaviour>;
  transport?: TransportOptions;
  log?: (line: string) => void;
}

/** A connection's way to receive an account's lines. */
export type LineSink = (line: ManagedLine) => void;

/** The cursor with the journal position added. */
function withJournal(cursor: string, seq: number): string {
  return encodeCursor({ ...decodeCursor(cursor), journal: seq });
}

/** The auth key id (hex) of a session object, or undefined when it has no key. */
export function keyIdOf(session: Record<string, unknown>): string | undefined {
  const key = sessionFromJson(session, 2).authKey;
  return key ? makeAuthKey(key).id.toHex() : undefined;
}

/** One held account. */
export class HeldAccount {
  readonly client: Client;
  readonly keyId: string;
  readonly #managed: ManagedUpdates;
  readonly #store: AccountStore;
  readonly #journalLimit: number;
  #seq: number;
  #cursor?: string;
  readonly #sinks = new Set<LineSink>();
  /** Connections catching up with a difference of their own: live lines wait for them. */
  readonly #waiting = new Map<LineSink, ManagedLine[]>();
  /** Called when the account's authorization is gone (set by its registry). */
  onDead?: () => void;
  /** Connections that came while the account itself was catching up (after a restart). */
  #early: [LineSink, string | undefined][] = [];

  constructor(
    defaults: HeldDefaults,
    store: AccountStore,
    journalLimit: number,
    session: Record<string, unknown>,
    cursor?: string,
  ) {
    this.#store = store;
    this.#journalLimit = journalLimit;
    this.keyId = keyIdOf(session)!;
    const server = session.server && typeof session.server === "object"
      ? serverFromJson(
        session.server as Record<string, unknown>,
        defaults.server ?? defaultServer(),
      )
      : defaults.server;
    this.client = new Client({
      schema: defaults.schema,
      ...(server ? { server } : {}),
      session: sessionFromJson(session, server?.dc ?? 2),
      app: defaults.app,
      ...(defaults.behaviour ? { behaviour: defaults.behaviour } : {}),
      ...(defaults.transport ? { transport: defaults.transport } : {}),
      onUpdate: (update) => this.#managed.push(update),
      onMissedUpdates: () => this.#managed.missed(),
      onEvent: (event) => {
        // The DC forgot the key: the authorization is gone, and a restart must not bring back
        // an account that can no longer act. Its connections are told and stay usable.
        if (event.type === "session_dead") {
          this.#store.forget(this.keyId);
          this.#managed.stop();
          this.onDead?.();
        }
        this.#fanOut({ id: 0, event });
      },
      ...(defaults.log ? { log: defaults.log } : {}),
    });
    this.#managed = new ManagedUpdates(this.client, (line) => this.#onLine(line));
    this.#seq = store.journalBounds(this.keyId)?.last ?? 0;
    this.#managed.start(cursor);
  }

  /** The cursor after the last line journaled. */
  cursor(): string {
    return this.#cursor ?? withJournal(this.#managed.cursor()!, this.#seq);
  }

  /** The session object as it stands (with the account's cursor). */
  session(): Record<string, unknown> {
    return {
      ...sessionToJson(this.client.currentSession(), this.client.server),
      updates_cursor: this.cursor(),
    };
  }

  /**
   * Attaches a connection: with a cursor, what followed it is delivered first (from the journal
   * when it reaches back that far, else from a difference), then `synced`, then live lines.
   */
  attach(sink: LineSink, cursor?: string): void {
    if (this.#managed.syncing) {
      // Its journal is still filling with what came while nobody held it: wait for that.
      this.#early.push([sink, cursor]);
      return;
    }
    if (cursor === undefined) {
      this.#sinks.add(sink);
      sink({ id: 0, event: { type: "synced", cursor: this.cursor(), recovered: 0 } });
      return;
    }
    const from = decodeCursor(cursor);
    const bounds = this.#store.journalBounds(this.keyId);
    const reaches = from.journal !== undefined &&
      (from.journal >= this.#seq || (bounds !== undefined && bounds.first <= from.journal + 1));
    if (reaches) {
      // Synchronous from the read to the registration: no live line can fall in between.
      const entries = this.#store.journal(this.keyId, from.journal!);
      for (const entry of entries) sink(JSON.parse(entry.line));
      this.#sinks.add(sink);
      sink({ id: 0, event: { type: "synced", cursor: this.cursor(), recovered: entries.length } });
      return;
    }
    this.#catchUp(sink, cursor);
  }

  /** Detaches a connection (the account stays held). */
  detach(sink: LineSink): void {
    this.#sinks.delete(sink);
    this.#waiting.delete(sink);
    this.#early = this.#early.filter(([early]) => early !== sink);
  }

  /** Feeds the result of a call made on the shared client (it may move the state). */
  callResult(call: TlObject, result: unknown): void {
    this.#managed.callResult(call, result);
  }

  /** Stops the account's client. */
  close(): void {
    this.#managed.stop();
    this.client.closeConnections();
  }

  #onLine(line: ManagedLine): void {
    if (line.message !== undefined) {
      this.#seq++;
      const cursor = withJournal(line.cursor as string, this.#seq);
      line = { ...line, cursor };
      this.#cursor = cursor;
      this.#store.append(this.keyId, [{ seq: this.#seq, line: JSON.stringify(line) }], cursor);
      // Trimmed now and then: a quarter of the bound (at most 256 lines) past it at most.
      if (this.#seq % Math.max(1, Math.min(256, this.#journalLimit >> 2)) === 0) {
        this.#store.trim(this.keyId, this.#journalLimit);
      }
    } else if ((line.event as { type?: string })?.type === "synced") {
      // The account's own catching up (at start): connections get their own synced.
      this.#cursor = withJournal((line.event as { cursor: string }).cursor, this.#seq);
      for (const [sink, cursor] of this.#early.splice(0)) this.attach(sink, cursor);
      return;
    }
    this.#fanOut(line);
  }

  #fanOut(line: ManagedLine): void {
    for (const sink of this.#sinks) sink(line);
    for (const buffer of this.#waiting.values()) buffer.push(line);
  }

  /**
   * Past the journal's reach: a difference of this connection's own from its cursor, over the
   * shared client. Live lines meanwhile wait; those the difference already covered are dropped.
   */
  #catchUp(sink: LineSink, cursor: string): void {
    const buffer: ManagedLine[] = [];
    this.#waiting.set(sink, buffer);
    let recovered = 0;
    const catchUp = new ManagedUpdates(this.client, (line) => {
      if (!this.#waiting.has(sink)) return catchUp.stop();
      const event = line.event as { type?: string; cursor?: string } | undefined;
      if (event?.type !== "synced") {
        if (line.message !== undefined) recovered++;
        sink(line);
        return;
      }
      catchUp.stop();
      this.#waiting.delete(sink);
      const reached = decodeCursor(event.cursor!).state;
      for (const live of buffer) {
        const update = ((live.message as TlObject | undefined)?.updates as TlObject[])?.[0];
        const move = update && moveOf(update);
        if (move) {
          const channel = channelOfBox(move.box);
          const local = move.box === "common"
            ? reached.pts
            : move.box === "secret"
            ? reached.qts
            : reached.channels[channel!];
          if (local !== undefined && move.to <= local) continue;
        }
        sink(live);
      }
      this.#sinks.add(sink);
      sink({ id: 0, event: { type: "synced", cursor: this.cursor(), recovered } });
    });
    catchUp.start(cursor);
  }
}

/** The held accounts of one `serve`. */
export class HeldAccounts {
  readonly #accounts = new Map<string, HeldAccount>();
  readonly #defaults: HeldDefaults;
  readonly #store: AccountStore;
  readonly #journalLimit: number;

  constructor(defaults: HeldDefaults, store: AccountStore, journalLimit = 10_000) {
    this.#defaults = defaults;
    this.#store = store;
    this.#journalLimit = journalLimit;
  }

  /** How many accounts are held. */
  get size(): number {
    return this.#accounts.size;
  }

  /** Restores every stored account; each reconnects and catches up from its cursor. */
  restore(): number {
    for (const stored of this.#store.accounts()) {
      const account = new HeldAccount(
        this.#defaults,
        this.#store,
        this.#journalLimit,
        stored.session,
        stored.cursor,
      );
      this.#keep(account);
    }
    return this.#accounts.size;
  }

  /**
   * The held account of a signed-in session object, held from now on if it was not: found by its
   * auth key id, and only when the whole key matches (knowing the key is the authorization).
   */
  hold(session: Record<string, unknown>): HeldAccount {
    const keyId = keyIdOf(session)!;
    const known = this.#accounts.get(keyId);
    const key = sessionFromJson(session, 2).authKey!;
    const knownKey = known?.client.session.authKey;
    if (known && knownKey && knownKey.every((byte, i) => byte === key[i])) return known;
    known?.close();
    this.#store.saveAccount({ keyId, session });
    const account = new HeldAccount(this.#defaults, this.#store, this.#journalLimit, session);
    this.#keep(account);
    return account;
  }

  #keep(account: HeldAccount): void {
    this.#accounts.set(account.keyId, account);
    account.onDead = () => {
      if (this.#accounts.get(account.keyId) === account) this.#accounts.delete(account.keyId);
    };
  }

  /** Forgets an account (after auth.logOut): its client stops and its journal goes. */
  forget(account: HeldAccount): void {
    account.close();
    this.#accounts.delete(account.keyId);
    this.#store.forget(account.keyId);
  }

  /** Stops every account's client (at shutdown); they stay stored. */
  close(): void {
    for (const account of this.#accounts.values()) account.close();
  }
}
