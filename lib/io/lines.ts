/**
 * Splits a byte stream into text lines for the line-oriented interfaces (`tl`, and the JSON
 * protocol of `pipe` and `serve`): UTF-8, `\n` or `\r\n`, with a size limit per line so one
 * oversized line is reported and skipped instead of exhausting memory.
 *
 * @module
 */

/** One line read from a stream, or the report of a line that exceeded the limit. */
export type Line =
  | { kind: "line"; text: string; number: number }
  | { kind: "too_long"; length: number; number: number };

/**
 * Yields the lines of `stream`. A line longer than `maxLength` characters is dropped while it
 * streams past, and reported once as `too_long`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLines } from "./lines.ts";
 * const stream = ReadableStream.from([new TextEncoder().encode("a\r\nb\n")]);
 * const texts = [];
 * for await (const line of readLines(stream)) if (line.kind === "line") texts.push(line.text);
 * assert.ok(texts.join() === "a,b");
 * ```
 */
export async function* readLines(
  stream: AsyncIterable<Uint8Array>,
  maxLength = 16 * 1024 * 1024,
): AsyncGenerator<Line> {
  for await (const batch of readLineBatches(stream, maxLength)) yield* batch;
}

/**
 * Yields the lines of `stream` a received chunk at a time: every line completed by one chunk
 * comes in one array, so a server can handle requests that arrived together before yielding.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLineBatches } from "./lines.ts";
 * const encode = (text: string) => new TextEncoder().encode(text);
 * const stream = ReadableStream.from([encode("a\nb\nc"), encode("\n")]);
 * const batches = [];
 * for await (const batch of readLineBatches(stream)) batches.push(batch.length);
 * assert.deepEqual(batches, [2, 1]);
 * ```
 */
export function readLineBatches(
  stream: AsyncIterable<Uint8Array>,
  maxLength = 16 * 1024 * 1024,
): AsyncIterableIterator<Line[]> {
  return new LineBatches(stream[Symbol.asyncIterator](), maxLength);
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * The iterator of {@link readLineBatches}: an object of its own rather than an async generator,
 * since every idle connection of `serve` waits in it (a suspended generator kept its frame and
 * registers, ~2 KB a connection with what they held); between reads it keeps only the text of an
 * unfinished line, never the last buffer.
 */
class LineBatches implements AsyncIterableIterator<Line[]> {
  readonly #chunks: AsyncIterator<Uint8Array>;
  readonly #maxLength: number;
  readonly #decoder = new TextDecoder();
  #pending: string[] = [];
  #pendingLength = 0;
  #overflow = false;
  #number = 0;
  /** True once the stream ended or failed, or the reader stopped. */
  #finished = false;

  constructor(chunks: AsyncIterator<Uint8Array>, maxLength: number) {
    this.#chunks = chunks;
    this.#maxLength = maxLength;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Line[]>> {
    if (this.#finished) return Promise.resolve(DONE);
    return this.#chunks.next().then(
      (next) => this.#split(next),
      async (error) => {
        // The stream failed: it is told, as for-await tells it, and the failure goes on.
        this.#finished = true;
        await this.#chunks.return?.();
        throw error;
      },
    );
  }

  /** The reader stopped early: the stream is told, as for-await does. */
  async return(): Promise<IteratorResult<Line[]>> {
    if (!this.#finished) {
      this.#finished = true;
      await this.#chunks.return?.();
    }
    return DONE;
  }

  #split(
    next: IteratorResult<Uint8Array>,
  ): IteratorResult<Line[]> | Promise<IteratorResult<Line[]>> {
    if (next.done) {
      this.#finished = true;
      const rest = this.#decoder.decode();
      if (rest) this.#take(rest);
      return this.#pendingLength > 0 || this.#overflow
        ? { done: false, value: [this.#finish()] }
        : DONE;
    }
    const chunk = this.#decoder.decode(next.value, { stream: true });
    const batch: Line[] = [];
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf("\n", start);
      if (newline < 0) break;
      this.#take(chunk.slice(start, newline));
      batch.push(this.#finish());
      start = newline + 1;
    }
    if (start < chunk.length) this.#take(chunk.slice(start));
    // A chunk that completed no line: read on.
    return batch.length ? { done: false, value: batch } : this.next();
  }

  #take(text: string): void {
    this.#pendingLength += text.length;
    if (this.#overflow) return;
    if (this.#pendingLength > this.#maxLength) {
      this.#overflow = true;
      this.#pending = [];
    } else if (text !== "") this.#pending.push(text);
  }

  #finish(): Line {
    const number = ++this.#number;
    const length = this.#pendingLength;
    let text = this.#overflow ? "" : this.#pending.join("");
    this.#pending = [];
    this.#pendingLength = 0;
    if (this.#overflow) {
      this.#overflow = false;
      return { kind: "too_long", length, number };
    }
    if (text.endsWith("\r")) text = text.slice(0, -1);
    return { kind: "line", text, number };
  }
}
