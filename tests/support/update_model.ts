/**
 * A model-based check of the managed update pipeline of held sessions (`serve --state`): a seeded
 * random sequence of steps — Alice attaching (with the last cursor she saw, with the cursor of her
 * first `synced`, or with none) and detaching, Bob sending, editing and deleting in the private
 * chat, the group and the channel, serve restarted gracefully or killed, store writes failing and
 * healing, the emulator dropping update pushes — checked after every step against a model of what
 * Alice must have received: every update of Bob's after her cursor exactly once, in order per box,
 * and, while nothing stands in the way, all of them within a bounded wait.
 *
 * An update is identified by its box and pts (each of Bob's actions moves Alice's box by one) and
 * checked against the action: its kind and message ids. A cursor's position is what the model saw
 * delivered up to the line that carried it; only a cursor handed out to a connection that loaded
 * no cursor is decoded, since nothing else says where it stands.
 *
 * Used by tests/e2e/update_model_test.ts (a few hundred seeds) and scripts/update_model.ts (as
 * many as one likes, by hand). A failure names the line that replays its seed.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import { openSqliteStore } from "../../lib/store/sqlite.ts";
import { HeldAccounts } from "../../lib/proxy/held_accounts.ts";
import type { ProxyDefaults } from "../../lib/proxy/proxy_connection.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { decodeCursor } from "../../lib/updates/cursor.ts";
import { readLines } from "../../lib/io/lines.ts";
import type { Sender } from "../../lib/net/sender.ts";
import { emulatedSender, testCodec } from "./emulated_sender.ts";
import { rawCaller, signIn } from "./raw_calls.ts";
import { signInAlice, startServeProcess } from "./processes.ts";
import { faultyStore, type StoreFault, storeFault } from "./faulty_store.ts";

type Emulator = Awaited<ReturnType<typeof startEmulator>>;
type Line = Record<string, unknown>;

const ALICE = 1000001;
const GROUP = 2000001;
const CHANNEL = 3000001;
const CHANNEL_HASH = 7000000000000000001n;
/** Alice's boxes that Bob's actions move. */
export const COMMON = "common";
/** The channel's box. */
export const CHANNEL_BOX = `channel:${CHANNEL}`;
const BOXES = [COMMON, CHANNEL_BOX];
/** How long Alice may take to receive what Bob did, while nothing stands in the way. */
const SETTLE_MS = 10_000;
/** How long a late update is waited for, to tell late from lost in a failure. */
const LOST_MS = 60_000;

/**
 * Where a connection (or a cursor) stands in one box: everything up to `floor` delivered, and the
 * pts in `above` too (a difference delivers its new messages before the edits and deletions
 * between them, so what was delivered is not always a prefix).
 */
export interface BoxPosition {
  floor: number;
  above: number[];
}

/** A position per box. */
export type Position = Record<string, BoxPosition>;

/** A deep copy of a position. */
function copyOf(position: Position): Position {
  return Object.fromEntries(
    Object.entries(position).map(([box, at]) => [box, { floor: at.floor, above: [...at.above] }]),
  );
}

/** A position at these pts, nothing above them. */
export function positionAt(pts: Record<string, number>): Position {
  return Object.fromEntries(Object.entries(pts).map(([box, floor]) => [box, { floor, above: [] }]));
}

function has(at: BoxPosition, pts: number): boolean {
  return pts <= at.floor || at.above.includes(pts);
}

function add(at: BoxPosition, pts: number): void {
  at.above.push(pts);
  while (at.above.includes(at.floor + 1)) {
    at.floor++;
    at.above.splice(at.above.indexOf(at.floor), 1);
  }
}

function samePosition(a: Position, b: Position): boolean {
  return BOXES.every((box) =>
    a[box].floor === b[box].floor &&
    [...a[box].above].sort().join() === [...b[box].above].sort().join()
  );
}

function shownPosition(position: Position): string {
  return BOXES.map((box) =>
    `${box} ${position[box].floor}${position[box].above.length ? ` +[${position[box].above}]` : ""}`
  ).join(", ");
}

/** One of Bob's actions as it lands in Alice's boxes. */
export interface Action {
  box: string;
  pts: number;
  kind: "new" | "edit" | "delete";
  ids: number[];
}

/** A seed's replay command line. */
export function replayLine(seed: number, steps: number): string {
  return `deno run -A scripts/update_model.ts --seed ${seed} --steps ${steps}`;
}

/** The seeded generator of a run: mulberry32, floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A check of the model that did not hold. */
export class ModelFailure extends Error {
  override name = "ModelFailure";
}

