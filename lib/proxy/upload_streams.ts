/**
 * The bytes of a `"stream": true` upload, as the client sends them in `{"id": N, "chunk":
 * {"bytes": base64}}` lines and ends them with `{"id": N, "chunk": {"end": true}}`. The
 * connection stops reading its input while a stream holds more than a few parts, so a client
 * faster than Telegram waits instead of filling this process.
 *
 * @module
 */

import { BadRequestError } from "./request_options.ts";

/** Bytes a stream holds before the connection stops reading (about 8 upload parts). */
export const STREAM_HIGH_WATER = 4 * 1024 * 1024;

/**
 * One upload's incoming bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UploadStream } from "./upload_streams.ts";
 * const stream = new UploadStream();
 * stream.push(Uint8Array.of(1, 2));
 * stream.end();
 * const got: number[] = [];
 * for await (const chunk of stream.chunks()) got.push(...chunk);
 * assert.deepEqual(got, [1, 2]);
 * ```
 */
export class UploadStream {
  #queue: Uint8Array[] = [];
  #held = 0;
  #ended = false;
  #error?: Error;
  #wake?: () => void;
  #roomWaiters: (() => void)[] = [];

  /** Bytes received and not yet taken by the upload. */
  get held(): number {
    return this.#held;
  }

  /** True once the client said the stream ended (or it failed). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Adds bytes from a chunk line. */
  push(bytes: Uint8Array): void {
    if (this.#ended || bytes.length === 0) return;
    this.#queue.push(bytes);
    this.#held += bytes.length;
    this.#wake?.();
  }

  /** The client's `{"end": true}`. */
  end(): void {
    this.#ended = true;
    this.#wake?.();
    this.#wakeRoom();
  }

  /** Ends the stream with an error (the connection closed before the end). */
  fail(error: Error): void {
    this.#error = error;
    this.#ended = true;
    this.#wake?.();
    this.#wakeRoom();
  }

  /**
   * The upload is over, whether it took every byte or failed: bytes still held are let go, and
   * a connection waiting for room reads on (an upload that failed takes nothing more, so its
   * room would otherwise never come, and the client's next request would never be read).
   */
  abandon(): void {
    this.#queue = [];
    this.#held = 0;
    this.#ended = true;
    this.#wakeRoom();
  }

  #wakeRoom(): void {
    for (const resolve of this.#roomWaiters.splice(0)) resolve();
  }

  /** Resolves once the stream holds less than {@link STREAM_HIGH_WATER} bytes (or ended). */
  async room(): Promise<void> {
    while (!this.#ended && this.#held >= STREAM_HIGH_WATER) {
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
  }

  /** The bytes in order, until the end. */
  async *chunks(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const next = this.#queue.shift();
      if (next) {
        this.#held -= next.length;
        if (this.#held < STREAM_HIGH_WATER) this.#wakeRoom();
        yield next;
        continue;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
  }
}

/**
 * A chunk line's `value` for the stream of request `id`: its bytes pushed, `{"end": true}` ending
 * it, anything else failing it. Without such a stream, the error line's content to send back.
 */
export function takeChunk(
  stream: UploadStream | undefined,
  id: number | undefined,
  value: unknown,
): { error: string; msg: string } | undefined {
  if (!stream) {
    return {
      error: "NoUploadStream",
      msg: id === undefined
        ? 'a chunk line needs the "id" of its "stream": true upload'
        : `a chunk line for ${id}, which is no "stream": true upload in progress`,
    };
  }
  const chunk = value as Record<string, unknown> | null;
  if (chunk?.end === true) {
    stream.end();
  } else if (typeof chunk?.bytes !== "string") {
    stream.fail(new BadRequestError("BadChunk", 'a chunk is {"bytes": base64} or {"end": true}'));
  } else {
    try {
      stream.push(Uint8Array.fromBase64(chunk.bytes));
    } catch {
      stream.fail(new BadRequestError("BadChunk", "a chunk's bytes must be base64"));
    }
  }
  return undefined;
}
