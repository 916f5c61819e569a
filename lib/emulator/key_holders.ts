/**
 * The emulator's record of who drives each auth key: per key, the live connections using it and
 * the process on the far end of each; every moment two different processes hold live connections
 * on one key is kept as an overlap. It is the evidence that an account was never driven by two
 * instances at once (Telegram answers AUTH_KEY_DUPLICATED to that; the emulator only records).
 *
 * @module
 */

/** One moment two processes held live connections on one key. */
export interface KeyOverlap {
  /** The DC and the key's id (hex), the permanent key for a bound temporary one. */
  dcId: number;
  authKeyId: string;
  /** The processes, the one that just started using the key last (`undefined`: not found). */
  processes: (number | undefined)[];
  /** Wall-clock ms. */
  at: number;
  /**
   * How long after `at` the earlier connection closed, once it did: a few ms is the emulator
   * reading one socket's end after another's start; a long time is a key driven twice.
   */
  earlierClosedAfterMs?: number;
}

import type { PeerProcessFinder } from "./peer_process.ts";

interface LiveConnection {
  process: Promise<number | undefined>;
  serverPort: number;
  clientPort: number;
  key?: string;
  /** Overlaps in which this connection was the earlier one, waiting for its close. */
  overlapped?: KeyOverlap[];
  closedAt?: number;
}

/**
 * Live connections by key and the overlaps seen so far.
 *
 * @example
 * ```ts
 * import { KeyHolders } from "./key_holders.ts";
 * import assert from "node:assert/strict";
 * // Two connections from ports 5001 and 5002, of processes 100 and 200.
 * const pids = new Map([[5001, 100], [5002, 200]]);
 * const holders = new KeyHolders({ findProcess: async (_server, client) => pids.get(client) });
 * holders.connect(1, 443, 5001);
 * holders.connect(2, 443, 5002);
 * holders.use(1, 2, "aa");
 * holders.use(2, 2, "aa");
 * await holders.settled();
 * assert.deepEqual(holders.overlaps.map((o) => o.processes), [[100, 200]]);
 * ```
 */
export class KeyHolders {
  /** Every overlap seen, oldest first. */
  readonly overlaps: KeyOverlap[] = [];
  readonly #connections = new Map<number, LiveConnection>();
  readonly #byKey = new Map<string, Set<number>>();
  readonly #checks = new Set<Promise<void>>();
  readonly #now: () => number;
  readonly #onOverlap: (overlap: KeyOverlap) => void;
  readonly #findProcess: PeerProcessFinder;
  readonly #isOpen: (serverPort: number, clientPort: number) => boolean;
  readonly #findNow?: (serverPort: number, clientPort: number) => number | undefined;

  /**
   * `findProcess` names the process on a connection's far end (looked up soon after accept);
   * `findNow` names it at once, for a connection that starts on a key another process holds
   * (it may end before a later lookup); `isOpen` says whether a client still holds its
   * connection open at this moment (the kernel's view: this process's lags); `now` stamps
   * overlaps; `onOverlap` hears each as it is found (the emulator logs it).
   */
  constructor(options: {
    findProcess: PeerProcessFinder;
    findNow?: (serverPort: number, clientPort: number) => number | undefined;
    isOpen?: (serverPort: number, clientPort: number) => boolean;
    now?: () => number;
    onOverlap?: (overlap: KeyOverlap) => void;
  }) {
    this.#findProcess = options.findProcess;
    this.#isOpen = options.isOpen ?? (() => true);
    this.#findNow = options.findNow;
    this.#now = options.now ?? Date.now;
    this.#onOverlap = options.onOverlap ?? (() => {});
  }

  /**
   * A connection was accepted on `serverPort` from `clientPort`: its process is looked up now,
   * while it is surely open.
   */
  connect(connection: number, serverPort: number, clientPort: number): void {
    const process = this.#findProcess(serverPort, clientPort).catch(() => undefined);
    this.#connections.set(connection, { process, serverPort, clientPort });
  }

  /**
   * A connection's message came under `authKeyId` (cheap when it is the key it used before):
   * when another live connection uses the key from another process, that is an overlap.
   */
  use(connection: number, dcId: number, authKeyId: string): void {
    const live = this.#connections.get(connection);
    const key = `${dcId}:${authKeyId}`;
    if (!live || live.key === key) return;
    if (live.key !== undefined) this.#leave(connection, live.key);
    live.key = key;
    // The others this process still counts as open, whose clients have not let them go either.
    const others = [...(this.#byKey.get(key) ?? [])].map((id) => this.#connections.get(id)!)
      .filter((other) => this.#isOpen(other.serverPort, other.clientPort));
    let holders = this.#byKey.get(key);
    if (!holders) this.#byKey.set(key, holders = new Set());
    holders.add(connection);
    if (others.length === 0) return;
    const at = this.#now();
    const ownNow = this.#findNow?.(live.serverPort, live.clientPort);
    // The processes were looked up when each connection was accepted, while it was surely open;
    // the comparison waits for those answers, not for the connections' state now.
    const check = (async () => {
      const own = ownNow ?? await live.process;
      const seen = new Set<number | undefined>();
      for (const other of others) {
        const process = await other.process;
        // Neither found (no /proc): nothing can be told, and one process's media connections
        // must not read as two processes.
        if (process === own) continue;
        if (seen.has(process)) continue;
        seen.add(process);
        const overlap: KeyOverlap = { dcId, authKeyId, processes: [process, own], at };
        this.overlaps.push(overlap);
        if (other.closedAt !== undefined) overlap.earlierClosedAfterMs = other.closedAt - at;
        else (other.overlapped ??= []).push(overlap);
        this.#onOverlap(overlap);
      }
    })();
    this.#checks.add(check);
    check.finally(() => this.#checks.delete(check));
  }

  /** A connection closed. */
  disconnect(connection: number): void {
    const live = this.#connections.get(connection);
    if (!live) return;
    this.#connections.delete(connection);
    if (live.key !== undefined) this.#leave(connection, live.key);
    live.closedAt = this.#now();
    for (const overlap of live.overlapped ?? []) {
      overlap.earlierClosedAfterMs = live.closedAt - overlap.at;
    }
  }

  /** Resolves once every comparison started so far is done (tests read `overlaps` after it). */
  async settled(): Promise<void> {
    while (this.#checks.size) await Promise.all([...this.#checks]);
  }

  #leave(connection: number, key: string): void {
    const holders = this.#byKey.get(key);
    holders?.delete(connection);
    if (holders?.size === 0) this.#byKey.delete(key);
  }
}