/** The box, pts, kind and message ids of a managed update, or undefined when it moves no box. */
export function actionOf(update: TlObject): Action | undefined {
  const message = update.message as TlObject | undefined;
  const channel = update.channel_id ?? (message?.peer_id as TlObject | undefined)?.channel_id;
  const common = { pts: Number(update.pts) };
  switch (update._cons) {
    case "updateNewMessage":
      return { box: COMMON, kind: "new", ids: [Number(message!.id)], ...common };
    case "updateEditMessage":
      return { box: COMMON, kind: "edit", ids: [Number(message!.id)], ...common };
    case "updateDeleteMessages":
      return {
        box: COMMON,
        kind: "delete",
        ids: (update.messages as number[]).map(Number),
        ...common,
      };
    case "updateNewChannelMessage":
      return { box: `channel:${channel}`, kind: "new", ids: [Number(message!.id)], ...common };
    case "updateEditChannelMessage":
      return { box: `channel:${channel}`, kind: "edit", ids: [Number(message!.id)], ...common };
    case "updateDeleteChannelMessages":
      return {
        box: `channel:${channel}`,
        kind: "delete",
        ids: (update.messages as number[]).map(Number),
        ...common,
      };
  }
  if (update.pts !== undefined) {
    throw new ModelFailure(`an update the model does not know: ${update._cons}`);
  }
  return undefined;
}

/**
 * What one connection of Alice's received, checked line by line against Bob's actions. Each
 * update must be one Bob did, after the connection's start, not delivered before on it, and in
 * order in its box as Telegram's own differences are: a change (edit, deletion) only once
 * everything before it in its box came, a new message once every new message before it came.
 */
export class AliceView {
  /** Where the connection started (undefined until `synced` for one that loaded no cursor). */
  start?: Position;
  /** What was delivered, start included. */
  position?: Position;
  synced = false;
  /** Update lines before `synced`. */
  #before = 0;

  constructor(readonly model: ActionLog, start?: Position) {
    if (start) {
      this.start = copyOf(start);
      this.position = copyOf(start);
    }
  }

  /** Takes one line of the connection; throws {@link ModelFailure} when it breaks the promise. */
  take(line: Line): void {
    const event = line.event as { type?: string; cursor?: string; recovered?: number } | undefined;
    if (event?.type === "session_dead") {
      throw new ModelFailure(`session_dead: ${JSON.stringify(line)}`);
    }
    if (event?.type === "synced") return this.#synced(event.cursor!, event.recovered!);
    const updates = (line.message as TlObject | undefined)?.updates as TlObject[] | undefined;
    if (!updates) return;
    if (!this.position) {
      throw new ModelFailure(`an update before synced on a connection that loaded no cursor`);
    }
    for (const update of updates) {
      const got = actionOf(update);
      if (got) this.#check(got, update);
    }
    if (!this.synced) this.#before++;
    if (typeof line.cursor === "string") this.model.saw(line.cursor, this.position, false);
  }

  #check(got: Action, update: TlObject): void {
    if (got.pts === 0 && got.kind === "new") {
      // A message of a difference carries no pts (Telegram's new_messages): found by its id.
      got.pts = this.model.newMessage(got.box, got.ids[0])?.pts ?? 0;
    }
    const at = this.position![got.box];
    const shown = `${got.kind} ${got.box} pts ${got.pts} (ids ${got.ids}) [${
      JSON.stringify(update).slice(0, 200)
    }]`;
    if (!at) throw new ModelFailure(`${shown}: a box the model does not know`);
    if (has(at, got.pts)) {
      throw new ModelFailure(
        `${shown} again: this connection had ${shownPosition(this.position!)}`,
      );
    }
    const done = this.model.at(got.box, got.pts);
    if (!done) throw new ModelFailure(`${shown}: Bob did nothing that moved it there`);
    if (done.kind !== got.kind || done.ids.join() !== got.ids.join()) {
      throw new ModelFailure(`${shown}: Bob's action there was ${done.kind} ${done.ids}`);
    }
    // In order as Telegram's differences are: a change only once everything before it came, a
    // new message once every new message before it came (the changes between may follow it).
    const missing = this.model.pending(got.box, at, got.pts, got.kind === "new");
    if (missing !== undefined) {
      throw new ModelFailure(`${shown} arrived, but ${got.box} pts ${missing} never did`);
    }
    add(at, got.pts);
  }

  #synced(cursor: string, recovered: number): void {
    if (this.synced) throw new ModelFailure(`a second synced on one connection`);
    this.synced = true;
    if (!this.position) {
      // Loaded without a cursor: it starts wherever the account's stored state stood.
      this.position = this.model.decode(cursor);
      this.start = copyOf(this.position);
      for (const box of BOXES) {
        if (this.start[box].floor > this.model.done[box]) {
          throw new ModelFailure(
            `synced at ${box} ${this.start[box].floor}, past Bob's ${this.model.done[box]}`,
          );
        }
      }
    } else if (recovered !== this.#before) {
      throw new ModelFailure(
        `synced says ${recovered} recovered, ${this.#before} lines came before it`,
      );
    }
    this.model.saw(cursor, this.position, true);
  }

  /** True once everything Bob did is delivered. */
  complete(): boolean {
    return this.synced &&
      BOXES.every((box) => this.position![box].floor === this.model.done[box]);
  }

  /** What is missing, for a failure message. */
  describe(): string {
    if (!this.synced) return "no synced yet";
    return `has ${shownPosition(this.position!)}; Bob is at ${
      BOXES.map((box) => `${box} ${this.model.done[box]}`).join(", ")
    }`;
  }
}

