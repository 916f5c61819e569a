/**
 * Which `upload.getFile` requests cover a download, and how their answers become exactly the
 * wanted bytes. Telegram takes a part only when its offset is a multiple of 4 KiB, its limit a
 * multiple of 4 KiB that divides 1 MiB, and the part stays inside one 1 MiB block
 * (https://core.telegram.org/api/files). Parts here are all of one size and start on multiples
 * of it, so every part but the last obeys those rules by construction; the last one is shrunk to
 * the smallest allowed limit that still reaches the end of the range. No I/O: the caller sends
 * the parts and feeds their answers back in any order.
 *
 * @module
 */

import { Mtproto2jsonError } from "../errors.ts";

/** Offsets and limits of `upload.getFile` are multiples of this (4 KiB). */
export const FILE_ALIGN = 4096;
/** No part may cross a multiple of this (1 MiB), and every limit divides it. */
export const FILE_BLOCK = 1024 * 1024;
/**
 * The default part size: the largest Telegram serves, so a file takes the fewest round trips
 * (512 KiB, which the docs also name, doubles them).
 */
export const DEFAULT_DOWNLOAD_PART = FILE_BLOCK;

/** A download range or part size Telegram would refuse, named before anything is sent. */
export class FileRangeError extends Mtproto2jsonError {
  override name = "FileRangeError";
}

/** An answer that does not fit the part it answers (longer than asked, or short too early). */
export class FilePartError extends Mtproto2jsonError {
  override name = "FilePartError";
}

/** What to download: all optional; byte values need no alignment. */
export interface DownloadSpan {
  /** The file's size in bytes when known (a document's `size`); unknown: read to a short part. */
  size?: number;
  /** The first wanted byte (default 0). */
  offset?: number;
  /** How many bytes are wanted (default: to the end of the file). */
  length?: number;
  /** Bytes per request: a multiple of 4 KiB that divides 1 MiB (default 1 MiB). */
  partSize?: number;
  /**
   * The least a shrunk last part asks (at most the part size): a hash window, so that a range's
   * last bytes can be checked against their hash (default 4 KiB).
   */
  minLimit?: number;
}

/** One `upload.getFile` request and the slice of its answer that belongs to the wanted range. */
export interface FilePart {
  /** Position in the sequence, from 0; answers are reassembled by it. */
  index: number;
  /** The request's `offset`. */
  offset: number;
  /** The request's `limit`. */
  limit: number;
  /** The first byte of the answer to keep. */
  from: number;
  /** One past the last byte of the answer to keep (the answer may end sooner). */
  to: number;
}

/** The bytes of one answer that belong to the range, and whether the download ends with it. */
export interface PartCut {
  /** The wanted bytes of this part (a view into the answer). */
  bytes: Uint8Array;
  /** True when no part after this one is needed: the range or the file ends in it. */
  last: boolean;
}

/**
 * The parts of one download: computed on demand, so an unknown size is an endless sequence that
 * the first short answer ends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DownloadPlan } from "./file_parts.ts";
 * const plan = new DownloadPlan({ size: 3_000_000, offset: 1_500_000, length: 10 });
 * const part = plan.part(0)!;
 * assert.deepEqual(part, { index: 0, offset: 1_048_576, limit: 524_288, from: 451_424, to: 451_434 });
 * assert.equal(plan.count, 1);
 * ```
 */
export class DownloadPlan {
  /** The first wanted byte. */
  readonly start: number;
  /** One past the last wanted byte, or undefined while the file's end is unknown. */
  readonly end: number | undefined;
  /** The file's size, when known. */
  readonly size: number | undefined;
  /** Bytes per part (the last part may ask for less). */
  readonly partSize: number;
  /** How many parts cover the range, or undefined while the end is unknown. */
  readonly count: number | undefined;
  readonly #first: number;
  readonly #minLimit: number;

