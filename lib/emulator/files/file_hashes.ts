/**
 * FileHash lists, as upload.getFileHashes, upload.getCdnFileHashes, upload.reuploadCdnFile and
 * upload.fileCdnRedirect give them: the SHA-256 of each 128 KiB window of a file, eight windows
 * (1 MiB) from the one that holds the offset asked.
 *
 * @module
 */

import type { TlObject } from "../../tl/codec.ts";
import { sha256 } from "../../crypto/hash.ts";
import type { FileContent } from "../world_types.ts";

/** The window each hash covers. */
export const HASH_WINDOW = 128 * 1024;
/** Windows per answer. */
export const HASHES_PER_CALL = 8;

/**
 * The fileHash objects of `content` from the window holding `offset` on (none past the end).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileHashes } from "./file_hashes.ts";
 * import { memoryContent } from "./file_content.ts";
 * const hashes = fileHashes(memoryContent(new Uint8Array(300_000)), 140_000);
 * assert.deepEqual(hashes.map((hash) => [hash.offset, hash.limit]), [
 *   [131072, 131072],
 *   [262144, 37856],
 * ]);
 * ```
 */
export function fileHashes(content: FileContent, offset: number): TlObject[] {
  const hashes: TlObject[] = [];
  let start = Math.floor(Math.max(0, offset) / HASH_WINDOW) * HASH_WINDOW;
  const buffer = new Uint8Array(HASH_WINDOW);
  for (let i = 0; i < HASHES_PER_CALL && start < content.size; i++, start += HASH_WINDOW) {
    const bytes = content.read(start, HASH_WINDOW, buffer);
    hashes.push({ _cons: "fileHash", offset: start, limit: bytes.length, hash: sha256(bytes) });
  }
  return hashes;
}