/** Bob's actions in a seed, and every cursor Alice was handed with the position it stands for. */
export class ActionLog {
  readonly #actions = new Map<string, Action>();
  /** The latest pts of each box. */
  readonly done: Record<string, number>;
  /** Where the boxes stood when the seed began: a cursor that knows no channel is there. */
  readonly baseline: Record<string, number>;
  readonly #cursors = new Map<string, Position>();
  lastCursor?: string;
  firstSynced?: string;
  /** Whether a `synced` may become the first one (after the warm-up). */
  recordFirst = false;

  constructor(start: Record<string, number>) {
    this.done = { ...start };
    this.baseline = { ...start };
  }

  /** Records one of Bob's actions; each must be the next of its box. */
  add(action: Action): void {
    if (action.pts !== this.done[action.box] + 1) {
      throw new Error(
        `the emulator moved ${action.box} from ${this.done[action.box]} to ${action.pts}`,
      );
    }
    this.done[action.box] = action.pts;
    this.#actions.set(`${action.box}/${action.pts}`, action);
    if (action.kind === "new") this.#actions.set(`${action.box}/new ${action.ids[0]}`, action);
  }

  /** The action at a box's pts. */
  at(box: string, pts: number): Action | undefined {
    return this.#actions.get(`${box}/${pts}`);
  }

  /**
   * The first pts before `pts` in `box` that `at` lacks (of new messages only, if `newOnly`), or
   * undefined when nothing before it is missing.
   */
  pending(box: string, at: BoxPosition, pts: number, newOnly: boolean): number | undefined {
    for (let before = at.floor + 1; before < pts; before++) {
      if (at.above.includes(before)) continue;
      if (!newOnly || this.at(box, before)?.kind === "new") return before;
    }
    return undefined;
  }

  /** The action that sent message `id` into `box`. */
  newMessage(box: string, id: number): Action | undefined {
    return this.#actions.get(`${box}/new ${id}`);
  }

  /** Remembers a cursor Alice saw and where it stands. */
  saw(cursor: string, position: Position, synced: boolean): void {
    const known = this.#cursors.get(cursor);
    if (known && !samePosition(known, position)) {
      throw new ModelFailure(
        `one cursor for two positions: ${shownPosition(known)} and ${shownPosition(position)}`,
      );
    }
    this.#cursors.set(cursor, copyOf(position));
    this.lastCursor = cursor;
    if (synced && this.recordFirst && this.firstSynced === undefined) this.firstSynced = cursor;
  }

  /** The position of a cursor Alice saw. */
  positionOf(cursor: string): Position {
    return this.#cursors.get(cursor)!;
  }

  /** Where a cursor the model did not see delivered stands, read from the cursor itself. */
  decode(cursor: string): Position {
    const value = decodeCursor(cursor);
    if (value.inside) {
      // Which items of a difference it counts depends on when that difference was taken.
      throw new ModelFailure(`a connection that loaded no cursor got a mid-difference one`);
    }
    return positionAt({
      [COMMON]: value.state.pts,
      [CHANNEL_BOX]: value.state.channels[String(CHANNEL)] ?? this.baseline[CHANNEL_BOX],
    });
  }
}

/** A minimal line client of `serve`: id-0 lines kept in order, answers found by id. */
export class LineClient {
  readonly #connection: Deno.TcpConn;
  readonly lines: Line[] = [];
  readonly #answers = new Map<unknown, (line: Line) => void>();
  readonly #reading: Promise<void>;

