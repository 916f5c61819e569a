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
export async function* readLineBatches(
  stream: AsyncIterable<Uint8Array>,
  maxLength = 16 * 1024 * 1024,
): AsyncGenerator<Line[]> {
  let pending: string[] = [];
  let pendingLength = 0;
  let overflow = false;
  let number = 0;
  const take = (text: string): void => {
    pendingLength += text.length;
    if (overflow) return;
    if (pendingLength > maxLength) {
      overflow = true;
      pending = [];
    } else if (text !== "") pending.push(text);
  };
  const finish = (): Line => {
    number++;
    const length = pendingLength;
    let text = overflow ? "" : pending.join("");
    pending = [];
    pendingLength = 0;
    if (overflow) {
      overflow = false;
      return { kind: "too_long", length, number };
    }
    if (text.endsWith("\r")) text = text.slice(0, -1);
    return { kind: "line", text, number };
  };
  const decoder = new TextDecoder();
  const chunks = stream[Symbol.asyncIterator]();
  let ended = false;
  try {
    for (;;) {
      // Read and decoded in a call of its own: this generator's frame keeps only the text while
      // the next read waits, not the last buffer (an idle connection's 4 KiB).
      const chunk = await nextText(chunks, decoder);
      if (chunk === undefined) break;
      const batch: Line[] = [];
      let start = 0;
      for (;;) {
        const newline = chunk.indexOf("\n", start);
        if (newline < 0) break;
        take(chunk.slice(start, newline));
        batch.push(finish());
        start = newline + 1;
      }
      if (start < chunk.length) take(chunk.slice(start));
      if (batch.length) yield batch;
    }
    ended = true;
  } finally {
    // Left early (the reader stopped, or the stream failed), the stream is told, as for-await does.
    if (!ended) await chunks.return?.();
  }
  const rest = decoder.decode();
  if (rest) take(rest);
  if (pendingLength > 0 || overflow) yield [finish()];
}

/** The next chunk of `chunks` as text, or undefined at their end. */
async function nextText(
  chunks: AsyncIterator<Uint8Array>,
  decoder: TextDecoder,
): Promise<string | undefined> {
  const next = await chunks.next();
  return next.done ? undefined : decoder.decode(next.value, { stream: true });
}
