/**
 * Parts of a file served by a CDN DC (https://core.telegram.org/cdn): `upload.getCdnFile`
 * answers with bytes encrypted by AES-256-CTR under the key of the master DC's
 * `upload.fileCdnRedirect`, the counter starting at its `encryption_iv` with the last 4 bytes
 * replaced by the big-endian `offset / 16`. A CDN is untrusted: the decrypted bytes count only
 * once they match the SHA-256 `FileHash`es of the master DC (from the redirect, then
 * `upload.getCdnFileHashes`), each covering `limit` bytes from `offset` (128 KiB windows in
 * practice). No I/O.
 *
 * @module
 */

import { Mtproto2jsonError } from "../errors.ts";
import { AesCtr } from "../crypto/ctr.ts";
import { sha256 } from "../crypto/hash.ts";
import type { TlObject } from "../tl/codec.ts";

/** Decrypted CDN bytes whose SHA-256 is not the master DC's: the CDN sent something else. */
export class CdnHashMismatchError extends Mtproto2jsonError {
  override name = "CdnHashMismatch";
  /** Names the hash window [`offset`, `offset + limit`) that did not match. */
  constructor(readonly offset: number, readonly limit: number) {
    super(`CDN bytes ${offset}…${offset + limit} do not match the master DC's SHA-256`);
  }
}

/** One `fileHash`: the SHA-256 of `limit` bytes of the file from `offset` (a long: bigint). */
export interface CdnFileHash {
  offset: number | bigint;
  limit: number;
  hash: Uint8Array;
}

/** Bytes [`offset`, `offset + length`) of the file. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** What checking one part found, the mismatches aside (those throw). */
export interface CdnCheck {
  /** Bytes no known hash covers: ask `upload.getCdnFileHashes` from the first offset. */
  missing: ByteRange[];
  /**
   * Bytes in a hash window this part covers only in part: checked once the rest of the window is
   * at hand (parts aligned to the windows, as 128 KiB multiples are, have none).
   */
  partial: ByteRange[];
}

/**
 * The counter block of the part at `offset`: `iv` with its last 4 bytes replaced by the
 * big-endian `offset / 16`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cdnPartIv } from "./cdn_parts.ts";
 * const iv = cdnPartIv(new Uint8Array(16).fill(0xaa), 0x100000);
 * assert.deepEqual([...iv.subarray(11)], [0xaa, 0x00, 0x01, 0x00, 0x00]);
 * ```
 */
export function cdnPartIv(iv: Uint8Array, offset: number): Uint8Array {
  if (iv.length !== 16) throw new RangeError(`a CDN IV has 16 bytes, got ${iv.length}`);
  if (!(Number.isSafeInteger(offset) && offset >= 0 && offset % 16 === 0 && offset < 2 ** 36)) {
    throw new RangeError(`a CDN part starts on a multiple of 16 below 64 GiB, got ${offset}`);
  }
  const counter = iv.slice();
  new DataView(counter.buffer).setUint32(12, offset / 16);
  return counter;
}

/**
 * Decrypts the `bytes` of an `upload.cdnFile` asked at `offset`, with the redirect's
 * `encryption_key` and `encryption_iv`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AesCtr } from "../crypto/ctr.ts";
 * import { cdnPartIv, decryptCdnPart } from "./cdn_parts.ts";
 * const key = new Uint8Array(32).fill(1), iv = new Uint8Array(16).fill(2);
 * const file = new Uint8Array(8192).fill(3);
 * const sealed = new AesCtr(key, cdnPartIv(iv, 0)).process(file);
 * assert.deepEqual(decryptCdnPart(key, iv, 4096, sealed.subarray(4096)), file.subarray(4096));
 * ```
 */
export function decryptCdnPart(
  key: Uint8Array,
  iv: Uint8Array,
  offset: number,
  bytes: Uint8Array,
): Uint8Array {
  if (key.length !== 32) throw new RangeError(`a CDN key has 32 bytes, got ${key.length}`);
  return new AesCtr(key, cdnPartIv(iv, offset)).process(bytes);
}

