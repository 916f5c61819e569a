/**
 * The protocol's file requests: `{"download": {...}}` (to a file, or as `chunk` lines in order
 * with back-pressure, with `progress` lines) and `{"upload": {...}}` (from a file, from base64
 * bytes, or from `chunk` lines the client streams, with `progress` lines too), each answered by
 * one line. A download with `"verify": true` checks its parts against `upload.getFileHashes`. Paths are
 * resolved by the connection's file policy (`file_paths.ts`): `serve` only inside `--files DIR`,
 * `pipe` as given.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Client } from "../client/client.ts";
import { downloadFile } from "../client/file_download.ts";
import { uploadFile } from "../client/file_upload.ts";
import type { Clock } from "../io/clock.ts";
import { downloadSource } from "./download_source.ts";
import {
  type FilePolicy,
  partFileName,
  partFileSize,
  resolveFilePath,
  resumeOffset,
} from "./file_paths.ts";
import { BadRequestError, objectOf } from "./request_options.ts";
import { framePool } from "../io/frame_pool.ts";
import { Mtproto2jsonError } from "../errors.ts";

/** What a file request needs from its connection. */
export interface FileRequestContext {
  client: Client;
  /** Where paths may point. */
  files: FilePolicy;
  clock: Clock;
  /** Writes one line of this request (chunks, progress). */
  send(line: Record<string, unknown>): void;
  /** Resolves once the connection's unsent output is below `characters`. */
  drained(characters: number): Promise<void>;
  /**
   * True once the connection is closed: its client went away (a request it left behind has no
   * one to answer, and a download stops fetching parts), or it got every answer it was owed.
   */
  closed(): boolean;
  /**
   * Where a download without `"to"` hands its bytes instead of `chunk` lines, when the
   * connection's client takes bytes (the web front's file body): see {@link ChunkSink}.
   */
  sendBytes?: ChunkSink;
}

/**
 * Takes a download's next bytes, at `offset` in the file, for request `id`, and resolves once it
 * has room for more (back-pressure). `bytes` is lent only for the call (its buffer is used again
 * for a later part): a sink that keeps them copies them. Rejects when its reader is gone, which
 * ends the download.
 */
export type ChunkSink = (id: number, offset: number, bytes: Uint8Array) => Promise<void>;

/**
 * The bytes of request `id`'s `"stream": true` upload, when the connection's client gives them as
 * bytes (the web front's request body) instead of `chunk` lines; undefined for chunk lines.
 */
export type ChunkSource = (id: number) => AsyncIterable<Uint8Array> | undefined;

/** A file request stopped because its connection's client went away. */
export class ClientGoneError extends Mtproto2jsonError {
  override name = "ClientGone";
}

/** Unsent output above which a download waits before its next chunk line (about 4 parts). */
const CHUNK_HIGH_WATER = 6 * 1024 * 1024;

/** A positive whole number from the request, or a clear error naming the field. */
function count(value: unknown, field: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new BadRequestError("WrongType", `${field} must be a whole number ≥ ${min}`);
  }
  return value;
}

/** The seconds between progress lines a request asks (`"progress"`, default 0.5; 0 = none). */
function progressEvery(spec: Record<string, unknown>, field: string): number {
  const every = spec.progress === undefined ? 0.5 : spec.progress;
  if (typeof every !== "number" || !(every >= 0) || every === Infinity) {
    throw new BadRequestError("WrongType", `${field}.progress must be seconds ≥ 0`);
  }
  return every;
}

/**
 * Sends `{"id": id, "progress": {"bytes": N, "total": N}}` for request `id`, at most one every
 * `every` seconds on the context's clock (none for 0); `total` left out when unknown.
 */
function progressLines(
  context: FileRequestContext,
  id: number,
  every: number,
  total: number | undefined,
): (bytes: number) => void {
  let last = context.clock.now();
  return (bytes) => {
    if (every <= 0 || context.clock.now() - last < every * 1000) return;
    last = context.clock.now();
    context.send({ id, progress: { bytes, ...(total !== undefined ? { total } : {}) } });
  };
}

/**
 * Runs `{"download": spec}` for request `id` and returns the final `download` object: the size,
 * the SHA-256 of the bytes delivered, the MIME type and, written to a file, its path. With
 * `"head": true`, only what the download would bring: the file's size when known, its MIME type
 * and name, without a byte fetched.
 */
