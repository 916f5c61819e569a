/**
 * One account held by `serve --state DIR`: it stays connected to Telegram after its JSON
 * connections close, keeps its managed update state, and journals every update line (bounded)
 * in the store, so that a connection that comes back with its cursor gets exactly what it
 * missed — from the journal, or, where the journal cannot say (trimmed, another store, a damaged
 * one), from a difference of its own from the cursor's state. Connections that load the same
 * account share its one client and each receive its updates. Held accounts survive a restart:
 * they are restored from the store and catch up from their stored state.
 *
 * Durability: a line reaches connections only once it is journaled (its store write committed),
 * and the account's stored state moves only with its journal rows. Store writes are asynchronous
 * (a server store answers over the network), so the account's outputs and writes go through one
 * queue, in order: each output is written, then delivered, before the next is looked at. When the store cannot be written (a full disk, an I/O
 * error), the account stops taking updates, says so in `health`, and probes the store with
 * backoff; once a write goes through it fetches what it missed by difference from its stored
 * state, so nothing is lost or repeated.
 *
 * @module
 */

import { Client } from "../client/client.ts";
import {
  defaultServer,
  serverFromJson,
  sessionFromJson,
  sessionToJson,
} from "../client/session_json.ts";
import { type ManagedOutput, ManagedUpdates } from "../client/managed_updates.ts";
import type { TlObject } from "../tl/codec.ts";
import { atJournalPosition, decodeCursor } from "../updates/cursor.ts";
import { HeldFollowers } from "./held_followers.ts";
import { StoreRetry } from "./store_retry.ts";
import { readReplay, wholeReplay } from "./held_replay.ts";
import { parseProxyUrl } from "../net/proxy_url.ts";
import {
  type AccountStore,
  type JournalEntry,
  LeaseLostError,
  type StoredAccount,
} from "../store/account_store.ts";
import { writeJournalRow } from "../store/journal_row.ts";
import {
  type HeldDefaults,
  type HeldLease,
  type HeldOptions,
  keyIdOf,
  type LineSink,
  newEpoch,
} from "./held_defaults.ts";

/** At most this many update lines are journaled in one write. */
const MAX_BATCH = 256;

/** One held account. */
export class HeldAccount {
  readonly client: Client;
  readonly keyId: string;
  readonly #managed: ManagedUpdates;
  readonly #store: AccountStore;
  readonly #journalLimit: number;
  readonly #log: (line: string) => void;
  readonly #verbose?: (line: string) => void;
  #session: Record<string, unknown>;
  /**
   * The proxy of the connection that held the account, as a whole URL, when it is not serve's
   * own `--proxy`: stored with the account (beside its auth key), so a restart goes through it too.
   */
  #ownProxy?: string;
  /** Which journal this account's positions count in. */
  #epoch = "";
  /** The account's lease in a shared store (none in a store one process owns). */
  readonly #lease?: HeldLease;
  /** The last journaled position. */
  #seq: number;
  /** The stored cursor: the state after the last journaled line; undefined until first stored. */
  #durable?: string;
  /** Store writes that may fail, and the probes until they work again. */
  readonly #writes: StoreRetry;
  /** Connections that get the account's lines. */
  readonly #sinks = new Set<LineSink>();
  /** Connections whose cursor is no position in the journal, each on a state of its own. */
  readonly #followers: HeldFollowers;
  /** Called when the account's authorization is gone (set by its registry). */
  onDead?: () => void;
  /** Called when a write was refused because the lease is another instance's now. */
  onLeaseLost?: () => void;
  /** Connections that came while the account had no stored state to give them yet. */
  #early: [LineSink, string | undefined][] = [];
  /** Connections reading their replay from the journal, not yet on the account's lines. */
  readonly #replaying = new Set<LineSink>();
  /** The account's outputs and store writes, one after the other. */
  #queue: Promise<void> = Promise.resolve();
  /** Outputs of the updates not yet written and delivered, with the run they came from. */
  readonly #pending: { output: ManagedOutput; run: number }[] = [];
  /** Bumped when the updates restart: outputs of an earlier run are not written. */
  #run = 0;
  #closed = false;
  /** Stopped by close(): its lease lost or handed over, or serve closing. */
  #stopped = false;
  /** Resolves true once the account is driven here (its lease this instance's), false if never. */
  readonly #driven: Promise<boolean>;
  #drivenNow!: (driven: boolean) => void;

