/**
 * `upload.*`: the world's files, in parts, on the DC that holds them (FILE_MIGRATE elsewhere).
 *
 * @module
 */

import { RpcError } from "../../errors.ts";
import type { TlObject } from "../../tl/codec.ts";
import type { CallContext } from "../server_connection.ts";
import type { Handler, Tools } from "./tools.ts";

/** Telegram's limits: parts of at most 512 KiB, at most 4000 of them. */
const MAX_PART_BYTES = 512 * 1024;
const MAX_PARTS = 4000;

/** The handlers of this namespace, by method name. */
export function uploadMethods(tools: Tools): Record<string, Handler> {
  const { world, viewer } = tools;
  /** Stores one part of an upload, under the uploader and the client's file id. */
  const savePart = (call: TlObject, context: CallContext) => {
    const me = viewer(context);
    const part = call.file_part as number;
    const bytes = call.bytes as Uint8Array;
    if (part < 0 || part >= MAX_PARTS) throw new RpcError(400, "FILE_PART_INVALID");
    if (bytes.length > MAX_PART_BYTES) throw new RpcError(400, "FILE_PART_TOO_BIG");
    const key = `${me.id}:${call.file_id}`;
    let parts = world.uploads.get(key);
    if (!parts) world.uploads.set(key, parts = new Map());
    parts.set(part, bytes.slice());
    return true;
  };
  return {
    "upload.saveFilePart": savePart,
    "upload.saveBigFilePart": savePart,
    "upload.getFile": (call, context) => {
      viewer(context);
      const location = call.location as TlObject;
      const file = world.files.get(location.id as bigint);
      if (!file || file.accessHash !== location.access_hash) {
        throw new RpcError(400, "LOCATION_INVALID");
      }
      if (file.dcId !== context.dc.dcId) throw new RpcError(303, `FILE_MIGRATE_${file.dcId}`);
      const offset = Number(call.offset);
      const limit = call.limit as number;
      if (offset % 1024 !== 0) throw new RpcError(400, "OFFSET_INVALID");
      if (limit <= 0 || limit > 1048576 || limit % 1024 !== 0) {
        throw new RpcError(400, "LIMIT_INVALID");
      }
      return {
        _cons: "upload.file",
        type: { _cons: "storage.filePartial" },
        mtime: world.options.epoch ?? 1_700_000_000,
        bytes: file.bytes.subarray(offset, offset + limit),
      };
    },
  };
}