  private constructor(connection: Deno.TcpConn) {
    this.#connection = connection;
    this.#reading = (async () => {
      for await (const line of readLines(connection.readable)) {
        if (line.kind !== "line") continue;
        const value = JSON.parse(line.text) as Line;
        if (value.id === 0) this.lines.push(value);
        else this.#answers.get(value.id)?.(value);
      }
    })().catch(() => {});
  }

  /** Connects to a serve port on 127.0.0.1. */
  static async connect(port: number): Promise<LineClient> {
    return new LineClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Sends a request and waits for the line with its id. */
  async request(value: Line, timeoutMs = 10_000): Promise<Line> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = new Promise<Line>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer to ${value.id}`)), timeoutMs);
      this.#answers.set(value.id, resolve);
    });
    try {
      await this.#connection.write(new TextEncoder().encode(JSON.stringify(value) + "\n"));
      return await answer;
    } finally {
      clearTimeout(timer);
      this.#answers.delete(value.id);
    }
  }

  /** Closes the connection and waits for its reader to end. */
  async close(): Promise<void> {
    try {
      this.#connection.close();
    } catch { /* closed by the other side */ }
    await this.#reading;
  }
}

/** The emulator, Bob on a raw connection, and Alice's signed-in session, shared by seeds. */
export class ModelWorld {
  private constructor(
    readonly emulator: Emulator,
    readonly bob: (call: TlObject) => Promise<TlObject>,
    readonly session: Line,
    readonly sender: Sender,
  ) {}

  /** Starts the emulator and signs Bob and Alice in (Alice through a serve without state). */
  static async start(): Promise<ModelWorld> {
    const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
    const sender = emulatedSender(emulator, 1);
    const bob = rawCaller(sender, testCodec);
    await signIn(bob, "+15550000002", "hunter2");
    const proxy = serve(proxyDefaults(emulator), { host: "127.0.0.1", port: 0, maxLine: 1 << 20 });
    const client = await LineClient.connect(proxy.port);
    const session = await signInAlice(
      client as unknown as Parameters<typeof signInAlice>[0],
    ) as Line;
    await client.close();
    await proxy.close();
    delete session.updates_cursor;
    return new ModelWorld(emulator, bob, session, sender);
  }

  /** Where Alice's boxes stand in the emulator now. */
  now(): Record<string, number> {
    return {
      [COMMON]: this.emulator.world.users.get(ALICE)!.pts,
      [CHANNEL_BOX]: this.emulator.world.chats.get(CHANNEL)!.pts,
    };
  }

  /** Stops everything. */
  async close(): Promise<void> {
    this.sender.close();
    await this.emulator.close();
  }
}

function proxyDefaults(emulator: Emulator): ProxyDefaults {
  return {
    schema: loadSchema(),
    server: serverFlag(JSON.stringify(emulator.serverLine(1)))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds: 5 },
    transport: { kind: "intermediate" },
    log: () => {},
  };
}

/** A running serve with held sessions, stopped gracefully ("term") or all at once ("kill"). */
interface ServeHandle {
  port: number;
  stop(how: "term" | "kill"): Promise<void>;
  /** What serve logged so far (a process's stderr with --print-tracebacks), for a failure. */
  log?(): string;
}

/** serve in this process, on a store whose writes `fault` can make fail. */
async function inProcessServe(
  world: ModelWorld,
  state: string,
  journalLimit: number,
  fault: StoreFault,
  log: (line: string) => void,
): Promise<ServeHandle> {
  const store = faultyStore(await openSqliteStore(state), fault);
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
    log(line);
  };
  // The client's own log (retries, reconnects) and the held accounts' (store trouble), kept for
  // a failure's report.
  const defaults = { ...proxyDefaults(world.emulator), log: keep, verbose: keep };
  const held = new HeldAccounts(defaults, store, { journalLimit, retryMs: 20, log: keep });
  defaults.held = held;
  await held.restore();
  const proxy = serve(defaults, { host: "127.0.0.1", port: 0, maxLine: 1 << 20 });
  return {
    port: proxy.port,
    log: () => lines.map((line) => line + "\n").join(""),
    async stop(how) {
      if (how === "term") {
        await proxy.close();
        await held.close();
        await store.close();
        return;
      }
      // All at once, nothing waited for: the store and the accounts go in the same tick as
      // the sockets (a real SIGKILL is what process seeds do).
      const closing = proxy.close();
      const storeClosing = store.close();
      const heldClosing = held.close();
      await Promise.all([closing, storeClosing, heldClosing]);
    },
  };
}

/** `mtproto2json serve --state` as a process, stopped by SIGTERM or SIGKILL. */
async function processServe(
  world: ModelWorld,
  state: string,
  journalLimit: number,
): Promise<ServeHandle> {
  const { child, port, stderr } = await startServeProcess(world.emulator.serverLine(1), [
    "--state",
    state,
    "--journal",
    String(journalLimit),
    // Retries, reconnects, store trouble and (verbose) every line in and out and how connections
    // attach go to stderr: a failed seed prints the end of it.
    "--print-tracebacks",
    "--verbose",
    // With the time of each line: a failure's log then shows how long each call took.
    "--log-format",
    "json",
  ]);
  return {
    port,
    log: stderr,
    async stop(how) {
      child.kill(how === "kill" ? "SIGKILL" : "SIGTERM");
      // serve ends on SIGTERM once its calls in flight are done: one still running later hangs.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((resolve) =>
        timer = setTimeout(() => resolve("late"), 15_000)
      );
      const ended = await Promise.race([child.status, late]).finally(() => clearTimeout(timer));
      if (ended === "late") {
        child.kill("SIGKILL");
        await child.status;
        throw new Error("serve did not end within 15 s of SIGTERM: it hangs");
      }
    },
  };
}

/** What a seed did and how it ended. */
export interface SeedResult {
  seed: number;
  steps: number;
  ok: boolean;
  /** The steps taken, one line each. */
  trace: string[];
  /** The failure, when not ok. */
  error?: string;
  ms: number;
  /** How many times each kind of step ran. */
  kinds: Record<string, number>;
  /** Store writes refused by the injected fault. */
  refusedWrites: number;
}

/** The kinds of step a seed may take. */
export const STEP_KINDS = [
  "attach",
  "detach",
  "send",
  "burst",
  "edit",
  "delete",
  "restart",
  "kill",
  "store_fault",
  "store_heal",
  "drop_on",
  "drop_off",
] as const;
type StepKind = typeof STEP_KINDS[number];
type Peer = "chat" | "group" | "channel";

/** One seed: its world, the serve, Alice's connection and the model, step by step. */

/** Whether seed `seed` runs serve as a process (the rest run it in this process). */
export function servesAsProcess(seed: number): boolean {
  const random = seededRandom(seed);
  random(); // the journal's length is drawn first
  return random() < 0.15;
}

class SeedRun {
  readonly random: () => number;
  readonly trace: string[] = [];
  readonly kinds: Record<string, number> = {};
  readonly fault = storeFault();
  readonly log: ActionLog;
  readonly journal: number;
  readonly inProcess: boolean;
  serve?: ServeHandle;
  client?: LineClient;
  view?: AliceView;
  #seen = 0;
  dropOn = false;
  /** Whether every line Alice takes goes into the trace. */
  verbose = false;
  /** Bob's messages of this seed still there, by peer. */
  readonly messages: { id: number; peer: Peer }[] = [];
  #text = 0;

  constructor(
    readonly world: ModelWorld,
    readonly seed: number,
    readonly state: string,
  ) {
    this.random = seededRandom(seed);
    this.journal = [1, 10, 10_000][Math.floor(this.random() * 3)];
    this.inProcess = this.random() >= 0.15;
    this.log = new ActionLog(world.now());
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  note(text: string): void {
    // The time of day, to line the steps up with serve's log in a failure's report.
    this.trace.push(`${new Date().toISOString().slice(11, 23)} ${text}`);
  }

  /** What every serve of this seed logged, oldest first (a failure prints its end). */
  readonly serveLogs: string[] = [];

  /** Keeps the log of the serve that just stopped. */
  keepServeLog(): void {
    const text = this.serve?.log?.();
    if (text) this.serveLogs.push(text);
  }

  async startServe(): Promise<void> {
    this.serve = this.inProcess
      ? await inProcessServe(
        this.world,
        this.state,
        this.journal,
        this.fault,
        (line) => this.verbose && this.note(`    serve: ${line}`),
      )
      : await processServe(this.world, this.state, this.journal);
  }

  /** Alice loads her session: with the last cursor she saw, her first synced's, or none. */
  async attach(how: "last" | "first" | "none"): Promise<void> {
    const cursor = how === "last"
      ? this.log.lastCursor
      : how === "first"
      ? this.log.firstSynced ?? this.log.lastCursor
      : undefined;
    this.note(`attach with ${cursor === undefined ? "no" : how} cursor`);
    this.client = await LineClient.connect(this.serve!.port);
    this.#seen = 0;
    this.view = new AliceView(this.log, cursor ? this.log.positionOf(cursor) : undefined);
    const answer = await this.client.request({
      id: 1,
      session: { ...this.world.session, ...(cursor ? { updates_cursor: cursor } : {}) },
    });
    if (answer.error !== undefined) {
      throw new ModelFailure(`loading the session: ${JSON.stringify(answer)}`);
    }
  }

  /** Alice takes what reached her so far, then closes her connection. */
  async detach(): Promise<void> {
    this.absorb();
    await this.client!.close();
    this.absorb();
    this.client = undefined;
    this.view = undefined;
  }

  /** Checks the lines that reached Alice since the last look. */
  absorb(): void {
    if (!this.client) return;
    const lines = this.client.lines;
    while (this.#seen < lines.length) {
      const line = lines[this.#seen++];
      if (this.verbose) this.note(`    < ${lineSummary(line)}`);
      this.view!.take(line);
    }
  }

  /** Whether Alice must by now get everything Bob did. */
  get live(): boolean {
    return this.view !== undefined && !this.fault.failing && !this.dropOn;
  }

  /** After a step: what came is right, and while nothing stands in the way, all of it came. */
  async settle(): Promise<void> {
    this.absorb();
    if (!this.live) return;
    const start = Date.now();
    while (!this.view!.complete()) {
      if (Date.now() > start + SETTLE_MS) {
        // Late or lost? Waiting on tells the two apart in the failure (a loaded machine can be
        // slow; a lost update never comes).
        const missing = this.view!.describe();
        while (!this.view!.complete() && Date.now() < start + LOST_MS) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          this.absorb();
        }
        const after = this.view!.complete()
          ? `all came after ${Date.now() - start} ms`
          : `still missing after ${LOST_MS} ms`;
        throw new ModelFailure(
          `after ${SETTLE_MS} ms Alice still misses updates: ${missing} (${after})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
      this.absorb();
    }
  }

  /** Bob does one thing; the model records where it lands in Alice's boxes. */
  async bobDoes(call: TlObject, what: string): Promise<Action> {
    const events = this.world.emulator.world.boxEvents;
    const before = events.length;
    const answer = await this.world.bob(call);
    if (answer._cons === "rpc_error") throw new Error(`Bob's ${what}: ${JSON.stringify(answer)}`);
    const landed = events.slice(before).filter((event) =>
      event.userId === ALICE || event.channelId === CHANNEL
    );
    if (landed.length !== 1) {
      throw new Error(`Bob's ${what} moved ${landed.length} boxes of Alice's`);
    }
    const [event] = landed;
    const action: Action = {
      box: event.channelId !== undefined ? CHANNEL_BOX : COMMON,
      pts: event.pts,
      kind: event.kind as Action["kind"],
      ids: event.message ? [event.message.id] : event.messageIds!,
    };
    this.log.add(action);
    return action;
  }

  async send(peer: Peer): Promise<void> {
    const text = `seed ${this.seed} #${++this.#text}`;
    const action = await this.bobDoes({
      _cons: "messages.sendMessage",
      peer: inputPeer(this.world, peer),
      message: text,
      random_id: BigInt(Date.now()) * 1000n + BigInt(this.#text),
    }, `message to the ${peer}`);
    this.messages.push({ id: action.ids[0], peer });
  }

  async edit(): Promise<void> {
    const target = this.pick(this.messages);
    this.note(`Bob edits ${target.id} in the ${target.peer}`);
    await this.bobDoes({
      _cons: "messages.editMessage",
      peer: inputPeer(this.world, target.peer),
      id: target.id,
      message: `seed ${this.seed} edit #${++this.#text}`,
    }, `edit in the ${target.peer}`);
  }

  async remove(): Promise<void> {
    const index = Math.floor(this.random() * this.messages.length);
    const [target] = this.messages.splice(index, 1);
    this.note(`Bob deletes ${target.id} in the ${target.peer}`);
    await this.bobDoes(
      target.peer === "channel"
        ? {
          _cons: "channels.deleteMessages",
          channel: { _cons: "inputChannel", channel_id: CHANNEL, access_hash: CHANNEL_HASH },
          id: [target.id],
        }
        : { _cons: "messages.deleteMessages", revoke: true, id: [target.id] },
      `deletion in the ${target.peer}`,
    );
  }

  /** The emulator stops dropping pushes; one more push per box reveals any hole left. */
  async dropOff(): Promise<void> {
    this.world.emulator.world.options.dropUpdatesEvery = undefined;
    this.dropOn = false;
    await this.send("chat");
    await this.send("channel");
  }

  /** Stops serve (gracefully or not); Alice's connection goes with it. */
  async stopServe(how: "term" | "kill"): Promise<void> {
    await this.serve!.stop(how);
    this.keepServeLog();
    this.serve = undefined;
    if (this.client) await this.detach();
  }

  /** One step chosen by the seed. */
  async step(): Promise<void> {
    const attached = this.client !== undefined;
    const weights: [StepKind, number][] = [
      ["attach", attached ? 0 : 4],
      ["detach", attached ? 2 : 0],
      ["send", 5],
      ["burst", 2],
      ["edit", this.messages.length ? 2 : 0],
      ["delete", this.messages.length ? 2 : 0],
      ["restart", 1],
      ["kill", 1],
      ["store_fault", this.inProcess && !this.fault.failing ? 1 : 0],
      ["store_heal", this.fault.failing ? 3 : 0],
      ["drop_on", !this.dropOn ? 1 : 0],
      ["drop_off", this.dropOn ? 3 : 0],
    ];
    const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = this.random() * total;
    const kind = weights.find(([, weight]) => (roll -= weight) < 0)![0];
    this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
    switch (kind) {
      case "attach":
        return await this.attach(this.pick(["last", "last", "first", "none"] as const));
      case "detach":
        this.note("detach");
        return await this.detach();
      case "send": {
        const peer = this.pick(["chat", "group", "channel"] as const);
        this.note(`Bob sends to the ${peer}`);
        return await this.send(peer);
      }
      case "burst": {
        const count = 2 + Math.floor(this.random() * 24);
        const peers = Array.from(
          { length: count },
          () => this.pick(["chat", "group", "channel"] as const),
        );
        this.note(`Bob sends ${count}: ${peers.join(" ")}`);
        for (const peer of peers) await this.send(peer);
        return;
      }
      case "edit":
        return await this.edit();
      case "delete":
        return await this.remove();
      case "restart":
      case "kill": {
        const how = kind === "kill" ? "kill" : "term";
        const meanwhile = Math.floor(this.random() * 4);
        this.note(
          `serve stopped (${
            how === "kill" ? "killed" : "SIGTERM-like"
          }), Bob sends ${meanwhile}, restart`,
        );
        await this.stopServe(how);
        for (let i = 0; i < meanwhile; i++) {
          await this.send(this.pick(["chat", "channel"] as const));
        }
        return await this.startServe();
      }
      case "store_fault":
        this.note("store writes fail");
        this.fault.failing = true;
        return;
      case "store_heal":
        this.note("store writes work again");
        this.fault.failing = false;
        return;
      case "drop_on": {
        const every = this.pick([2, 3]);
        this.note(`the emulator drops every ${every}th push`);
        this.world.emulator.world.options.dropUpdatesEvery = every;
        this.dropOn = true;
        return;
      }
      case "drop_off":
        this.note("the emulator stops dropping pushes (and Bob sends to the chat and the channel)");
        return await this.dropOff();
    }
  }

  /** Heals everything; Alice comes back with her last cursor and must have everything once. */
  async finish(): Promise<void> {
    this.note("finally: everything healed, Alice back with her last cursor");
    this.fault.failing = false;
    if (this.dropOn) await this.dropOff();
    if (this.client) await this.detach();
    await this.attach("last");
    await this.settle();
    // Nothing may follow: a late repeat would show here.
    await new Promise((resolve) => setTimeout(resolve, 150));
    this.absorb();
  }

  /** Leaves the shared world as it was found. */
  async teardown(): Promise<void> {
    this.world.emulator.world.options.dropUpdatesEvery = undefined;
    this.fault.failing = false;
    if (this.client) await this.client.close().catch(() => {});
    if (this.serve) {
      await this.serve.stop("term");
      this.keepServeLog();
    }
  }
}