/**
 * The master DC's hashes of one CDN file, and the check of decrypted parts against them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256 } from "../crypto/hash.ts";
import type { TlObject } from "../tl/codec.ts";
 * import { CdnHashes } from "./cdn_parts.ts";
 * const part = new Uint8Array(256).fill(9);
 * const hashes = new CdnHashes();
 * hashes.add([{ offset: 0n, limit: 128, hash: sha256(part.subarray(0, 128)) }]);
 * assert.deepEqual(hashes.check(0, part), {
 *   missing: [{ offset: 128, length: 128 }],
 *   partial: [],
 * });
 * ```
 */
export class CdnHashes {
  readonly #byOffset = new Map<number, { offset: number; limit: number; hash: Uint8Array }>();
  #sorted: { offset: number; limit: number; hash: Uint8Array }[] = [];

  /** Adds hashes (`fileHash` objects of the redirect or of `upload.getCdnFileHashes`). */
  add(hashes: readonly CdnFileHash[]): void {
    for (const { offset, limit, hash } of hashes) {
      const start = Number(offset);
      if (
        !(Number.isSafeInteger(start) && start >= 0 && Number.isSafeInteger(limit) && limit > 0)
      ) {
        throw new RangeError(`a file hash covers bytes from ${offset}, ${limit} of them`);
      }
      this.#byOffset.set(start, { offset: start, limit, hash });
    }
    this.#sorted = [...this.#byOffset.values()].sort((a, b) => a.offset - b.offset);
  }

  /** How many hash windows are known. */
  get size(): number {
    return this.#sorted.length;
  }

  /**
   * Checks the decrypted `bytes` of the part at `offset`: every known window inside them must
   * match, or {@link CdnHashMismatchError} names it. `atEnd` says the file ends with these bytes
   * (a short answer), so a window reaching past them is checked on what there is.
   */
  check(offset: number, bytes: Uint8Array, options: { atEnd?: boolean } = {}): CdnCheck {
    const end = offset + bytes.length;
    const missing: ByteRange[] = [], partial: ByteRange[] = [];
    let cursor = offset;
    for (let i = this.#firstEndingAfter(offset); i < this.#sorted.length; i++) {
      const window = this.#sorted[i];
      if (window.offset >= end) break;
      const windowEnd = window.offset + window.limit;
      if (window.offset > cursor) add(missing, cursor, window.offset);
      const from = Math.max(window.offset, offset), to = Math.min(windowEnd, end);
      const whole = window.offset >= offset && (windowEnd <= end || options.atEnd === true);
      if (!whole) add(partial, Math.max(from, cursor), to);
      else if (!equal(sha256(bytes.subarray(from - offset, to - offset)), window.hash)) {
        throw new CdnHashMismatchError(window.offset, window.limit);
      }
      cursor = Math.max(cursor, to);
    }
    if (cursor < end) add(missing, cursor, end);
    return { missing, partial };
  }

  /** The index of the first window (by offset) that ends after `offset`. */
  #firstEndingAfter(offset: number): number {
    let low = 0, high = this.#sorted.length;
    // Windows do not overlap, so their ends rise with their offsets.
    while (low < high) {
      const middle = (low + high) >> 1;
      const window = this.#sorted[middle];
      if (window.offset + window.limit <= offset) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/**
 * The `fileHash` items of a `Vector<FileHash>` answer (`upload.getFileHashes`,
 * `upload.getCdnFileHashes`, `upload.reuploadCdnFile`), as {@link CdnHashes.add} takes them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileHashesOf } from "./cdn_parts.ts";
 * const hash = { _cons: "fileHash", offset: 0n, limit: 4, hash: new Uint8Array(32) };
 * assert.deepEqual(fileHashesOf([hash]), [{ offset: 0n, limit: 4, hash: hash.hash }]);
 * ```
 */
export function fileHashesOf(answer: TlObject | readonly TlObject[]): CdnFileHash[] {
  const items = Array.isArray(answer)
    ? answer as readonly TlObject[]
    : ((answer as TlObject).items as TlObject[] | undefined) ?? [];
  return items.map((hash) => ({
    offset: hash.offset as bigint,
    limit: hash.limit as number,
    hash: hash.hash as Uint8Array,
  }));
}

/** Appends [from, to) to `ranges`, merged with the last range when they touch. */
function add(ranges: ByteRange[], from: number, to: number): void {
  if (to <= from) return;
  const last = ranges.at(-1);
  if (last && last.offset + last.length === from) last.length += to - from;
  else ranges.push({ offset: from, length: to - from });
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