  /** Plans `span`; throws {@link FileRangeError} for negative or fractional values. */
  constructor(span: DownloadSpan = {}) {
    const { size, offset = 0, length, partSize = DEFAULT_DOWNLOAD_PART, minLimit = 0 } = span;
    for (const [name, value] of [["size", size], ["offset", offset], ["length", length]] as const) {
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
        throw new FileRangeError(`${name} must be a whole number of bytes ≥ 0, got ${value}`);
      }
    }
    if (!isDownloadLimit(partSize)) {
      throw new FileRangeError(
        `part size ${partSize} is not a multiple of 4096 that divides 1048576 (1 MiB)`,
      );
    }
    this.size = size;
    this.partSize = partSize;
    this.#minLimit = Math.min(minLimit, partSize);
    this.start = offset;
    const ends = [size, length === undefined ? undefined : offset + length]
      .filter((end) => end !== undefined);
    this.end = ends.length ? Math.max(offset, Math.min(...ends)) : undefined;
    // Parts start on multiples of the part size: since it divides 1 MiB, none crosses a block.
    this.#first = Math.floor(offset / partSize) * partSize;
    this.count = this.end === undefined
      ? undefined
      : this.end === this.start
      ? 0
      : Math.ceil((this.end - this.#first) / partSize);
  }

  /** Part number `index`, or undefined past the last one. */
  part(index: number): FilePart | undefined {
    if (!(Number.isSafeInteger(index) && index >= 0)) return undefined;
    if (this.count !== undefined && index >= this.count) return undefined;
    const offset = this.#first + index * this.partSize;
    let limit = this.partSize;
    // The last part asks only for what the range still needs, rounded up to an allowed limit;
    // its offset is a multiple of the part size, hence of any smaller power of two.
    if (this.end !== undefined && this.end - offset < limit) {
      limit = downloadLimitFor(Math.max(this.end - offset, this.#minLimit));
    }
    return {
      index,
      offset,
      limit,
      from: Math.max(this.start, offset) - offset,
      to: (this.end === undefined ? offset + limit : Math.min(this.end, offset + limit)) - offset,
    };
  }

  /**
   * The wanted bytes of `answer`, the `bytes` Telegram returned for `part`; throws
   * {@link FilePartError} for an answer longer than asked, or one that ends before the file's
   * known size says it should.
   */
  cut(part: FilePart, answer: Uint8Array): PartCut {
    if (answer.length > part.limit) {
      throw new FilePartError(
        `part ${part.index} (offset ${part.offset}) asked for ${part.limit} bytes, got ${answer.length}`,
      );
    }
    if (this.size !== undefined) {
      const expected = Math.min(part.limit, Math.max(0, this.size - part.offset));
      if (answer.length !== expected) {
        throw new FilePartError(
          `part ${part.index} (offset ${part.offset}) has ${answer.length} bytes where a file of ` +
            `${this.size} bytes has ${expected}`,
        );
      }
    }
    const short = answer.length < part.limit;
    const last = short || (this.count !== undefined && part.index === this.count - 1);
    const from = Math.min(part.from, answer.length);
    return { bytes: answer.subarray(from, Math.max(from, Math.min(part.to, answer.length))), last };
  }
}

/**
 * True when `limit` is one Telegram takes for `upload.getFile`: a multiple of 4 KiB dividing
 * 1 MiB (4 KiB × 2^k for k = 0 … 8).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDownloadLimit } from "./file_parts.ts";
 * assert.ok(isDownloadLimit(524_288) && isDownloadLimit(4096));
 * assert.ok(!isDownloadLimit(12_288) && !isDownloadLimit(2_097_152));
 * ```
 */
export function isDownloadLimit(limit: number): boolean {
  return Number.isSafeInteger(limit) && limit >= FILE_ALIGN && limit % FILE_ALIGN === 0 &&
    FILE_BLOCK % limit === 0;
}

/** The smallest allowed limit that holds `bytes` (at most 1 MiB). */
function downloadLimitFor(bytes: number): number {
  let limit = FILE_ALIGN;
  while (limit < bytes && limit < FILE_BLOCK) limit *= 2;
  return limit;
}

/**
 * Puts cut parts back in order: parts arrive in any order and come out as soon as every part
 * before them is in. It holds what arrived early; {@link heldBytes} lets the caller stop asking
 * for parts far ahead when too much is held.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PartReassembler } from "./file_parts.ts";
 * const parts = new PartReassembler();
 * assert.deepEqual(parts.add(1, Uint8Array.of(3, 4), true), []);
 * assert.equal(parts.heldBytes, 2);
 * assert.deepEqual(parts.add(0, Uint8Array.of(1, 2)), [Uint8Array.of(1, 2), Uint8Array.of(3, 4)]);
 * assert.ok(parts.done);
 * ```
 */
export class PartReassembler {
  #next = 0;
  #last: number | undefined;
  readonly #held = new Map<number, Uint8Array>();
  #heldBytes = 0;

  /**
   * Takes the cut bytes of part `index` (`last` when the download ends with it) and returns the
   * bytes now in order, oldest first. A part already taken, or one past the last, is ignored.
   */
  add(index: number, bytes: Uint8Array, last = false): Uint8Array[] {
    if (this.#last !== undefined && index > this.#last) return [];
    if (index < this.#next || this.#held.has(index)) return [];
    if (last) {
      this.#last = index;
      // An unknown size found its end: parts answered past it (empty or not) are not the file's.
      for (const [held, heldBytes] of this.#held) {
        if (held <= index) continue;
        this.#held.delete(held);
        this.#heldBytes -= heldBytes.length;
      }
    }
    this.#held.set(index, bytes);
    this.#heldBytes += bytes.length;
    const out: Uint8Array[] = [];
    for (let next = this.#held.get(this.#next); next; next = this.#held.get(this.#next)) {
      this.#held.delete(this.#next++);
      this.#heldBytes -= next.length;
      if (next.length) out.push(next);
    }
    return out;
  }

  /** The index of the first part not yet released. */
  get next(): number {
    return this.#next;
  }

  /** Bytes held because a part before them is missing. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Parts held because a part before them is missing. */
  get heldParts(): number {
    return this.#held.size;
  }

  /** True once the last part and everything before it have been released. */
  get done(): boolean {
    return this.#last !== undefined && this.#next > this.#last;
  }
}