/** A line of serve's JSON log as "time [connection] message"; any other line as it is. */
function readableLogLine(line: string): string {
  try {
    const { time, connection, msg } = JSON.parse(line);
    if (typeof time === "string" && typeof msg === "string") {
      return `${time.slice(11, 23)} ${connection !== undefined ? `[${connection}] ` : ""}${msg}`;
    }
  } catch {
    // a traceback or another plain line
  }
  return line;
}

/** A line in a few words, with its cursor decoded, for a verbose trace. */
function lineSummary(line: Line): string {
  const cursorOf = (text: unknown) => {
    if (typeof text !== "string") return "";
    const value = decodeCursor(text);
    const skip = value.inside ? ` inside ${JSON.stringify(value.inside)}` : "";
    return ` @ pts ${value.state.pts} channel ${value.state.channels[String(CHANNEL)]}${skip}` +
      (value.journal !== undefined ? ` journal ${value.journal}` : "");
  };
  const event = line.event as Line | undefined;
  if (event) return `${event.type} ${event.recovered ?? ""}${cursorOf(event.cursor)}`;
  const updates = ((line.message as TlObject).updates as TlObject[]).map((update) => {
    const action = actionOf(update);
    return action
      ? `${action.kind} ${action.box} pts ${action.pts} ids ${action.ids}`
      : update._cons;
  });
  return `${updates.join(", ")}${cursorOf(line.cursor)}`;
}

