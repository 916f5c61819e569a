/**
 * A download checked against `upload.getFileHashes` (https://core.telegram.org/api/files): the
 * SHA-256 of each hash window (128 KiB in practice) of the file, eight windows an answer. Hashes
 * are asked alongside the parts (one request per eight windows, on the part's connection), so a
 * part rarely waits for its hashes; the check itself is the CDN's ({@link CdnHashes}). A server
 * that gives no hashes for a file (an empty answer, or refusing the method with a 400) is not
 * asked again, and the download goes on unchecked: {@link FileHashCheck.verified} then says so.
 *
 * @module
 */

import { RpcError } from "../errors.ts";
import type { TlObject } from "../tl/codec.ts";
import { CdnHashes, fileHashesOf } from "./cdn_parts.ts";

/** The bytes each hash covers as Telegram hashes files. */
export const HASH_WINDOW = 128 * 1024;

/** The bytes one `upload.getFileHashes` answer covers as Telegram answers it (8 × 128 KiB). */
export const HASHES_SPAN = 8 * HASH_WINDOW;

/** Hash requests for one part before its bytes are taken to have no hash. */
const MAX_HASH_ASKS = 3;

/** What a part's check needs to know of it. */
export interface CheckedPart {
  /** The request's offset in the file. */
  offset: number;
  /** The request's limit: an answer shorter than it ends the file. */
  limit: number;
  /** The part's wanted bytes within the answer, [from, to). */
  from: number;
  to: number;
}

/**
 * The hashes of one file, asked as the download goes, and the check of each part against them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256 } from "../crypto/hash.ts";
 * import { FileHashCheck } from "./file_hash_check.ts";
 * const file = new Uint8Array(4096).fill(7);
 * const check = new FileHashCheck(async () => [
 *   { _cons: "fileHash", offset: 0n, limit: 4096, hash: sha256(file) },
 * ]);
 * await check.check({ offset: 0, limit: 8192, from: 0, to: 4096 }, file);
 * assert.equal(check.verified, true);
 * ```
 */
export class FileHashCheck {
  readonly #ask: (offset: number, slot: number) => Promise<TlObject | TlObject[]>;
  readonly #hashes = new CdnHashes();
  /** Requests made, by the offset asked: each is asked once unless it failed. */
  readonly #asked = new Map<number, Promise<void>>();
  #offered = true;
  #unchecked = false;

  /**
   * `ask` sends `upload.getFileHashes` for the bytes from `offset` on file connection `slot` and
   * returns its answer (a vector of `fileHash`).
   */
  constructor(ask: (offset: number, slot: number) => Promise<TlObject | TlObject[]>) {
    this.#ask = ask;
  }

  /** False once the server showed it gives no hashes for this file. */
  get offered(): boolean {
    return this.#offered;
  }

  /** True while every byte handed on so far was inside a hash window that matched. */
  get verified(): boolean {
    return this.#offered && !this.#unchecked;
  }

  /**
   * Asks, on connection `slot`, for the hashes of the bytes [`offset`, `offset + length`) not
   * asked yet: called as the part is sent, so that they are at hand when it arrives.
   */
  prefetch(offset: number, length: number, slot: number): void {
    if (!this.#offered) return;
    const first = Math.floor(offset / HASHES_SPAN) * HASHES_SPAN;
    for (let at = first; at < offset + length; at += HASHES_SPAN) {
      this.#fetch(at, slot).catch(() => {}); // its failure is met again by the part's check
    }
  }

  /**
   * Checks the answer `bytes` to `part`: throws `CdnHashMismatchError` naming the window that
   * does not match, or the hash request's error when it must be retried (a flood wait, a lost
   * connection, an expired reference: the part is then asked again).
   */
  async check(part: CheckedPart, bytes: Uint8Array, slot = 0): Promise<void> {
    const atEnd = bytes.length < part.limit;
    for (let asks = 0; this.#offered; asks++) {
      const { missing, partial } = this.#hashes.check(part.offset, bytes, { atEnd });
      if (missing.length === 0) {
        // Bytes in a window the part holds only in part (a range's short last part) go unchecked.
        const from = part.offset + part.from, to = part.offset + Math.min(part.to, bytes.length);
        if (partial.some((range) => range.offset < to && range.offset + range.length > from)) {
          this.#unchecked = true;
        }
        return;
      }
      if (asks === MAX_HASH_ASKS) break; // the server has no hash for these bytes
      const at = missing[0].offset;
      const group = Math.floor(at / HASHES_SPAN) * HASHES_SPAN;
      // The group's request first; bytes it did not cover (other windows) are asked where they are.
      await this.#fetch(asks === 0 ? group : at, slot);
    }
    this.#unchecked = true;
  }

  /** The request for the hashes from `offset`, made once (again only after it failed). */
  #fetch(offset: number, slot: number): Promise<void> {
    let pending = this.#asked.get(offset);
    if (pending) return pending;
    pending = this.#ask(offset, slot).then(
      (answer) => {
        const hashes = fileHashesOf(answer);
        if (hashes.length === 0) this.#offered = false;
        else this.#hashes.add(hashes);
      },
      (error) => {
        if (notOffered(error)) {
          this.#offered = false;
          return;
        }
        this.#asked.delete(offset);
        throw error;
      },
    );
    this.#asked.set(offset, pending);
    return pending;
  }
}

/**
 * True for a refusal that says the server will not hash this file (a 400 such as
 * LOCATION_INVALID or METHOD_INVALID), not that the request should be made again.
 */
function notOffered(error: unknown): boolean {
  return error instanceof RpcError && error.code === 400 &&
    !error.errorMessage.startsWith("FILE_REFERENCE_");
}
