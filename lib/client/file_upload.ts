/**
 * One upload: the source's bytes cut into parts (Telegram's sizes, see `upload_parts.ts`), saved
 * on the home DC's file connections as many at a time as the window allows, and named by the
 * `inputFile` / `inputFileBig` the caller then sends as media. The source is read only as parts
 * can go, so a file of any size costs a window of parts in memory. FLOOD_WAIT holds every part,
 * a lost connection or a timeout sends the part again.
 *
 * @module
 */

import { Mtproto2jsonError, RpcError } from "../errors.ts";
import { type RandomSource, secureRandom } from "../crypto/random.ts";
import type { TlObject } from "../tl/codec.ts";
import type { Client } from "./client.ts";
import {
  isRetriedRpcError,
  sendDue,
  TransferWakeup,
  TransferWindow,
  type TransferWindowOptions,
  UPLOAD_WINDOW,
  withParts,
} from "./transfer_window.ts";
import { UploadParts } from "./upload_parts.ts";

/** How to upload. */
export interface UploadFileOptions {
  /** The file's name in the `inputFile`. */
  name: string;
  /** The source's size in bytes, when known (a stream of unknown size is a big file). */
  size?: number;
  /** Parts in flight at most (default: the window's). */
  parts?: number;
  /** Bytes per part (default 512 KiB). */
  partSize?: number;
  /** The window's settings (defaults: {@link UPLOAD_WINDOW}). */
  window?: Partial<TransferWindowOptions>;
  /** Where the file id comes from (default: the secure source). */
  random?: RandomSource;
  /** Seconds a part may take before it is sent again (default: the client's timeout). */
  partTimeoutSeconds?: number;
  /** Called with the bytes saved so far, after each part. */
  onProgress?: (saved: number) => void;
  /**
   * Asked before each part is read and after each part's answer: an error it returns ends the
   * upload with that error, no further part sent (nobody waits for the upload's answer any more).
   */
  stopped?: () => Error | undefined;
}

/** An upload that cannot go on; `rpcError` names Telegram's reason when it gave one. */
export class UploadError extends Mtproto2jsonError {
  override name = "UploadError";
  /** The RPC error's message (e.g. `FILE_PARTS_INVALID`), if one. */
  readonly rpcError?: string;

  constructor(message: string, rpcError?: string) {
    super(message);
    if (rpcError !== undefined) this.rpcError = rpcError;
  }
}

/** A part in the window. */
interface WindowedPart {
  index: number;
  dc: number;
  bytes: number;
  request: TlObject;
  /** The buffer its bytes were cut into, used again for a later part once this one is saved. */
  buffer: Uint8Array;
  /** Calls under way with its bytes (a retry is made only after the call before it ended). */
  calls: number;
}

/**
 * Uploads `source` and returns the `inputFile` (≤ 10 MiB, with its MD5) or `inputFileBig` that
 * names it, in native form.
 *
 * @example
 * ```ts ignore
 * const file = await uploadFile(client, Deno.openSync(path).readable, { name: "a.bin", size });
 * ```
 */
