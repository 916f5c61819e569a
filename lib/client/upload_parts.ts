/**
 * How an upload is cut into `upload.saveFilePart` / `upload.saveBigFilePart` requests, and the
 * `inputFile` / `inputFileBig` that names the result (https://core.telegram.org/api/files).
 * Files of at most 10 MiB are "small": saveFilePart, and an MD5 of the whole file in the
 * inputFile. Bigger ones, and streams whose size is unknown, are "big": saveBigFilePart with
 * `file_total_parts` (-1 on a stream's parts until its last). Every part but the last has the
 * same size, a multiple of 1 KiB dividing 512 KiB; the part numbers stop below the account's
 * limit (appConfig `upload_max_fileparts_default`, 4000; `_premium`, 8000), which Telegram counts
 * whatever the part size: only 512 KiB parts reach the largest file. No I/O.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { Mtproto2jsonError } from "../errors.ts";
import { randomLong, type RandomSource } from "../crypto/random.ts";
import type { TlObject } from "../tl/tl_object.ts";

/** Files up to this size are small: the docs send "more than 10 MB" through saveBigFilePart. */
export const SMALL_FILE_MAX = 10 * 1024 * 1024;
/** The largest part Telegram takes, and the one it recommends: the least protocol overhead. */
export const UPLOAD_PART_MAX = 512 * 1024;
/**
 * Parts per file without Premium (appConfig `upload_max_fileparts_default`): 4000 parts of
 * 512 KiB are 2000 MiB (2 097 152 000 bytes, a little under 2 GiB). Premium accounts have 8000
 * (`upload_max_fileparts_premium`, 4000 MiB): pass `maxParts`.
 */
export const UPLOAD_MAX_PARTS = 4000;

/** A file Telegram cannot take: larger than the part limit allows, or empty. */
export class UploadSizeError extends Mtproto2jsonError {
  override name = "UploadSizeError";
}

/** A part that does not fit the upload (wrong size or number, out of order, missing at the end). */
export class UploadPartError extends Mtproto2jsonError {
  override name = "UploadPartError";
}

/** The choices of one upload. */
export interface UploadOptions {
  /** The file's size in bytes; undefined for a stream whose size shows only at its end. */
  size?: number;
  /** Where the 64-bit file id comes from. */
  random: RandomSource;
  /** Bytes per part (default 512 KiB); grown when the file would need too many parts. */
  partSize?: number;
  /** The account's part limit (default {@link UPLOAD_MAX_PARTS}). */
  maxParts?: number;
}

/**
 * The part size for a file of `size` bytes: `partSize` (default 512 KiB), doubled while the file
 * would need more than `maxParts` parts; throws {@link UploadSizeError} when even 512 KiB parts
 * are too many, or for an empty file (Telegram refuses empty parts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uploadPartSize } from "./upload_parts.ts";
 * assert.equal(uploadPartSize(100 * 1024 * 1024), 512 * 1024);
 * assert.equal(uploadPartSize(100 * 1024 * 1024, { partSize: 8 * 1024 }), 32 * 1024); // 3200 parts
 * ```
 */
export function uploadPartSize(
  size: number | undefined,
  options: { partSize?: number; maxParts?: number } = {},
): number {
  const { partSize = UPLOAD_PART_MAX, maxParts = UPLOAD_MAX_PARTS } = options;
  if (!isUploadPartSize(partSize)) {
    throw new UploadPartError(
      `part size ${partSize} is not a multiple of 1024 that divides 524288 (512 KiB)`,
    );
  }
  if (size === undefined) return partSize;
  if (!(Number.isSafeInteger(size) && size >= 0)) {
    throw new UploadSizeError(`size must be a whole number of bytes, got ${size}`);
  }
  if (size === 0) throw new UploadSizeError("an empty file cannot be uploaded (FILE_PART_EMPTY)");
  let chosen = partSize;
  while (Math.ceil(size / chosen) > maxParts && chosen < UPLOAD_PART_MAX) chosen *= 2;
  if (Math.ceil(size / chosen) > maxParts) {
    throw new UploadSizeError(
      `${size} bytes need ${Math.ceil(size / chosen)} parts of 512 KiB, over the limit of ` +
        `${maxParts} (${maxParts * UPLOAD_PART_MAX} bytes); Premium accounts have 8000 parts ` +
        `(upload_max_fileparts_premium)`,
    );
  }
  return chosen;
}

/**
 * True when Telegram takes parts of `bytes`: a multiple of 1 KiB that divides 512 KiB (1 KiB ×
 * 2^k for k = 0 … 9).
 */
export function isUploadPartSize(bytes: number): boolean {
  return Number.isSafeInteger(bytes) && bytes >= 1024 && bytes % 1024 === 0 &&
    UPLOAD_PART_MAX % bytes === 0;
}

/**
 * One upload: the request for each part, and the `inputFile` once every part is saved.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replayRandom } from "../crypto/random.ts";
 * import { UploadParts } from "./upload_parts.ts";
 * const upload = new UploadParts({ size: 3, random: replayRandom(new Uint8Array(8).fill(1)) });
 * const request = upload.request(0, new TextEncoder().encode("abc"));
 * assert.equal(request._cons, "upload.saveFilePart");
 * upload.saved(0);
 * assert.deepEqual(upload.inputFile("abc.txt"), {
 *   _cons: "inputFile",
 *   id: 0x0101010101010101n,
 *   parts: 1,
 *   name: "abc.txt",
 *   md5_checksum: "900150983cd24fb0d6963f7d28e17f72",
 * });
 * ```
 */
