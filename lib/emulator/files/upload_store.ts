/**
 * Uploads in progress, written to temporary files as their parts arrive (part × part size), so
 * that an upload of a gigabyte costs disk, not memory; a finished upload becomes the content of
 * the file it is sent as, read back from the same temporary file. The files go when the emulator
 * stops ({@link UploadStore.close}).
 *
 * Parts may arrive in any order (clients upload several at once), so the part size is known only
 * once a part is known not to be the last; until then the one part received waits in memory.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { RpcError } from "../../errors.ts";
import type { FileContent } from "../world_types.ts";
import { diskContent } from "./file_content.ts";
import { checkUploadPart, isPartSize, MAX_UPLOAD_PARTS, SMALL_FILE_LIMIT } from "./part_rules.ts";

/** One upload: the parts received and where they are. */
interface Upload {
  /** From upload.saveBigFilePart, once a part said it (it may say -1 until the last). */
  total?: number;
  /** The size of every part but the last, once known. */
  partSize?: number;
  /** Each received part's length. */
  sizes: Map<number, number>;
  maxPart: number;
  /** The one part whose place in the file is not known yet (the part size is not). */
  pending?: { part: number; bytes: Uint8Array };
  file?: Deno.FsFile;
}

/** What an InputFile says about a finished upload. */
export interface InputFileFields {
  _cons: string;
  id: bigint;
  parts: number;
  md5_checksum?: string;
}

/** The uploads of every account, by uploader and the client's file id. */
export class UploadStore {
  readonly #uploads = new Map<string, Upload>();
  /** Every temporary file made, open, to be closed and removed at the end. */
  readonly #files: { path: string; file: Deno.FsFile }[] = [];

  /**
   * Stores one part (upload.saveFilePart; upload.saveBigFilePart gives `total`), refusing what
   * Telegram refuses: see {@link checkUploadPart}, and FILE_PART_SIZE_INVALID for a part size that
   * is not a 1 KiB multiple dividing 512 KiB, FILE_PART_SIZE_CHANGED for a part of another size
   * than the others (only the last may be shorter), FILE_PARTS_INVALID for a total that changes.
   */
  savePart(owner: number, fileId: bigint, part: number, bytes: Uint8Array, total?: number): void {
    checkUploadPart(part, bytes.length, total);
    const key = `${owner}:${fileId}`;
    const upload: Upload = this.#uploads.get(key) ?? { sizes: new Map(), maxPart: -1 };
    const said = total !== undefined && total > 0 ? total : undefined;
    if (said !== undefined && upload.total !== undefined && said !== upload.total) {
      throw new RpcError(400, "FILE_PARTS_INVALID");
    }
    const knownTotal = said ?? upload.total;
    if (knownTotal !== undefined && upload.maxPart >= knownTotal) {
      throw new RpcError(400, "FILE_PARTS_INVALID");
    }
    // Every check before any change: a refused part leaves the upload as it was.
    const last = knownTotal !== undefined ? knownTotal - 1 : Math.max(upload.maxPart, part);
    let partSize = upload.partSize;
    const fix = (size: number) => {
      if (!isPartSize(size)) throw new RpcError(400, "FILE_PART_SIZE_INVALID");
      if (partSize !== undefined && size !== partSize) {
        throw new RpcError(400, "FILE_PART_SIZE_CHANGED");
      }
      partSize = size;
    };
    if (part < last) fix(bytes.length);
    // The part that was the highest is not the last any more: it has the common size.
    if (upload.maxPart >= 0 && upload.maxPart < last && upload.maxPart !== part) {
      fix(upload.sizes.get(upload.maxPart)!);
    }
    const lastSize = part === last ? bytes.length : upload.sizes.get(last);
    if (partSize !== undefined && lastSize !== undefined && lastSize > partSize) {
      throw new RpcError(400, "FILE_PART_SIZE_CHANGED");
    }
    upload.total = knownTotal;
    upload.partSize = partSize;
    upload.sizes.set(part, bytes.length);
    upload.maxPart = Math.max(upload.maxPart, part);
    this.#uploads.set(key, upload);
    if (partSize === undefined) {
      upload.pending = { part, bytes: bytes.slice() };
      return;
    }
    this.#write(upload, part * partSize, bytes);
    if (upload.pending && upload.pending.part !== part) {
      this.#write(upload, upload.pending.part * partSize, upload.pending.bytes);
    }
    upload.pending = undefined;
  }

  /**
   * The content of a finished upload, which leaves the store: FILE_PARTS_INVALID for a count of
   * parts outside 1..4000 or other than the upload's, FILE_PART_X_MISSING for the first part not
   * received, MD5_CHECKSUM_INVALID for an inputFile whose md5_checksum does not match (an upload
   * refused stays, to be sent again).
   */
  complete(owner: number, input: InputFileFields): FileContent {
    const key = `${owner}:${input.id}`;
    const upload = this.#uploads.get(key);
    const parts = input.parts;
    if (!Number.isInteger(parts) || parts < 1 || parts > MAX_UPLOAD_PARTS) {
      throw new RpcError(400, "FILE_PARTS_INVALID");
    }
    for (let part = 0; part < parts; part++) {
      if (!upload?.sizes.has(part)) throw new RpcError(400, `FILE_PART_${part}_MISSING`);
    }
    if ((upload!.total ?? parts) !== parts || upload!.maxPart >= parts) {
      throw new RpcError(400, "FILE_PARTS_INVALID");
    }
    const partSize = upload!.partSize ?? upload!.sizes.get(0)!;
    const size = (parts - 1) * partSize + upload!.sizes.get(parts - 1)!;
    if (upload!.pending) {
      this.#write(upload!, upload!.pending.part * partSize, upload!.pending.bytes);
      upload!.pending = undefined;
    }
    const content = diskContent(upload!.file!, size);
    // Telegram wants uploads over 10 MiB made with saveBigFilePart (inputFileBig).
    if (input._cons === "inputFile" && size > SMALL_FILE_LIMIT) {
      throw new RpcError(400, "FILE_PARTS_INVALID");
    }
    const checksum = input._cons === "inputFile" ? input.md5_checksum : undefined;
    if (checksum && md5Hex(content) !== checksum.toLowerCase()) {
      throw new RpcError(400, "MD5_CHECKSUM_INVALID");
    }
    this.#uploads.delete(key);
    return content;
  }

  /** Closes and removes every temporary file (uploads and the files made from them). */
  close(): void {
    for (const { path, file } of this.#files.splice(0)) {
      try {
        file.close();
      } catch {
        // closed already
      }
      try {
        Deno.removeSync(path);
      } catch {
        // removed already
      }
    }
    this.#uploads.clear();
  }

  /** Writes `bytes` at `position` of the upload's temporary file, made on first use. */
  #write(upload: Upload, position: number, bytes: Uint8Array): void {
    if (!upload.file) {
      const path = Deno.makeTempFileSync({ prefix: "mtproto2json-upload-" });
      upload.file = Deno.openSync(path, { read: true, write: true });
      this.#files.push({ path, file: upload.file });
    }
    upload.file.seekSync(position, Deno.SeekMode.Start);
    for (let at = 0; at < bytes.length;) at += upload.file.writeSync(bytes.subarray(at));
  }
}

/** The MD5 of a content, as lowercase hex, read a megabyte at a time. */
function md5Hex(content: FileContent): string {
  const hasher = createHash("md5");
  const buffer = new Uint8Array(1 << 20);
  for (let at = 0; at < content.size; at += buffer.length) {
    hasher.update(content.read(at, buffer.length, buffer));
  }
  return hasher.digest("hex");
}