function inputPeer(world: ModelWorld, peer: Peer): TlObject {
  if (peer === "group") return { _cons: "inputPeerChat", chat_id: GROUP };
  if (peer === "channel") {
    return { _cons: "inputPeerChannel", channel_id: CHANNEL, access_hash: CHANNEL_HASH };
  }
  const alice = world.emulator.world.users.get(ALICE)!;
  return { _cons: "inputPeerUser", user_id: alice.id, access_hash: alice.accessHash };
}

/**
 * Runs one seed of `steps` steps in `world`, checking after each; never throws for a model
 * failure (it is in the result, with the trace of steps that led to it).
 */
export async function runSeed(
  world: ModelWorld,
  seed: number,
  steps: number,
  options: { verbose?: boolean } = {},
): Promise<SeedResult> {
  const started = Date.now();
  const dir = await Deno.makeTempDir({ prefix: "update_model_" });
  const run = new SeedRun(world, seed, `${dir}/state`);
  run.verbose = options.verbose ?? false;
  run.note(
    `seed ${seed}: journal ${run.journal}, serve ${run.inProcess ? "in-process" : "as a process"}`,
  );
  world.emulator.world.pushes = 0;
  let error: string | undefined;
  try {
    await run.startServe();
    // Warm-up: Alice's account learns the channel, and her first synced cursor knows it.
    await run.attach("none");
    await run.settle(); // synced: the account's state is taken, what Bob does now is after it
    await run.send("channel");
    await run.send("chat");
    await run.settle();
    await run.detach();
    run.log.recordFirst = true;
    await run.attach("last");
    await run.settle();
    for (let i = 0; i < steps; i++) {
      await run.step();
      await run.settle();
    }
    await run.finish();
  } catch (caught) {
    error = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
  } finally {
    try {
      await run.teardown();
    } catch (caught) {
      error ??= caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
    }
    // A failure keeps what the store held: the journal's last rows show what was journaled twice
    // or never.
    if (error !== undefined) {
      run.note("the store's journal, last rows (seq: updates, cursor position):");
      for (const line of journalDump(`${dir}/state`)) run.note(`  # ${line}`);
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  if (error !== undefined && run.serveLogs.length) {
    const lines = run.serveLogs.join("").trimEnd().split("\n").slice(-60).map(readableLogLine)
      .map((line) => line.length > 300 ? line.slice(0, 300) + "…" : line);
    run.note(`serve's log, last ${lines.length} lines:`);
    for (const line of lines) run.note(`  | ${line}`);
  }
  return {
    seed,
    steps,
    ok: error === undefined,
    trace: run.trace,
    ...(error !== undefined ? { error } : {}),
    ms: Date.now() - started,
    kinds: run.kinds,
    refusedWrites: run.fault.refused,
  };
}

/** A failed seed as printed: the error, the steps that led to it, and the replay line. */
export function describeFailure(result: SeedResult): string {
  return [
    `seed ${result.seed} failed: ${result.error}`,
    ...result.trace.map((line) => `  ${line}`),
    `  replay: ${replayLine(result.seed, result.steps)}`,
  ].join("\n");
}

/** The last rows of the held account's journal in `state`, one line each, for a failure. */
export function journalDump(state: string, rows = 30): string[] {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(`${state}/mtproto2json.sqlite`, { readOnly: true });
    const found = db.prepare("SELECT seq, line FROM journal ORDER BY seq DESC LIMIT ?").all(
      rows,
    ) as {
      seq: number;
      line: string;
    }[];
    const account = db.prepare("SELECT cursor FROM accounts").get() as
      | { cursor?: string }
      | undefined;
    const position = (cursor: string) => {
      const { state, journal } = decodeCursor(cursor);
      return `journal ${journal}, pts ${state.pts}, channels ${JSON.stringify(state.channels)}`;
    };
    const lines = found.reverse().map(({ seq, line }) => {
      const row = JSON.parse(line) as { cursor: string; value: Record<string, unknown> };
      const updates = (row.value.updates as Record<string, unknown>[] | undefined) ?? [row.value];
      const what = updates.map((update) =>
        `${update._cons}${update.pts !== undefined ? ` pts ${update.pts}` : ""}`
      ).join(", ");
      return `${seq}: ${what} → ${position(row.cursor)}`;
    });
    if (account?.cursor) lines.push(`account's stored cursor: ${position(account.cursor)}`);
    return lines;
  } catch (error) {
    return [`(no journal to show: ${(error as Error).message})`];
  } finally {
    db?.close();
  }
}