export async function uploadFile(
  client: Client,
  source: AsyncIterable<Uint8Array>,
  options: UploadFileOptions,
): Promise<TlObject> {
  const upload = new UploadParts({
    ...(options.size !== undefined ? { size: options.size } : {}),
    random: options.random ?? secureRandom,
    ...(options.partSize !== undefined ? { partSize: options.partSize } : {}),
  });
  const settings = withParts({ ...UPLOAD_WINDOW, ...options.window }, options.parts, 512 * 1024);
  const window = new TransferWindow<WindowedPart>(settings);
  const clock = client.clock;
  const dc = client.session.dc;
  // Buffers of parts saved, for the next parts to be cut into: a fresh half megabyte per part
  // costs a page fault per 4 KiB the first time it is written.
  const spare: Uint8Array[] = [];
  const parts = cutInto(source, upload.partSize, spare);
  const pending = new Set<WindowedPart>();
  const settled: { part: WindowedPart; error?: unknown }[] = [];
  const wakeup = new TransferWakeup(clock);
  let index = 0;
  let ended = false;
  let saved = 0;

  const ask = (part: WindowedPart, connection: number) => {
    part.calls++;
    client.callFile(dc, connection, part.request, options.partTimeoutSeconds).finally(() =>
      part.calls--
    ).then(
      (answer) =>
        settled.push(
          answer._cons === "boolTrue"
            ? { part }
            : { part, error: new UploadError(`the part was not saved (${answer._cons})`) },
        ),
      (error) => settled.push({ part, error }),
    ).finally(wakeup.wake);
  };

  /**
   * The read of the source in progress, if any: parts in hand go out while it waits (a stream
   * may be slow to give its next part, or give it only at its end).
   */
  let reading: Promise<void> | undefined;
  let readFailed: { error: unknown } | undefined;
  const read = () => {
    reading = (async () => {
      try {
        const next = await parts.next();
        if (next.done) {
          ended = true;
          return;
        }
        const { bytes, buffer, last } = next.value;
        const part = {
          index,
          dc,
          bytes: bytes.length,
          request: upload.request(index, bytes, last && options.size === undefined),
          buffer,
          calls: 0,
        };
        index++;
        if (last) ended = true;
        pending.add(part);
        window.add(part);
      } catch (error) {
        readFailed = { error };
      } finally {
        reading = undefined;
        wakeup.wake();
      }
    })();
  };

  try {
    while (!ended || pending.size > 0) {
      if (readFailed) throw readFailed.error;
      const stop = options.stopped?.();
      if (stop) throw stop;
      // Read only as far as the window can take: the source waits, not memory.
      if (!ended && !reading && pending.size < settings.maxParts) read();
      const waitUntil = sendDue(window, () => clock.now(), ask);
      if (settled.length === 0) {
        await wakeup.sleep(waitUntil);
        continue;
      }
      const { part, error } = settled.shift()!;
      if (!pending.has(part)) continue;
      if (error === undefined) {
        window.done(part);
        pending.delete(part);
        // Its bytes were encoded into each call's message; no call of it is left to encode them.
        if (part.calls === 0 && spare.length < settings.maxParts) spare.push(part.buffer);
        upload.saved(part.index);
        saved += part.bytes;
        options.onProgress?.(saved);
        continue;
      }
      if (error instanceof RpcError && !isRetriedRpcError(error)) {
        throw new UploadError(
          `${part.request._cons} failed for part ${part.index}: ${error.errorMessage}`,
          error.errorMessage,
        );
      }
      const outcome = window.failed(part, error, clock.now());
      if (outcome?.action === "give_up") {
        throw new UploadError(
          `part ${part.index} failed ${outcome.failures} times: ${
            (error as Error)?.message ?? String(error)
          }`,
          error instanceof RpcError ? error.errorMessage : undefined,
        );
      }
    }
  } finally {
    // A read still waiting for the source (a stalled stream) is not waited for: the source is
    // let go once it answers.
    if (reading) parts.return(undefined).catch(() => {});
    else await parts.return(undefined);
  }
  if (index === 0) throw new UploadError("the source is empty: Telegram takes no empty file");
  return upload.inputFile(options.name);
}

/** A part cut from the source: its bytes, in `buffer` (which {@link cutInto} may be given back). */
interface CutPart {
  bytes: Uint8Array;
  buffer: Uint8Array;
  last: boolean;
}

/**
 * `source` re-cut into parts of exactly `size` bytes (the last one shorter), each marked `last`
 * when nothing follows it — known by reading one part ahead. Parts are cut into buffers from
 * `spare` (of `size` bytes, given back by the caller once a part is no longer needed) while it
 * has any. A file's stream is read straight into the part's buffer (a BYOB reader), not into a
 * fresh 64 KiB chunk per read that is then copied.
 */
async function* cutInto(
  source: AsyncIterable<Uint8Array>,
  size: number,
  spare: Uint8Array[],
): AsyncGenerator<CutPart> {
  const fresh = () => spare.pop() ?? new Uint8Array(size);
  let buffer = fresh();
  let filled = 0;
  let ready: Uint8Array | undefined;
  const cut = (): CutPart | undefined => {
    const done = ready;
    ready = buffer;
    buffer = fresh();
    filled = 0;
    return done && { bytes: done, buffer: done, last: false };
  };
  const reader = byobReader(source);
  if (reader) {
    let finished = false;
    try {
      for (;;) {
        const { value, done } = await reader.read(buffer.subarray(filled));
        // The read took the buffer over (transferred it): its bytes are under `value` now.
        if (value) buffer = new Uint8Array(value.buffer, 0, size);
        if (done) break;
        filled += value.length;
        if (filled === size) {
          const part = cut();
          if (part) yield part;
        }
      }
      finished = true;
    } finally {
      // Given up early (the upload failed): the file is let go, as `for await` would.
      if (!finished) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  } else {
    for await (const chunk of source) {
      for (let at = 0; at < chunk.length;) {
        const take = Math.min(size - filled, chunk.length - at);
        buffer.set(chunk.subarray(at, at + take), filled);
        filled += take;
        at += take;
        if (filled === size) {
          const part = cut();
          if (part) yield part;
        }
      }
    }
  }
  if (filled > 0) {
    if (ready) yield { bytes: ready, buffer: ready, last: false };
    yield { bytes: buffer.subarray(0, filled), buffer, last: true };
  } else if (ready) {
    yield { bytes: ready, buffer: ready, last: true };
  }
}

/** A BYOB reader of `source` when it is a byte stream (a file's `readable`), else undefined. */
function byobReader(source: AsyncIterable<Uint8Array>): ReadableStreamBYOBReader | undefined {
  if (!(source instanceof ReadableStream)) return undefined;
  try {
    return source.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream: read by its chunks.
    return undefined;
  }
}
