/**
 * Telegram's rules for the parts of files, with its error names: the ranges upload.getFile and
 * upload.getCdnFile accept, and the parts upload.saveFilePart and upload.saveBigFilePart accept.
 * https://core.telegram.org/api/files, https://core.telegram.org/cdn
 *
 * @module
 */

import { RpcError } from "../../errors.ts";

/** A downloaded part never crosses a multiple of this (1 MiB), and is never longer. */
export const DOWNLOAD_WINDOW = 1 << 20;
/** The longest uploaded part (512 KiB); every part size divides it. */
export const MAX_UPLOAD_PART = 512 * 1024;
/** The most parts an upload may have. */
export const MAX_UPLOAD_PARTS = 4000;
/** Above this many bytes a file must be uploaded with upload.saveBigFilePart. */
export const SMALL_FILE_LIMIT = 10 * 1024 * 1024;

/**
 * Refuses a download range Telegram refuses: `offset` a multiple of 4 KiB (OFFSET_INVALID);
 * `limit` a multiple of 4 KiB that divides 1 MiB, inside one 1 MiB window (LIMIT_INVALID). With
 * `precise`, 1 KiB multiples and any limit up to 1 MiB, still inside one window.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkDownloadRange } from "./part_rules.ts";
 * checkDownloadRange(512 * 1024, 512 * 1024, false);
 * assert.throws(() => checkDownloadRange(1024, 4096, false), /OFFSET_INVALID/);
 * assert.throws(() => checkDownloadRange(512 * 1024, 1 << 20, false), /LIMIT_INVALID/);
 * assert.throws(() => checkDownloadRange(0, 12288, false), /LIMIT_INVALID/);
 * checkDownloadRange(1024, 3072, true);
 * ```
 */
export function checkDownloadRange(offset: number, limit: number, precise: boolean): void {
  const unit = precise ? 1024 : 4096;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset % unit !== 0) {
    throw new RpcError(400, "OFFSET_INVALID");
  }
  const shapeOk = precise
    ? limit % 1024 === 0 && limit <= DOWNLOAD_WINDOW
    : limit % 4096 === 0 && DOWNLOAD_WINDOW % limit === 0;
  const window = Math.floor(offset / DOWNLOAD_WINDOW);
  if (
    !Number.isInteger(limit) || limit <= 0 || !shapeOk ||
    Math.floor((offset + limit - 1) / DOWNLOAD_WINDOW) !== window
  ) {
    throw new RpcError(400, "LIMIT_INVALID");
  }
}

/** Whether `size` may be the size of every part but the last: 1 KiB multiples dividing 512 KiB. */
export function isPartSize(size: number): boolean {
  return size > 0 && size % 1024 === 0 && MAX_UPLOAD_PART % size === 0;
}

/**
 * Refuses a part for what it is alone: empty (FILE_PART_EMPTY), over 512 KiB
 * (FILE_PART_TOO_BIG), numbered outside 0..3999 or past the total (FILE_PART_INVALID), or with a
 * total outside 1..4000 (FILE_PARTS_INVALID; -1, "not known yet", is allowed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkUploadPart } from "./part_rules.ts";
 * checkUploadPart(0, 512 * 1024, -1);
 * assert.throws(() => checkUploadPart(0, 512 * 1024 + 1), /FILE_PART_TOO_BIG/);
 * assert.throws(() => checkUploadPart(4000, 1024), /FILE_PART_INVALID/);
 * assert.throws(() => checkUploadPart(3, 1024, 3), /FILE_PART_INVALID/);
 * assert.throws(() => checkUploadPart(0, 1024, 4001), /FILE_PARTS_INVALID/);
 * ```
 */
export function checkUploadPart(part: number, length: number, total?: number): void {
  if (length === 0) throw new RpcError(400, "FILE_PART_EMPTY");
  if (length > MAX_UPLOAD_PART) throw new RpcError(400, "FILE_PART_TOO_BIG");
  if (total !== undefined && total !== -1 && (total < 1 || total > MAX_UPLOAD_PARTS)) {
    throw new RpcError(400, "FILE_PARTS_INVALID");
  }
  if (
    !Number.isInteger(part) || part < 0 || part >= MAX_UPLOAD_PARTS ||
    (total !== undefined && total > 0 && part >= total)
  ) {
    throw new RpcError(400, "FILE_PART_INVALID");
  }
}
