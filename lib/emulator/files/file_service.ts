/**
 * Everything the world knows about files besides the files themselves: uploads in progress, the
 * pace of file requests, file references, the CDN, the media-only ports — one object, reached as
 * `world.fileService` by the methods that need it.
 *
 * @module
 */

import type { Clock } from "../../io/clock.ts";
import type { WorldFile, WorldOptions } from "../world_types.ts";
import { CdnFiles } from "./cdn_files.ts";
import { checkFileReference, issueFileReference } from "./file_reference.ts";
import { FileTraffic } from "./file_traffic.ts";
import { DOWNLOAD_WINDOW } from "./part_rules.ts";
import { UploadStore } from "./upload_store.ts";

/** The world's file machinery. */
export class FileService {
  readonly uploads = new UploadStore();
  readonly traffic: FileTraffic;
  readonly cdn: CdnFiles;
  /** The media-only listener of each DC (help.getConfig lists it), set by the emulator. */
  readonly mediaPorts = new Map<number, number>();
  /**
   * One part-sized buffer for every answer: a part is read into it and copied when the answer is
   * encoded, before any other call runs (a fresh megabyte per part costs more than its content).
   */
  readonly scratch = new Uint8Array(DOWNLOAD_WINDOW);

  /** `clock` issues and checks references and CDN tokens, whichever DC asks. */
  constructor(readonly options: WorldOptions, readonly clock: Clock) {
    this.traffic = new FileTraffic(options);
    this.cdn = new CdnFiles(() => this.nowSeconds(), () => options.cdnTokenTtlSeconds);
  }

  /** The emulator's time in unix seconds. */
  nowSeconds(): number {
    return Math.floor(this.clock.wall() / 1000);
  }

  /** Gives `file` its reference maker: each one stamped with the time it is handed out. */
  stamp(file: WorldFile): WorldFile {
    file.reference = () => issueFileReference(file, this.nowSeconds());
    return file;
  }

  /** With `fileRefTtlSeconds` set, refuses a reference that is empty, not `file`'s, or old. */
  checkReference(file: WorldFile, reference: unknown): void {
    const ttl = this.options.fileRefTtlSeconds;
    if (ttl === undefined) return;
    const bytes = reference instanceof Uint8Array ? reference : new Uint8Array(0);
    checkFileReference(file, bytes, this.nowSeconds(), ttl);
  }

  /** Removes the temporary files of uploads. */
  close(): void {
    this.uploads.close();
  }
}
