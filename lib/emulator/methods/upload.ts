/**
 * `upload.*` on the master DCs: uploads in parts (to temporary files, lib/emulator/files/
 * upload_store.ts), downloads in parts by Telegram's rules, file hashes, and the master DC's half
 * of CDN downloads (cdn.ts). A file is served by the DC that holds it (FILE_MIGRATE elsewhere).
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import type { TlObject } from "../../tl/codec.ts";
import type { CallContext } from "../server_connection.ts";
import type { FileContent, WorldFile } from "../world.ts";
import { checkDownloadRange } from "../files/part_rules.ts";
import { fileHashes } from "../files/file_hashes.ts";
import { cdnMasterMethods } from "./cdn.ts";
import type { Handler, Tools } from "./tools.ts";
import { filePartBody } from "../files/file_part_body.ts";

const EMPTY = new Uint8Array(0);

/** The handlers of this namespace, by method name. */
export function uploadMethods(tools: Tools): Record<string, Handler> {
  const { world, viewer } = tools;
  const service = world.fileService;

  /**
   * The file a location names and the content it asks for (a photo's size by its letter):
   * LOCATION_INVALID for no such file (or the wrong kind of location), FILE_MIGRATE_X when another
   * DC holds it, FILE_REFERENCE_* for a bad reference when references expire.
   */
  const locate = (input: unknown, context: CallContext) => {
    const location = input as TlObject;
    const isPhoto = location._cons === "inputPhotoFileLocation";
    const file = isPhoto || location._cons === "inputDocumentFileLocation"
      ? world.files.get(BigInt(location.id as bigint))
      : undefined;
    if (!file || file.accessHash !== location.access_hash || isPhoto !== Boolean(file.photo)) {
      throw new RpcError(400, "LOCATION_INVALID");
    }
    if (file.dcId !== context.dc.dcId) throw new RpcError(303, `FILE_MIGRATE_${file.dcId}`);
    service.checkReference(file, location.file_reference);
    let content: FileContent = file;
    if (isPhoto && file.photo!.sizes) {
      const size = file.photo!.sizes.find((candidate) => candidate.type === location.thumb_size);
      if (!size) throw new RpcError(400, "LOCATION_INVALID");
      content = size;
    }
    return { file, content };
  };

  /** Stores one part of an upload, under the uploader and the client's file id. */
  const savePart = (call: TlObject, context: CallContext, total?: number) => {
    const me = viewer(context);
    service.traffic.admit(context);
    service.uploads.savePart(
      me.id,
      call.file_id as bigint,
      call.file_part as number,
      call.bytes as Uint8Array,
      total,
    );
    return true;
  };

  /** An upload.file answer of `bytes` of `file`. */
  const fileAnswer = (file: WorldFile, bytes: Uint8Array) => ({
    _cons: "upload.file",
    type: { _cons: "storage.filePartial" },
    mtime: mtimeOf(file, world.options.epoch),
    bytes,
  });

  return {
    "upload.saveFilePart": (call, context) => savePart(call, context),
    "upload.saveBigFilePart": (call, context) =>
      savePart(call, context, call.file_total_parts as number),

    // A part of a file: fewer bytes at its end, none past it; a CDN file, to a client that can
    // fetch it there, is a redirect to the CDN DC.
    "upload.getFile": (call, context) => {
      viewer(context);
      service.traffic.admit(context);
      const { file, content } = locate(call.location, context);
      const offset = Number(call.offset);
      const limit = call.limit as number;
      checkDownloadRange(offset, limit, Boolean(call.precise));
      if (file.cdn && call.cdn_supported && service.cdn.address) {
        return service.cdn.redirect(file, offset, context.dc.random);
      }
      if (content.compressible && context.answer) context.answer.uncompressed = false;
      const corrupt = world.options.fileCorruptOffset;
      const count = Math.max(0, Math.min(limit, content.size - offset));
      if (
        context.answer && !content.compressible &&
        (corrupt === undefined || corrupt < offset || corrupt >= offset + count)
      ) {
        // Made straight into the message it goes in (file_part_body.ts): the fields before the
        // bytes are encoded here, the bytes read into place when the message is written.
        const head = context.dc.codec.encodeType("upload.File", fileAnswer(file, EMPTY));
        context.answer.encoded = filePartBody(
          head.subarray(0, head.length - 4),
          content,
          offset,
          count,
        );
        return fileAnswer(file, EMPTY);
      }
      // Encoded into the answer before any other call runs, so the shared buffer is safe.
      const bytes = content.read(offset, limit, service.scratch);
      if (corrupt !== undefined && corrupt >= offset && corrupt < offset + bytes.length) {
        // (A memory file's read is a view of the file itself: the flip goes on a copy.)
        const copy = bytes.buffer === service.scratch.buffer ? bytes : bytes.slice();
        copy[corrupt - offset] ^= 0x01;
        return fileAnswer(file, copy);
      }
      return fileAnswer(file, bytes);
    },

    // SHA-256 of 128 KiB windows, eight from the one holding `offset`.
    "upload.getFileHashes": (call, context) => {
      viewer(context);
      return fileHashes(locate(call.location, context).content, Number(call.offset));
    },

    ...cdnMasterMethods(tools),
  };
}

/** When the file was stored, as upload.file's mtime. */
function mtimeOf(file: WorldFile, epoch?: number): number {
  return file.date ?? epoch ?? 1_700_000_000;
}
