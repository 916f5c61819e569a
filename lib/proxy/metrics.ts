/**
 * What one `serve` counts for operators, rendered in Prometheus' text format (`GET /metrics`):
 * connections by front, held accounts by state, requests by method and outcome, rpc errors by
 * code and name, FLOOD_WAIT seconds, call latency, reconnects, updates delivered and the gap
 * events among them, bytes in and out, and file bytes. Every name starts `mtproto2json_`.
 *
 * Labels carry method names and error names only — never a phone, a user id, a handle, a token or
 * a message — and their values are bounded: a method the schema does not know is `other`, an
 * error's number (`FLOOD_WAIT_42`) becomes `X` (`FLOOD_WAIT_X`), and past a number of distinct
 * error names the rest count as `other`.
 *
 * @module
 */

import { type Clock, systemClock } from "../io/clock.ts";
import type { TlSchema } from "../tl/schema.ts";

/** The ways in: the TCP line protocol, WebSocket, and one-shot HTTP calls. */
export type Front = "tcp" | "ws" | "http";

/** How a request ended. */
export type Outcome = "ok" | "rpc_error" | "timeout" | "error";

/** One open connection of a front: its bytes, and its end. */
export interface FrontConnection {
  /** Bytes read from the client. */
  received(bytes: number): void;
  /** Bytes written to the client. */
  sent(bytes: number): void;
  /** The connection is gone (counts once however often it is called). */
  closed(): void;
}

/** What the held accounts report, read at each render (`HeldAccounts` fits). */
export interface HeldReport {
  readonly size: number;
  health(): Record<string, unknown>;
}

/** Upper bounds of the call latency histogram, in seconds. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Distinct error names kept as labels; past it, new ones count as `other`. */
const MAX_ERROR_NAMES = 200;

const FRONTS: Front[] = ["tcp", "ws", "http"];

/**
 * A connection's {@link FrontConnection}: methods on a class, not three closures over a scope of
 * their own, which every idle connection through serve held (~330 B each).
 */
class FrontTally implements FrontConnection {
  readonly #front: Front;
  readonly #open: Map<Front, number>;
  readonly #received: Map<Front, number>;
  readonly #sent: Map<Front, number>;
  #counted = true;

  constructor(
    front: Front,
    open: Map<Front, number>,
    received: Map<Front, number>,
    sent: Map<Front, number>,
  ) {
    this.#front = front;
    this.#open = open;
    this.#received = received;
    this.#sent = sent;
  }

