/**
 * Which process holds the other end of a loopback TCP connection, read from Linux's /proc: the
 * socket's inode from /proc/net/tcp (and tcp6), then the process whose descriptor table has it.
 * The emulator uses it to tell client processes apart per auth key (two instances driving one
 * account show up as two processes on one key); elsewhere than Linux it answers `undefined`.
 *
 * @module
 */

import { type Clock, systemClock, type TimerId } from "../io/clock.ts";

/** Finds the process on the far end of a connection: `(serverPort, clientPort) → pid`. */
export type PeerProcessFinder = (
  serverPort: number,
  clientPort: number,
) => Promise<number | undefined>;

/** Where /proc is, how long requests wait to be answered by one scan together, and timers. */
export interface PeerProcessOptions {
  procRoot?: string;
  batchMs?: number;
  clock?: Clock;
}

/**
 * Makes a finder: requests that arrive within `batchMs` (default 5 ms) share one scan of the
 * socket tables and of every process's descriptors, so a burst of connections costs a few scans.
 * It answers `undefined` where /proc cannot be read ({@link procReadable}).
 *
 * @example
 * ```ts
 * import { peerProcessFinder, procReadable } from "./peer_process.ts";
 * import assert from "node:assert/strict";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = (listener.addr as Deno.NetAddr).port;
 * const client = await Deno.connect({ hostname: "127.0.0.1", port });
 * const server = await listener.accept();
 * const pid = await peerProcessFinder()(port, (client.localAddr as Deno.NetAddr).port);
 * assert.equal(pid, procReadable() ? Deno.pid : undefined);
 * client.close(), server.close(), listener.close();
 * ```
 */
export function peerProcessFinder(options: PeerProcessOptions = {}): PeerProcessFinder {
  const procRoot = options.procRoot ?? "/proc";
  const batchMs = options.batchMs ?? 5;
  let waiting: { key: string; resolve: (pid: number | undefined) => void }[] = [];
  const clock = options.clock ?? systemClock;
  let timer: TimerId | undefined;
  const scan = () => {
    timer = undefined;
    const batch = waiting;
    waiting = [];
    let found = new Map<string, number>();
    try {
      found = findProcesses(procRoot, new Set(batch.map((request) => request.key)));
    } catch {
      // No /proc (not Linux, or not readable): every answer is "unknown".
    }
    for (const request of batch) request.resolve(found.get(request.key));
  };
  return (serverPort, clientPort) =>
    new Promise((resolve) => {
      waiting.push({ key: `${serverPort}:${clientPort}`, resolve });
      timer ??= clock.setTimeout(scan, batchMs);
    });
}

/**
 * Whether this process can read what a finder needs: Linux's socket tables and processes'
 * descriptors (Deno grants /proc only with all permissions: `deno run -A`).
 */
export function procReadable(procRoot = "/proc"): boolean {
  try {
    Deno.readTextFileSync(`${procRoot}/net/tcp`);
    Deno.readDirSync(`${procRoot}/${Deno.pid}/fd`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the client's end of a loopback connection is still established now (not closed, nor
 * half-closed by the client): a server reads a socket's end only when it gets to it, so its own
 * view of which connections are open lags the kernel's. Read from /proc/net/tcp synchronously;
 * without /proc, every connection counts as open.
 */
export function clientSocketOpen(
  serverPort: number,
  clientPort: number,
  procRoot = "/proc",
): boolean {
  let readable = false;
  for (const table of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(`${procRoot}/net/${table}`);
      readable = true;
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4) continue;
      if (parseInt(fields[1].split(":").at(-1)!, 16) !== clientPort) continue;
      if (parseInt(fields[2].split(":").at(-1)!, 16) !== serverPort) continue;
      // 01 is ESTABLISHED; FIN_WAIT1/2, TIME_WAIT, CLOSE... mean the client let it go.
      return fields[3] === "01";
    }
  }
  return !readable;
}

/**
 * The process on the far end of one connection, looked up now (a synchronous scan: for the rare
 * moment it must be known at once, such as a second process starting on a key).
 */
export function peerProcessNow(
  serverPort: number,
  clientPort: number,
  procRoot = "/proc",
): number | undefined {
  const key = `${serverPort}:${clientPort}`;
  try {
    return findProcesses(procRoot, new Set([key])).get(key);
  } catch {
    return undefined;
  }
}

/** For each wanted `serverPort:clientPort`, the pid holding the client's socket. */
function findProcesses(procRoot: string, wanted: Set<string>): Map<string, number> {
  const inodes = new Map<string, string>();
  for (const table of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(`${procRoot}/net/${table}`);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      // The client's own socket: local = its port, remote = the server's port.
      const clientPort = parseInt(fields[1].split(":").at(-1)!, 16);
      const serverPort = parseInt(fields[2].split(":").at(-1)!, 16);
      const key = `${serverPort}:${clientPort}`;
      if (wanted.has(key) && fields[9] !== "0") inodes.set(`socket:[${fields[9]}]`, key);
    }
  }
  const pids = new Map<string, number>();
  if (inodes.size === 0) return pids;
  for (const entry of Deno.readDirSync(procRoot)) {
    if (!/^\d+$/.test(entry.name)) continue;
    let descriptors: Iterable<Deno.DirEntry>;
    try {
      descriptors = Deno.readDirSync(`${procRoot}/${entry.name}/fd`);
      for (const descriptor of descriptors) {
        let target: string;
        try {
          target = Deno.readLinkSync(`${procRoot}/${entry.name}/fd/${descriptor.name}`);
        } catch {
          continue; // closed while we looked
        }
        const key = inodes.get(target);
        if (key === undefined) continue;
        pids.set(key, Number(entry.name));
        inodes.delete(target);
        if (inodes.size === 0) return pids;
      }
    } catch {
      continue; // the process ended, or its table is not ours to read
    }
  }
  return pids;
}
