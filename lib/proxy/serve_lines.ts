/**
 * Runs the JSON protocol over one byte stream pair: lines in, lines out. Used by `serve` for each
 * TCP client and by `pipe` for stdin/stdout.
 *
 * Every line of a received chunk is handled before anything else runs, so requests that arrive
 * together travel to Telegram in one container and one write; answers that are ready together go
 * out in one write. A client that does not read its answers is not read from either: past a
 * high-water mark of output, unsent or on its way (a file part's bytes), or of requests in
 * flight, its requests wait in the socket.
 *
 * @module
 */

import { systemClock, type TimerId } from "../io/clock.ts";
import { type Line, readLineBatches } from "../io/lines.ts";
import { LineWriter } from "../io/line_writer.ts";
import { ProxyConnection, type ProxyDefaults } from "./proxy_connection.ts";
import { parseJsonExact, rawJson } from "../tl/json.ts";
import type { TokenGuard } from "./token_guard.ts";
import type { ChunkSink, ChunkSource } from "./file_requests.ts";

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
  /** How long the token line may take to arrive (default 10 s), counted once it is read. */
  tokenDeadlineMs?: number;
  /** Delays and counts wrong tokens per client address (`serve` shares one among its clients). */
  guard?: TokenGuard;
  /** The client's address, as the guard counts it. */
  address?: string;
  /** Where downloads' bytes go instead of chunk lines, for a client that takes bytes. */
  bytes?: ChunkSink;
  /** Where streamed uploads' bytes come from instead of chunk lines, for a client that gives bytes. */
  uploads?: ChunkSource;
}

/**
 * Serves one client until its input ends, then waits for the answers still owed and closes the
 * client's MTProto connections; a client that is gone (a write failed) is let go at once. Resolves
 * false when the token was missing or wrong.
 */
export async function serveLines(defaults: ProxyDefaults, stream: LineSession): Promise<boolean> {
  const output = new LineWriter(stream.write);
  const connection = new ProxyConnection(
    defaults,
    (line) => output.push(line),
    (characters) => output.below(characters),
    () => output.broken,
    stream.bytes,
    stream.uploads,
  );
  let authorized = stream.token === undefined;
  const refuse = (msg: string) =>
    output.push(JSON.stringify({ id: -1, error: "Unauthorized", msg }));
  const batches = readLineBatches(stream.readable, stream.maxLine)[Symbol.asyncIterator]();
  // Back-pressure, looked at before each line: the answers on their way count too (a file part
  // will bring its bytes), so a batch of a thousand parts is not all sent before any came back.
  const pressed = () =>
    output.unsent > OUTPUT_HIGH_WATER || connection.inFlight >= MAX_IN_FLIGHT ||
    output.unsent + connection.expected.total > OUTPUT_HIGH_WATER;
  const room = async () => {
    if (output.unsent > OUTPUT_HIGH_WATER) await output.below(OUTPUT_LOW_WATER);
    while (!output.broken && pressed()) {
      // An answer arriving, or the client reading some of what is written.
      await (output.unsent > 0
        ? Promise.race([connection.settled(), output.below(output.unsent - 1)])
        : connection.settled());
    }
  };
  const handleAll = async (lines: Line[]) => {
    for (const line of lines) {
      // Lines that arrived together are handled together (one container to Telegram) unless
      // the client is behind: only then does one wait here.
      if (pressed()) await room();
      if (output.broken) return;
      if (line.kind === "too_long") connection.lineTooLong(line.length, stream.maxLine);
      else connection.handleLine(line.text);
    }
  };
  try {
    if (!authorized) {
      const guard = stream.guard;
      const address = stream.address ?? "unknown";
      // An address still paying for its wrong tokens is not read until it has paid.
      const admission = guard?.admit(address);
      if (admission?.kind === "turned_away") {
        refuse(
          `too many wrong tokens from this address; try again in ${
            Math.ceil(admission.retryInMs / 1000)
          } s`,
        );
        await output.flushed();
        return false;
      }
      if (admission) await guard!.sleep(admission.waitMs);
      // A connection that never presents its token must not hold its place for ever.
      const clock = defaults.clock ?? systemClock;
      let timer: TimerId;
      const late = new Promise<"late">((resolve) => {
        timer = clock.setTimeout(() => resolve("late"), stream.tokenDeadlineMs ?? 10_000);
      });
      const first = await Promise.race([batches.next(), late])
        .finally(() => clock.clearTimeout(timer));
      if (first === "late" || first.done) {
        // Not a guess: nothing was presented, so nothing is counted.
        if (first === "late") refuse("no token line within the deadline");
        await output.flushed();
        return false;
      }
      const [line, ...rest] = first.value;
      const text = line.kind === "line" ? line.text : "";
      const request = presentsToken(text, stream.token!);
      if (!request) {
        // The refusal waits, so that guessing is slow however many connections guess.
        if (guard) await guard.sleep(guard.failed(address));
        refuse('the first line must be {"token": "..."} with the server\'s token');
        await output.flushed();
        return false;
      }
      authorized = true;
      // The token line may carry a request too; it goes on without the token, which must never
      // be echoed or logged.
      if (Object.keys(request).length > 0) connection.handleLine(withoutToken(text));
      await handleAll(rest);
    }
    // A batch is handled in a call of its own, so that this frame, waiting in the next read for as
    // long as the client is idle, holds none of the last batch's lines (an upload's chunk line may
    // be a megabyte).
    const handleNext = async (): Promise<boolean> => {
      const next = await batches.next();
      if (next.done) return false;
      await handleAll(next.value);
      // Back-pressure: a client that does not read its answers is not read from either.
      if (pressed()) await room();
      // A streamed upload faster than Telegram: its chunks wait in the socket, not here.
      await connection.inputRoom();
      return !output.broken;
    };
    while (await handleNext());
  } catch (error) {
    defaults.log?.(`connection read error: ${(error as Error).message}`);
  }
  // No chunk line can come any more: a streamed upload still open ends with an error now.
  connection.inputEnded();
  if (!output.broken) {
    // The client may have closed only its sending side and still want its answers.
    await Promise.race([connection.idle(), output.gone()]);
  }
  connection.close();
  await output.flushed();
  return authorized;
}

/**
 * The first line's other keys when it presents the right token (an empty object when the token is
 * all it has), or undefined.
 */
function presentsToken(text: string, token: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = parseJsonExact(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const { token: presented, ...request } = value as Record<string, unknown>;
  return typeof presented === "string" && timingSafeEqual(presented, token) ? request : undefined;
}

/**
 * The line re-serialized without its `token` key, every number literal kept as written (so a
 * 64-bit integer is still the integer the client sent, not a rounded double or a string).
 */
function withoutToken(text: string): string {
  const value = JSON.parse(
    text,
    (_key: string, item: unknown, context?: { source: string }) =>
      typeof item === "number" && context ? rawJson(context.source) : item,
  );
  delete value.token;
  return JSON.stringify(value);
}

function timingSafeEqual(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    difference |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  }
  return difference === 0;
}