  constructor(
    defaults: HeldDefaults,
    store: AccountStore,
    options: HeldOptions,
    stored: StoredAccount,
    lease?: HeldLease,
  ) {
    this.#driven = new Promise((resolve) => this.#drivenNow = resolve);
    this.#store = store;
    this.#lease = lease;
    this.#journalLimit = options.journalLimit ?? 10_000;
    this.#log = options.log ?? defaults.log ?? (() => {});
    this.#verbose = defaults.verbose;
    const { proxy, ...session } = stored.session;
    this.#session = session;
    this.keyId = keyIdOf(session)!;
    let server = session.server && typeof session.server === "object"
      ? serverFromJson(
        session.server as Record<string, unknown>,
        defaults.server ?? defaultServer(),
      )
      : defaults.server;
    if (typeof proxy === "string") {
      try {
        server = { ...server ?? defaultServer(), proxy: parseProxyUrl(proxy) };
        this.#ownProxy = proxy;
      } catch (error) {
        this.#log(
          `held account ${this.keyId}: its stored proxy is unusable, so serve's own is ` +
            `used: ${(error as Error).message}`,
        );
      }
    }
    this.client = new Client({
      schema: defaults.schema,
      ...(server ? { server } : {}),
      session: sessionFromJson(session, server?.dc ?? 2),
      app: defaults.app,
      // Shared by connections with options of their own: its lines are in the default form,
      // and each connection's writer re-spells them as that connection asked.
      behaviour: { ...defaults.behaviour, longsAsStrings: false },
      ...(defaults.transport ? { transport: defaults.transport } : {}),
      ...(defaults.clock ? { clock: defaults.clock } : {}),
      onUpdate: (update) => {
        this.#managed.push(update);
        this.#followers.push(update);
      },
      onMissedUpdates: () => {
        defaults.metrics?.reconnected();
        this.#managed.missed();
        this.#followers.missed();
      },
      onEvent: (event) => {
        // The DC forgot the key: the authorization is gone, and a restart must not bring back
        // an account that can no longer act. Its connections are told and stay usable.
        if (event.type === "session_dead") {
          // Nothing queued may write the account back.
          this.#closed = true;
          void this.#forgetQuietly();
          this.#managed.stop();
          this.#followers.stopAll();
          this.#writes.close();
          this.onDead?.();
        }
        // The client's own events concern every connection, on the account's lines or not.
        for (const sink of [...this.#sinks, ...this.#followers.sinks()]) {
          sink({ kind: "event", event });
        }
      },
      // A key kept for another DC (files live there) is stored with the account, so that a
      // restarted serve does not make it, nor export the authorization there, again.
      onSessionChanged: () => {
        this.#session = sessionToJson(this.client.currentSession(), this.client.server);
        void this.#serial(() => this.#writes.run(() => this.#saveRow()));
      },
      ...(defaults.log ? { log: defaults.log } : {}),
    });
    this.#followers = new HeldFollowers({
      client: this.client,
      durable: () => this.#durable,
      canJoin: () => !this.#writes.failure && !this.#managed.syncing,
      join: (sink) => this.#sinks.add(sink),
      debug: (line) => this.#debug(line),
    });
    this.#managed = new ManagedUpdates(
      this.client,
      (output) => this.#onOutput(output),
      this.client.clock,
      (line) => this.#debug(`updates: ${line}`),
    );
    this.#writes = new StoreRetry({
      log: (line) => this.#log(`store: held account ${this.keyId}: ${line}`),
      clock: options.clock ?? this.client.clock,
      retryMs: options.retryMs ?? 1000,
      stop: () => this.#managed.stop(),
      lost: () => {
        this.#log(`store: ${this.#name()}: its lease is another instance's now; it stops here`);
        void this.moved();
        this.onLeaseLost?.();
      },
      probe: () => this.#serial(() => this.#saveRow()),
      resume: () => {
        this.#run++;
        this.#managed.start(this.#durable);
      },
    });
    this.#seq = 0;
    if (!lease) {
      this.#begin(stored);
      return;
    }
    // Nothing is driven before the lease is this instance's; then the stored row (another
    // instance's journal and state, when it held the account) is where it goes on from.
    void this.#serial(async () => {
      const row = await lease.ready();
      if (row === false || this.#closed) return;
      this.#begin(row ?? stored);
    });
  }

  /** Starts from `stored`: its own state and journal, or a new journal. */
  #begin(stored: StoredAccount): void {
    this.#drivenNow(true);
    const from = stored.cursor !== undefined ? decodeCursor(stored.cursor) : undefined;
    if (from && stored.epoch !== undefined && from.epoch === stored.epoch) {
      // Restored: catch up from the stored state, journaling what came meanwhile.
      this.#epoch = stored.epoch;
      this.#seq = from.journal ?? 0;
      this.#durable = stored.cursor;
      this.#managed.start(stored.cursor);
      return;
    }
    // A journal of its own from here: positions of any earlier one are not this one's. A stored
    // state without an epoch (a store of an older version) is still a state to resume from.
    this.#epoch = newEpoch();
    this.#seq = 0;
    this.#durable = from ? atJournalPosition(stored.cursor!, this.#epoch, 0) : undefined;
    void this.#serial(async () => {
      if (await this.#writes.run(() => this.#saveRow())) this.#managed.start(this.#durable);
    });
  }

  /**
   * Runs `task` after every output and write queued before it; its result, while the queue goes
   * on whatever it was. Never called from a queued task (that would wait for itself).
   */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(task);
    this.#queue = result.then(() => {}, () => {});
    return result;
  }

  /** Stores the account's row: its session, epoch and stored cursor (a new epoch drops rows). */
  async #saveRow(): Promise<void> {
    if (this.#closed || !this.#epoch) return;
    await this.#store.saveAccount({
      keyId: this.keyId,
      session: this.#ownProxy ? { ...this.#session, proxy: this.#ownProxy } : this.#session,
      epoch: this.#epoch,
      ...(this.#durable !== undefined ? { cursor: this.#durable } : {}),
    }, this.#fence());
  }

  /** The fence of this instance's lease, for writes; none without a lease (one owner). */
  #fence() {
    if (!this.#lease) return undefined;
    const fence = this.#lease.fence();
    if (!fence) throw new LeaseLostError(`the lease on ${this.#name()} is not held here`);
    return fence;
  }

  /**
   * Goes through `proxy` (a whole URL) from now on and after a restart: a connection that holds
   * the account with a proxy of its own brings it here. Open connections close; calls in flight
   * end as `Client.setServer` says.
   */
  useProxy(proxy: string): void {
    if (proxy === this.#ownProxy) return;
    this.client.setServer({ ...this.client.server, proxy: parseProxyUrl(proxy) });
    this.#ownProxy = proxy;
    void this.#serial(() => this.#writes.run(() => this.#saveRow()));
  }

  /** The cursor after the last line journaled (once the account has a stored state). */
  cursor(): string | undefined {
    return this.#durable;
  }

  /** Why the store fails for this account, while it does. */
  get storeFailure(): string | undefined {
    return this.#writes.failure;
  }

  /** The session object as it stands (with the account's cursor once it has one). */
  session(): Record<string, unknown> {
    return {
      ...sessionToJson(this.client.currentSession(), this.client.server),
      ...(this.#durable !== undefined ? { updates_cursor: this.#durable } : {}),
    };
  }

  /**
   * Attaches a connection: with a cursor, what followed it is delivered first (from the journal
   * when the cursor is a position in it, else from a difference), then `synced`, then live lines.
   */
  attach(sink: LineSink, cursor?: string): void {
    if (this.#managed.syncing || this.#durable === undefined) {
      // No stored state yet, or the journal is still filling with what came while nobody held
      // the account: a cursor handed out now could not be resumed exactly. Wait for it.
      this.#debug("attach waits for the account's own catching up");
      this.#early.push([sink, cursor]);
      return;
    }
    if (cursor === undefined) {
      this.#sinks.add(sink);
      sink({ kind: "event", event: { type: "synced", cursor: this.#durable, recovered: 0 } });
      return;
    }
    const from = decodeCursor(cursor);
    if (from.epoch === this.#epoch && from.journal !== undefined && from.journal <= this.#seq) {
      this.#replaying.add(sink);
      // In the write queue, after what the account has received and not journaled yet: the lines
      // of a difference that just came wait there, and they followed the cursor too, so they are
      // replayed before synced, not sent live after it.
      const journal = from.journal;
      void this.#serial(() => this.#replay(sink, cursor, journal));
      return;
    }
    this.#debug("attach follows a cursor off the journal with its own difference");
    this.#followers.follow(sink, cursor);
  }

  /**
   * Replays the journal after `after` to a connection, then puts it on the account's lines. The
   * reads are asynchronous while lines go on being journaled: it reads on until it has every line
   * up to the last one delivered, then replays and registers in one synchronous step, so that no
   * live line falls in between nor comes twice. A journal that cannot say (trimmed meanwhile,
   * unreadable) makes the connection follow its cursor by a difference instead.
   */
  async #replay(sink: LineSink, cursor: string, after: number): Promise<void> {
    // Read on while lines are journaled meanwhile (each read ends a turn before this one goes on).
    let read: JournalEntry[] | undefined = [];
    try {
      while (read && this.#replaying.has(sink) && (read.at(-1)?.seq ?? after) < this.#seq) {
        const more: JournalEntry[] | undefined = await readReplay(
          this.#store,
          this.keyId,
          read.at(-1)?.seq ?? after,
          () => this.#seq,
          () => this.#replaying.has(sink),
        );
        // Trimmed meanwhile: the connection follows off the journal. Nothing more: checked below.
        if (more === undefined) read = undefined;
        else if (more.length === 0) break;
        else read.push(...more);
      }
    } catch (error) {
      this.#log(`store: cannot read the journal of ${this.#name()}: ${(error as Error).message}`);
      read = undefined;
    }
    // Checked and registered in this one synchronous step (see held_replay.ts).
    const entries = wholeReplay(read, after, this.#seq);
    // Detached meanwhile, or the account closed: nothing to deliver.
    if (!this.#replaying.delete(sink) || this.#closed) return;
    if (!entries) {
      this.#debug("attach follows a cursor off the journal with its own difference");
      return this.#followers.follow(sink, cursor);
    }
    this.#debug(`attach replays ${entries.length} journal rows`);
    for (const entry of entries) sink({ kind: "journaled", row: entry.line });
    this.#sinks.add(sink);
    sink({
      kind: "event",
      event: { type: "synced", cursor: this.#durable!, recovered: entries.length },
    });
  }

  /** Detaches a connection (the account stays held). */
  detach(sink: LineSink): void {
    this.#sinks.delete(sink);
    this.#replaying.delete(sink);
    this.#followers.remove(sink);
    this.#early = this.#early.filter(([early]) => early !== sink);
  }

  /** Feeds the result of a call made on the shared client (it may move the state). */
  callResult(call: TlObject, result: unknown): void {
    this.#managed.callResult(call, result);
    this.#followers.callResult(call, result);
  }

  /**
   * Stops the account's client; resolves once the writes it had queued are done (or failed), so
   * that the store can be closed after.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#stopped = true;
    this.#drivenNow(false);
    this.#replaying.clear();
    this.#managed.stop();
    this.#followers.clear();
    this.#writes.close();
    this.client.closeConnections();
    return this.#queue;
  }

  /**
   * Stops the account because another instance drives it now (its lease lost, or handed over):
   * every connection attached to it, or waiting to be, is told `account_moved` first, so that it
   * loads the session again (on any instance) instead of waiting for lines that will not come.
   */
  moved(): Promise<void> {
    if (!this.#stopped) {
      const told = new Set([
        ...this.#sinks,
        ...this.#replaying,
        ...this.#early.map(([sink]) => sink),
        ...this.#followers.sinks(),
      ]);
      for (const sink of told) sink({ kind: "event", event: { type: "account_moved" } });
    }
    return this.close();
  }

  /**
   * Whether calls may go to this account's client: once it is driven here (under a lease: once
   * the lease is this instance's), and not after it was stopped (the lease lost, handed over):
   * then another instance drives the key, and two must never (false).
   */
  async drivable(): Promise<boolean> {
    return await this.#driven && !this.#stopped;
  }

  /** Forgets the account in the store (after auth.logOut); a failure is logged. */
  async forget(): Promise<void> {
    await this.close();
    await this.#forgetQuietly();
  }

  async #forgetQuietly(): Promise<void> {
    try {
      await this.#store.forget(this.keyId);
    } catch (error) {
      this.#log(`store: cannot forget ${this.#name()}: ${(error as Error).message}`);
    }
  }

  #name(): string {
    return `held account ${this.keyId}`;
  }

  #debug(line: string): void {
    this.#verbose?.(`${this.#name()}: ${line}`);
  }

  #onOutput(output: ManagedOutput): void {
    this.#pending.push({ output, run: this.#run });
    if (this.#pending.length > 1) return; // the drain under way (or queued) takes it
    this.#serial(() => this.#drain()).catch((error) =>
      this.#log(`${this.#name()}: ${(error as Error).message}`)
    );
  }

  /**
   * Writes and delivers what the updates produced, in order. Update lines that wait together
   * (they came while the previous write was under way) are journaled in one write, so a store
   * with a network round trip per write is not the limit of a busy account's rate; each line
   * still reaches connections only once it is journaled.
   */
  async #drain(): Promise<void> {
    while (this.#pending.length) {
      const { output, run } = this.#pending[0];
      if (output.kind !== "updates") {
        this.#pending.shift();
        await this.#take(output, run);
        continue;
      }
      let n = 1;
      while (
        n < this.#pending.length && n < MAX_BATCH && this.#pending[n].output.kind === "updates" &&
        this.#pending[n].run === run
      ) n++;
      const batch = this.#pending.splice(0, n).map((item) => item.output);
      await this.#takeUpdates(batch as Extract<ManagedOutput, { kind: "updates" }>[], run);
    }
  }

  /** Update lines, journaled in one write, then delivered. */
  async #takeUpdates(
    outputs: Extract<ManagedOutput, { kind: "updates" }>[],
    run: number,
  ): Promise<void> {
    // After a failed write the rest of that batch is dropped: it is fetched again later.
    if (this.#closed || run !== this.#run || this.#writes.failure) return;
    const first = this.#seq + 1;
    const stamped = outputs.map((output, i): ManagedOutput & { kind: "updates" } => ({
      kind: "updates",
      value: output.value,
      cursor: atJournalPosition(output.cursor, this.#epoch, first + i),
    }));
    const entries = stamped.map((line, i) => ({
      seq: first + i,
      line: writeJournalRow({ cursor: line.cursor, value: line.value }),
    }));
    const last = stamped.at(-1)!.cursor;
    const written = await this.#writes.run(() =>
      this.#store.append(this.keyId, entries, last, this.#fence())
    );
    if (!written || this.#closed || run !== this.#run) return;
    const trimEvery = Math.max(1, Math.min(256, this.#journalLimit >> 2));
    const crossed =
      Math.floor((first - 1) / trimEvery) !== Math.floor((first - 1 + outputs.length) / trimEvery);
    this.#seq = first + outputs.length - 1;
    this.#durable = last;
    for (const line of stamped) this.#fanOut(line);
    // Trimmed now and then: a quarter of the bound (at most 256 lines) past it at most.
    if (crossed) {
      try {
        await this.#store.trim(this.keyId, this.#journalLimit);
      } catch (error) {
        // Nothing is lost by a journal longer than its bound: the next trim tries again.
        this.#log(`store: cannot trim the journal of ${this.#name()}: ${(error as Error).message}`);
      }
    }
  }

  /** One event, in its turn: `synced` is stored before anyone is told its cursor. */
  async #take(
    output: Exclude<ManagedOutput, { kind: "updates" }>,
    run: number,
  ): Promise<void> {
    if (this.#closed || run !== this.#run || this.#writes.failure) return;
    if (output.event.type === "synced") {
      this.#debug(`synced; ${this.#early.length} connection(s) waited for it`);
      // The account's own catching up: its state is stored before anyone is told a cursor.
      const cursor = atJournalPosition(output.event.cursor, this.#epoch, this.#seq);
      const written = await this.#writes.run(() =>
        this.#store.append(this.keyId, [], cursor, this.#fence())
      );
      if (!written) return;
      if (this.#closed || run !== this.#run) return;
      this.#durable = cursor;
      for (const [sink, early] of this.#early.splice(0)) this.attach(sink, early);
      return;
    }
    this.#fanOut(output);
  }

  #fanOut(output: ManagedOutput): void {
    for (const sink of this.#sinks) sink(output);
    this.#followers.delivered(output);
  }
}