export class UploadParts {
  /** The random file id every part and the inputFile carry. */
  readonly fileId: bigint;
  /** True for saveBigFilePart and inputFileBig (over 10 MiB, or a stream). */
  readonly big: boolean;
  /** Bytes in every part but the last. */
  readonly partSize: number;
  /** The file's size; for a stream, known once its last part is cut. */
  #size: number | undefined;
  #total: number | undefined;
  readonly #maxParts: number;
  readonly #md5: Hash | undefined;
  #hashed = 0;
  readonly #saved = new Set<number>();

  /** Plans the upload; throws {@link UploadSizeError} for a file Telegram cannot take. */
  constructor(options: UploadOptions) {
    const { size, random, maxParts = UPLOAD_MAX_PARTS } = options;
    this.partSize = uploadPartSize(size, options);
    this.#size = size;
    this.#maxParts = maxParts;
    this.#total = size === undefined ? undefined : Math.ceil(size / this.partSize);
    this.big = size === undefined || size > SMALL_FILE_MAX;
    // Only a small file's inputFile carries the MD5 of its whole content.
    this.#md5 = this.big ? undefined : createHash("md5");
    this.fileId = randomLong(random);
  }

  /** How many parts the file has; undefined for a stream until its last part is cut. */
  get totalParts(): number | undefined {
    return this.#total;
  }

  /** The file's size; undefined for a stream until its last part is cut. */
  get size(): number | undefined {
    return this.#size;
  }

  /**
   * The request that saves part `index` with `bytes`; a stream marks its final part `last` (so a
   * stream is read one part ahead: the last part must be known when it is cut). A small file's
   * parts are cut in order the first time, for its MD5; a retry may cut one again.
   */
  request(index: number, bytes: Uint8Array, last = false): TlObject {
    this.#check(index, bytes, last);
    if (this.#md5 && index === this.#hashed) {
      this.#md5.update(bytes);
      this.#hashed++;
    } else if (this.#md5 && index > this.#hashed) {
      throw new UploadPartError(
        `part ${index} cut before part ${this.#hashed}: a small file's MD5 is taken in order`,
      );
    }
    if (!this.big) {
      return { _cons: "upload.saveFilePart", file_id: this.fileId, file_part: index, bytes };
    }
    return {
      _cons: "upload.saveBigFilePart",
      file_id: this.fileId,
      file_part: index,
      // A stream's parts say -1 until the last one tells the total.
      file_total_parts: this.#total ?? -1,
      bytes,
    };
  }

  /** Part `index` was saved (Telegram answered `boolTrue`). */
  saved(index: number): void {
    this.#saved.add(index);
  }

  /** True once every part is saved (for a stream: its last part was cut). */
  get complete(): boolean {
    return this.#total !== undefined && this.#saved.size === this.#total;
  }

  /**
   * The `inputFile` (small: with the MD5 as lowercase hex) or `inputFileBig` that names the
   * uploaded file in messages.sendMedia and the like; throws {@link UploadPartError} while a
   * part is not saved.
   */
  inputFile(name: string): TlObject {
    if (!this.complete) {
      const missing = this.#total === undefined
        ? "the stream's last part was not cut"
        : `${this.#total - this.#saved.size} of ${this.#total} parts are not saved`;
      throw new UploadPartError(`the upload is not complete: ${missing}`);
    }
    if (this.big) return { _cons: "inputFileBig", id: this.fileId, parts: this.#total, name };
    return {
      _cons: "inputFile",
      id: this.fileId,
      parts: this.#total,
      name,
      md5_checksum: this.#md5!.copy().digest("hex"),
    };
  }

  #check(index: number, bytes: Uint8Array, last: boolean): void {
    const limit = this.#total ?? this.#maxParts;
    if (!(Number.isSafeInteger(index) && index >= 0 && index < limit)) {
      if (this.#total === undefined && Number.isSafeInteger(index) && index >= limit) {
        throw new UploadSizeError(
          `the stream needs more than ${limit} parts of ${this.partSize} bytes, over the limit`,
        );
      }
      throw new UploadPartError(`part ${index} is not one of the ${limit} parts of this file`);
    }
    if (this.#size === undefined) {
      // A stream: full parts until the last, which holds 1 … partSize bytes.
      const fits = last
        ? bytes.length >= 1 && bytes.length <= this.partSize
        : bytes.length === this.partSize;
      if (!fits) {
        throw new UploadPartError(
          `part ${index} of a stream has ${bytes.length} bytes; parts have ${this.partSize}` +
            (last ? ", the last 1 or more" : ""),
        );
      }
      if (last) {
        this.#total = index + 1;
        this.#size = index * this.partSize + bytes.length;
      }
      return;
    }
    const expected = Math.min(this.partSize, this.#size - index * this.partSize);
    if (bytes.length !== expected) {
      throw new UploadPartError(`part ${index} has ${bytes.length} bytes where it has ${expected}`);
    }
  }
}
