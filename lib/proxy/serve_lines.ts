/**
 * Runs the JSON protocol over one byte stream pair: lines in, lines out. Used by `serve` for each
 * TCP client and by `pipe` for stdin/stdout.
 *
 * Every line of a received chunk is handled before anything else runs, so requests that arrive
 * together travel to Telegram in one container and one write; answers that are ready together go
 * out in one write. A client that does not read its answers is not read from either: past a
 * high-water mark of unsent output (or of requests in flight) its requests wait in the socket.
 *
 * @module
 */

import { type Line, readLineBatches } from "../io/lines.ts";
import { LineWriter } from "../io/line_writer.ts";
import { ProxyConnection, type ProxyDefaults } from "./handler.ts";

/** Stop reading a client's requests while this many characters of its answers are unsent… */
export const OUTPUT_HIGH_WATER = 8 * 1024 * 1024;
/** …until they are down to this many. */
export const OUTPUT_LOW_WATER = 1024 * 1024;
/** Stop reading a client's requests while this many of them wait for Telegram. */
export const MAX_IN_FLIGHT = 256;

/** How one stream of the protocol is run. */
export interface LineSession {
  readable: AsyncIterable<Uint8Array>;
  /** Writes text: one or more whole lines, newlines included. Rejects when the peer is gone. */
  write: (text: string) => Promise<void>;
  maxLine: number;
  /** A shared secret the first line must present as {"token": ...}. */
  token?: string;
  /** How long the token line may take to arrive (default 10 s). */
  tokenDeadlineMs?: number;
}

/**
 * Serves one client until its input ends, then waits for the answers still owed and closes the
 * client's MTProto connections; a client that is gone (a write failed) is let go at once. Resolves
 * false when the token was missing or wrong.
 */
export async function serveLines(defaults: ProxyDefaults, stream: LineSession): Promise<boolean> {
  const output = new LineWriter(stream.write);
  const connection = new ProxyConnection(defaults, (line) => output.push(line));
  let authorized = stream.token === undefined;
  const refuse = (msg: string) =>
    output.push(JSON.stringify({ id: -1, error: "Unauthorized", msg }));
  const batches = readLineBatches(stream.readable, stream.maxLine)[Symbol.asyncIterator]();
  const handleAll = (lines: Line[]) => {
    for (const line of lines) {
      if (line.kind === "too_long") connection.lineTooLong(line.length, stream.maxLine);
      else connection.handleLine(line.text);
    }
  };
  try {
    if (!authorized) {
      // A connection that never presents its token must not hold its place for ever.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), stream.tokenDeadlineMs ?? 10_000);
      });
      const first = await Promise.race([batches.next(), late]).finally(() => clearTimeout(timer));
      if (first === "late" || first.done) {
        if (first === "late") refuse("no token line within the deadline");
        await output.flushed();
        return false;
      }
      const [line, ...rest] = first.value;
      authorized = line.kind === "line" && presentsToken(line.text, stream.token!);
      if (!authorized) {
        refuse('the first line must be {"token": "..."} with the server\'s token');
        await output.flushed();
        return false;
      }
      handleAll(rest);
    }
    for (let next; !(next = await batches.next()).done;) {
      handleAll(next.value);
      // Back-pressure: a client that does not read its answers is not read from either.
      if (output.unsent > OUTPUT_HIGH_WATER) await output.below(OUTPUT_LOW_WATER);
      await connection.fewerThan(MAX_IN_FLIGHT);
      if (output.broken) break;
    }
  } catch (error) {
    defaults.log?.(`connection read error: ${(error as Error).message}`);
  }
  if (!output.broken) {
    // The client may have closed only its sending side and still want its answers.
    await Promise.race([connection.idle(), output.gone()]);
  }
  connection.close();
  await output.flushed();
  return authorized;
}

function presentsToken(text: string, token: string): boolean {
  try {
    const value = JSON.parse(text);
    return typeof value?.token === "string" && timingSafeEqual(value.token, token);
  } catch {
    return false;
  }
}

function timingSafeEqual(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    difference |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  }
  return difference === 0;
}