export async function download(
  context: FileRequestContext,
  id: number,
  value: unknown,
): Promise<Record<string, unknown>> {
  const spec = objectOf(value, "download");
  const offset = count(spec.offset, "download.offset") ?? 0;
  const length = count(spec.length, "download.length");
  const parts = count(spec.parts, "download.parts", 1);
  const every = progressEvery(spec, "download");
  if (spec.verify !== undefined && typeof spec.verify !== "boolean") {
    throw new BadRequestError("WrongType", "download.verify must be true or false");
  }
  const verify = spec.verify === true;
  const to = spec.to === undefined ? undefined : String(spec.to);
  // Paths first: a refused path costs no call to Telegram.
  const path = to === undefined
    ? undefined
    : await resolveFilePath(context.files, to, { forWrite: true });
  const source = await downloadSource(context.client, spec);
  if (spec.head === true) {
    // What the download would bring, without fetching a byte (HTTP's HEAD, Content-Length).
    return {
      ...(source.size !== undefined ? { file_size: source.size } : {}),
      ...(source.mimeType ? { mime_type: source.mimeType } : {}),
      ...(source.fileName ? { file_name: source.fileName } : {}),
    };
  }
  const hash = createHash("sha256");
  let start = offset;
  let file: Deno.FsFile | undefined;
  const partial = path === undefined ? undefined : partFileName(path);
  if (partial !== undefined) {
    // A resumed download continues the .part file from its last whole part, hashing what it has.
    const had = spec.resume === true ? await partFileSize(partial) : undefined;
    const kept = had === undefined ? 0 : resumeOffset(had, 1024 * 1024);
    file = await Deno.open(partial, { write: true, create: true, truncate: kept === 0 });
    if (kept > 0) {
      await file.truncate(kept);
      for await (const chunk of (await Deno.open(partial)).readable) hash.update(chunk);
      await file.seek(kept, Deno.SeekMode.Start);
      start = offset + kept;
    }
  }
  const total = source.size === undefined ? length : Math.max(
    0,
    Math.min(source.size, length === undefined ? Infinity : offset + length) - offset,
  );
  let delivered = start - offset;
  const progress = progressLines(context, id, every, total);
  let verified = false;
  try {
    const chunks = downloadFile(context.client, source, {
      offset: start,
      ...(length !== undefined ? { length: length - (start - offset) } : {}),
      ...(parts !== undefined ? { parts } : {}),
      ...(verify ? { verify, onVerified: (all: boolean) => verified = all } : {}),
    });
    for await (const chunk of chunks) {
      // Leaving the loop ends the download: no part is asked after this one.
      if (context.closed()) {
        throw new ClientGoneError("the connection closed before the download's end");
      }
      hash.update(chunk);
      if (file) {
        for (let written = 0; written < chunk.length;) {
          written += await file.write(chunk.subarray(written));
        }
      } else if (context.sendBytes) {
        // As bytes: never turned into base64 and JSON to be decoded back.
        await context.sendBytes(id, offset + delivered, chunk);
      } else {
        // Back-pressure: a client that does not read does not grow this process.
        await context.drained(CHUNK_HIGH_WATER);
        context.send({ id, chunk: { offset: offset + delivered, bytes: chunk.toBase64() } });
      }
      delivered += chunk.length;
      // Written or encoded: the part's buffer can take the next part (see frame_pool.ts).
      framePool.release(chunk);
      progress(delivered);
    }
  } finally {
    file?.close();
  }
  if (path !== undefined) await Deno.rename(partial!, path);
  return {
    size: delivered,
    sha256: hash.digest("hex"),
    ...(source.mimeType ? { mime_type: source.mimeType } : {}),
    ...(source.fileName ? { file_name: source.fileName } : {}),
    ...(to !== undefined ? { path: to } : {}),
    // A resumed download's kept bytes were not checked: only what this run fetched was.
    ...(verify ? { verified: verified && start === offset } : {}),
  };
}

/**
 * Runs `{"upload": spec}` for request `id` and returns the `inputFile` / `inputFileBig` in the
 * connection's JSON form, sending `progress` lines of the bytes Telegram has saved as it goes;
 * `stream` gives the bytes of a `"stream": true` upload (from its chunk lines, or as given).
 */
export async function upload(
  context: FileRequestContext,
  id: number,
  value: unknown,
  stream?: { chunks(): AsyncIterable<Uint8Array> },
): Promise<Record<string, unknown>> {
  const spec = objectOf(value, "upload");
  const parts = count(spec.parts, "upload.parts", 1);
  const every = progressEvery(spec, "upload");
  let name = spec.name === undefined ? undefined : String(spec.name);
  let source: AsyncIterable<Uint8Array>;
  let size: number | undefined;
  let file: Deno.FsFile | undefined;
  if (spec.path !== undefined) {
    const path = await resolveFilePath(context.files, String(spec.path));
    file = await Deno.open(path);
    size = (await file.stat()).size;
    source = file.readable;
    name ??= path.split("/").at(-1);
  } else if (spec.bytes !== undefined) {
    if (typeof spec.bytes !== "string") {
      throw new BadRequestError("WrongType", "upload.bytes must be base64");
    }
    let bytes: Uint8Array;
    try {
      bytes = Uint8Array.fromBase64(spec.bytes);
    } catch {
      throw new BadRequestError("WrongType", "upload.bytes must be base64");
    }
    size = bytes.length;
    source = (async function* () {
      yield bytes;
    })();
  } else if (spec.stream === true && stream) {
    source = stream.chunks();
    // Said in advance (HTTP's Content-Length), a small file goes as one (saveFilePart, its MD5).
    size = count(spec.size, "upload.size", 1);
  } else {
    throw new BadRequestError(
      "BadUpload",
      'upload needs "path", "bytes" (base64) or "stream": true followed by chunk lines',
    );
  }
  try {
    const input = await uploadFile(context.client, source, {
      name: name ?? "file",
      ...(size !== undefined ? { size } : {}),
      ...(parts !== undefined ? { parts } : {}),
      onProgress: progressLines(context, id, every, size),
      // As a download does: a client that went away has the rest of its file left unsent.
      stopped: () =>
        context.closed()
          ? new ClientGoneError("the connection closed before the upload's end")
          : undefined,
    });
    return context.client.json(input);
  } finally {
    try {
      file?.close();
    } catch { /* closed by its stream */ }
  }
}