  received(bytes: number): void {
    add(this.#received, this.#front, bytes);
  }

  sent(bytes: number): void {
    add(this.#sent, this.#front, bytes);
  }

  closed(): void {
    if (this.#counted) add(this.#open, this.#front, -1);
    this.#counted = false;
  }
}

function add<K>(map: Map<K, number>, key: K, value: number): void {
  map.set(key, (map.get(key) ?? 0) + value);
}

/** The counters of one `serve`, shared by its fronts and connections. */
export class Metrics {
  #methods: Set<string> | undefined;
  readonly #schema: TlSchema | (() => TlSchema);
  readonly #clock: Clock;
  /** Where held accounts are counted from, read at each render. */
  readonly #held: () => HeldReport | undefined;
  readonly #open = new Map<Front, number>(FRONTS.map((front) => [front, 0]));
  readonly #opened = new Map<Front, number>(FRONTS.map((front) => [front, 0]));
  readonly #received = new Map<Front, number>(FRONTS.map((front) => [front, 0]));
  readonly #sent = new Map<Front, number>(FRONTS.map((front) => [front, 0]));
  readonly #requests = new Map<string, number>();
  readonly #rpcErrors = new Map<string, number>();
  readonly #errorNames = new Set<string>();
  #floodSeconds = 0;
  readonly #latency = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  #latencySum = 0;
  #reconnects = 0;
  readonly #updates = new Map<string, number>([["managed", 0], ["raw", 0]]);
  #gaps = 0;
  #recovered = 0;
  #tooLong = 0;
  readonly #fileBytes = new Map<string, number>([["download", 0], ["upload", 0]]);

  /**
   * `schema` names the methods counted by name (a function is asked only when a request is first
   * counted: serve parses the shipped schema after it listens); `clock` times calls; `held` gives
   * serve's held accounts, if any, when the metrics are rendered.
   */
  constructor(
    schema: TlSchema | (() => TlSchema),
    options: { clock?: Clock; held?: () => HeldReport | undefined } = {},
  ) {
    this.#schema = schema;
    this.#clock = options.clock ?? systemClock;
    this.#held = options.held ?? (() => undefined);
  }

  #methodNames(): Set<string> {
    const schema = typeof this.#schema === "function" ? this.#schema() : this.#schema;
    return this.#methods ??= new Set(schema.functions.keys());
  }

  /** The time a call started, for {@link Metrics.answered}. */
  now(): number {
    return this.#clock.now();
  }

  /**
   * A connection was accepted on `front`; the fronts call this, and the handle's `closed` when
   * it ends.
   */
  opened(front: Front): FrontConnection {
    this.#add(this.#open, front, 1);
    this.#add(this.#opened, front, 1);
    return new FrontTally(front, this.#open, this.#received, this.#sent);
  }

  /**
   * A request was answered with `response` (a line of the protocol), having started at `since`
   * (from {@link Metrics.now}): counts it by method and outcome, its rpc error, its FLOOD_WAIT
   * seconds and, for a call, its latency.
   */
  answered(request: Record<string, unknown>, response: Record<string, unknown>, since: number) {
    const message = request.message as { _cons?: unknown } | undefined;
    const method = message !== undefined
      ? (typeof message?._cons === "string" && this.#methodNames().has(message._cons)
        ? message._cons
        : "other")
      : request.download !== undefined
      ? "download"
      : request.upload !== undefined
      ? "upload"
      : undefined;
    if (method === undefined) return;
    const answer = response.message as Record<string, unknown> | undefined;
    let outcome: Outcome = "ok";
    if (response.error !== undefined) outcome = "error";
    else if (answer?._cons === "rpc_error") {
      outcome = "rpc_error";
      this.rpcError(answer.error_code, answer.error_message);
    } else if (answer?._cons === "rpc_timeout") outcome = "timeout";
    this.#add(this.#requests, `${method}\0${outcome}`, 1);
    if (message === undefined) return;
    const seconds = Math.max(0, (this.#clock.now() - since) / 1000);
    this.#latencySum += seconds;
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[bucket]) bucket++;
    this.#latency[bucket]++;
  }

  /** An rpc_error reached a client (`answered` calls this for the calls it sees). */
  rpcError(code: unknown, message: unknown): void {
    const text = String(message ?? "");
    const flood = /^FLOOD_(?:PREMIUM_)?WAIT_(\d+)$/.exec(text);
    if (flood) this.#floodSeconds += Number(flood[1]);
    let name = text.replace(/_\d+$/, "_X").replace(/^(\d+)_/, "X_");
    if (!/^[A-Z][A-Z0-9_]{0,63}$/.test(name)) name = "other";
    if (!this.#errorNames.has(name)) {
      if (this.#errorNames.size >= MAX_ERROR_NAMES) name = "other";
      else this.#errorNames.add(name);
    }
    const number = Number(code);
    const label = Number.isInteger(number) && Math.abs(number) < 1000 ? String(number) : "other";
    this.#add(this.#rpcErrors, `${label}\0${name}`, 1);
  }

  /** A client reconnected to its home DC, or the DC started a new session (updates catch up). */
  reconnected(): void {
    this.#reconnects++;
  }

  /**
   * An unasked line went to a connection: a managed update container (live, recovered or from
   * the journal), a raw pushed update, or an event (`gap`, `recovered`, `too_long` are counted).
   */
  delivered(
    output: { kind: string; event?: { type: string; count?: number } },
  ): void {
    if (output.kind === "event") {
      const event = output.event!;
      if (event.type === "gap") this.#gaps++;
      else if (event.type === "recovered") this.#recovered += event.count ?? 0;
      else if (event.type === "too_long") this.#tooLong++;
      return;
    }
    this.#add(this.#updates, output.kind === "raw" ? "raw" : "managed", 1);
  }

  /** A file's bytes moved between a client and Telegram. */
  fileBytes(direction: "download" | "upload", bytes: number): void {
    this.#add(this.#fileBytes, direction, bytes);
  }

  #add<K>(map: Map<K, number>, key: K, value: number): void {
    map.set(key, (map.get(key) ?? 0) + value);
  }

  /**
   * The metrics in Prometheus' text format (version 0.0.4).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { loadSchema } from "../tl/default_schema.ts";
   * import { Metrics } from "./metrics.ts";
   * const metrics = new Metrics(loadSchema());
   * const since = metrics.now();
   * metrics.answered(
   *   { message: { _cons: "users.getUsers", id: [] } },
   *   { id: 1, message: { _cons: "rpc_error", error_code: 420, error_message: "FLOOD_WAIT_7" } },
   *   since,
   * );
   * const text = metrics.render();
   * assert.match(text, /^mtproto2json_requests_total\{method="users.getUsers",outcome="rpc_error"\} 1$/m);
   * assert.match(text, /^mtproto2json_rpc_errors_total\{code="420",error="FLOOD_WAIT_X"\} 1$/m);
   * assert.match(text, /^mtproto2json_flood_wait_seconds_total 7$/m);
   * ```
   */
  render(): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    const sample = (name: string, labels: Record<string, string>, value: number) => {
      const pairs = Object.entries(labels).map(([key, text]) => `${key}="${escape(text)}"`);
      out.push(`${name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${value}`);
    };
    const byFront = (name: string, type: string, help: string, values: Map<Front, number>) => {
      family(name, type, help);
      for (const front of FRONTS) sample(name, { front }, values.get(front)!);
    };
    const P = "mtproto2json_";
    byFront(`${P}connections`, "gauge", "Client connections open, by front.", this.#open);
    byFront(
      `${P}connections_total`,
      "counter",
      "Client connections accepted, by front.",
      this.#opened,
    );
    byFront(
      `${P}received_bytes_total`,
      "counter",
      "Bytes read from clients, by front.",
      this.#received,
    );
    byFront(`${P}sent_bytes_total`, "counter", "Bytes written to clients, by front.", this.#sent);
    family(`${P}held_accounts`, "gauge", "Accounts held by serve --state, by state.");
    const held = this.#held();
    const failing = Number(held?.health().accounts_waiting_for_store ?? 0);
    sample(`${P}held_accounts`, { state: "ok" }, (held?.size ?? 0) - failing);
    sample(`${P}held_accounts`, { state: "store_failing" }, failing);
    family(`${P}requests_total`, "counter", "Requests answered, by method and outcome.");
    for (const [key, value] of this.#requests) {
      const [method, outcome] = key.split("\0");
      sample(`${P}requests_total`, { method, outcome }, value);
    }
    family(`${P}rpc_errors_total`, "counter", "rpc_error answers, by code and error name.");
    for (const [key, value] of this.#rpcErrors) {
      const [code, error] = key.split("\0");
      sample(`${P}rpc_errors_total`, { code, error }, value);
    }
    family(
      `${P}flood_wait_seconds_total`,
      "counter",
      "Seconds of FLOOD_WAIT_X answered to clients (shorter ones are waited out unseen).",
    );
    sample(`${P}flood_wait_seconds_total`, {}, this.#floodSeconds);
    const histogram = `${P}call_duration_seconds`;
    family(histogram, "histogram", "Time from a call's request to its answer.");
    let cumulative = 0;
    for (const [index, bound] of LATENCY_BUCKETS.entries()) {
      cumulative += this.#latency[index];
      sample(`${histogram}_bucket`, { le: String(bound) }, cumulative);
    }
    cumulative += this.#latency[LATENCY_BUCKETS.length];
    sample(`${histogram}_bucket`, { le: "+Inf" }, cumulative);
    sample(`${histogram}_sum`, {}, this.#latencySum);
    sample(`${histogram}_count`, {}, cumulative);
    family(
      `${P}reconnects_total`,
      "counter",
      "Home-DC connections made again, or sessions Telegram started anew (updates catch up).",
    );
    sample(`${P}reconnects_total`, {}, this.#reconnects);
    family(
      `${P}updates_delivered_total`,
      "counter",
      "Update lines written to connections, managed (live, recovered or journaled) or raw.",
    );
    for (const [mode, value] of this.#updates) {
      sample(`${P}updates_delivered_total`, { mode }, value);
    }
    const simple: [string, string, number][] = [
      ["update_gaps_total", "Gaps in an update sequence seen by managed updates.", this.#gaps],
      ["updates_recovered_total", "Updates recovered by getDifference.", this.#recovered],
      ["updates_too_long_total", "Gaps too long to fill update by update.", this.#tooLong],
    ];
    for (const [name, help, value] of simple) {
      family(P + name, "counter", `${help} (events delivered to connections)`);
      sample(P + name, {}, value);
    }
    family(`${P}file_bytes_total`, "counter", "File bytes downloaded or uploaded for clients.");
    for (const [direction, value] of this.#fileBytes) {
      sample(`${P}file_bytes_total`, { direction }, value);
    }
    return out.join("\n") + "\n";
  }
}

/**
 * `chunks` as they are, each one's length counted as received on `tally` (when there is one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSchema } from "../tl/default_schema.ts";
 * import { countedReads, Metrics } from "./metrics.ts";
 * const metrics = new Metrics(loadSchema());
 * const tally = metrics.opened("tcp");
 * for await (const _ of countedReads([new Uint8Array(3), new Uint8Array(4)], tally));
 * tally.closed();
 * assert.match(metrics.render(), /^mtproto2json_received_bytes_total\{front="tcp"\} 7$/m);
 * assert.match(metrics.render(), /^mtproto2json_connections\{front="tcp"\} 0$/m);
 * ```
 */
export async function* countedReads(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  tally?: FrontConnection,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    tally?.received(chunk.length);
    yield chunk;
  }
}

function escape(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
