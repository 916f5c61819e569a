/**
 * Reading a request's body with a size limit (413) and a deadline (408), so that a client
 * trickling its body a byte a minute, or sending gigabytes, holds nothing for long.
 *
 * One-shot calls read a body each, so this is on every call's path: a body whose length is
 * declared is read in one go (`arrayBuffer()`, which Deno reads from the connection without a
 * stream reader: half the cost of reading through one, by bench_web's profiles), and the bodies
 * being read share one sweeping timer for their deadlines instead of a timer and a
 * `Promise.race` each.
 *
 * @module
 */

import type { Clock, TimerId } from "../io/clock.ts";
import { HttpError } from "./http_answers.ts";

const decoder = new TextDecoder();

/** A body being read: the sweep it started after, and how to give up on it. */
interface Reading {
  startedAtSweep: number;
  late(): void;
}

/**
 * Reads request bodies within a size limit and a deadline. The deadline is kept by one timer
 * that sweeps every eighth of it (at most every half second), so a body is refused between the
 * deadline and a quarter of it later.
 */
export class BodyReader {
  readonly #clock: Clock;
  readonly #deadlineMs: number;
  readonly #limit: number;
  readonly #reading = new Set<Reading>();
  /** How often the sweep looks, in ms. */
  readonly #everyMs: number;
  /**
   * Sweeps between a body's start and its refusal: time is counted in sweeps rather than read
   * for each body (the clock's read was a tenth of a one-shot call's body handling). Intervals
   * are never early, so a body that started after sweep k has had more than (n - 1) intervals
   * at sweep k + n: it is refused once that is the deadline.
   */
  readonly #lateAfterSweeps: number;
  #sweeps = 0;
  #sweep: TimerId | undefined;
  #closed = false;

  /** Reads bodies of at most `limit` bytes that must arrive within `deadlineMs`. */
  constructor(limit: number, deadlineMs: number, clock: Clock) {
    this.#limit = limit;
    this.#deadlineMs = deadlineMs;
    this.#clock = clock;
    this.#everyMs = Math.max(1, Math.min(500, Math.floor(deadlineMs / 8)));
    this.#lateAfterSweeps = Math.ceil(deadlineMs / this.#everyMs) + 1;
  }

  /**
   * The body as text: refused with 413 (BodyTooLong) past the limit, whatever Content-Length
   * says, and with 408 (BodyTimeout) when it has not all arrived within the deadline.
   * Its length in bytes is added to `counted.received` once it is read (the front's byte
   * counts).
   */
  read(request: Request, counted?: { received: number }): Promise<string> {
    const limit = this.#limit;
    const length = request.headers.get("content-length");
    const declared = Number(length ?? "0");
    if (declared > limit) return Promise.reject(tooLong(limit));
    // With its length declared (and not chunked, which would override it) the body is exactly
    // that long, within the limit: read whole, without asking for `request.body` (which would
    // make a stream of it), and with no async step of its own (one a call is worth avoiding).
    // Without, it is read a chunk at a time, counted.
    // get, not has: a request's headers are looked up one by one, has() would fetch them all.
    const chunked = request.headers.get("transfer-encoding") !== null;
    if (length === null || chunked) return this.#readChunks(request, counted);
    if (declared === 0) return Promise.resolve("");
    return this.#within(request.arrayBuffer(), () => {}, (buffer) => {
      if (counted) counted.received += buffer.byteLength;
      return decoded(buffer);
    });
  }

  /** A body of undeclared length, read a chunk at a time within the limit. */
  async #readChunks(request: Request, counted?: { received: number }): Promise<string> {
    if (!request.body) return "";
    const reader = request.body.getReader();
    return await this.#within(
      readCounted(reader, this.#limit),
      () => reader.cancel().catch(() => {}),
      (bytes) => {
        if (counted) counted.received += bytes.length;
        return decoder.decode(bytes);
      },
    );
  }

  /** Stops the deadline timer (the front is closing). */
  close(): void {
    this.#closed = true;
    if (this.#sweep !== undefined) this.#clock.clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  /**
   * `done` of what `reading` gives, or a 408 once the deadline passed first (`abandon` is then
   * called): one promise, not one more to map what was read.
   */
  #within<T, R>(reading: Promise<T>, abandon: () => void, done: (value: T) => R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const entry: Reading = {
        startedAtSweep: this.#sweeps,
        late: () => {
          abandon();
          reject(
            new HttpError(
              408,
              "BodyTimeout",
              `the body did not arrive within ${this.#deadlineMs} ms`,
            ),
          );
        },
      };
      this.#reading.add(entry);
      this.#startSweep();
      reading.then(
        (value) => {
          this.#reading.delete(entry);
          try {
            resolve(done(value));
          } catch (error) {
            reject(error);
          }
        },
        (error) => {
          this.#reading.delete(entry);
          reject(error);
        },
      );
    });
  }

  /**
   * One timer for every body's deadline, started with a body and stopped by a sweep that finds
   * none (an idle server is not woken twice a second for nothing). Stopped and started again, a
   * body still gets at least its deadline: the count goes on, and a new timer's first sweep
   * comes a whole interval after it starts.
   */
  #startSweep(): void {
    if (this.#sweep !== undefined || this.#closed) return;
    this.#sweep = this.#clock.setInterval(() => {
      const sweep = ++this.#sweeps;
      for (const entry of this.#reading) {
        if (sweep - entry.startedAtSweep < this.#lateAfterSweeps) continue;
        this.#reading.delete(entry);
        entry.late();
      }
      if (this.#reading.size === 0 && this.#sweep !== undefined) {
        this.#clock.clearInterval(this.#sweep);
        this.#sweep = undefined;
      }
    }, this.#everyMs);
  }
}

/** Bodies up to this long are decoded in place when they are ASCII (most one-shot calls'). */
const SHORT_BODY = 64;

/**
 * A body's text: a short ASCII one (`{}`, a few parameters) by its code units, which costs less
 * than a call into the runtime's decoder; anything else as UTF-8 (invalid sequences replaced).
 */
function decoded(buffer: ArrayBuffer): string {
  if (buffer.byteLength > SHORT_BODY) return decoder.decode(buffer);
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x80) return decoder.decode(bytes);
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

function tooLong(limit: number): HttpError {
  return new HttpError(413, "BodyTooLong", `a request body may hold at most ${limit} bytes`);
}

/** Reads `reader` to its end, refusing more than `limit` bytes (a chunked body). */
async function readCounted(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limit: number,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      size += next.value.length;
      if (size > limit) throw tooLong(limit);
      parts.push(next.value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  }
  if (parts.length === 1) return parts[0];
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}
